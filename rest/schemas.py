"""JSON Schema of /v1 bodies, from the Python types the handlers use (issue 11, item 7).

A handler's return annotation is its response type: a ``TypedDict`` (mypy checks every
dict the handler builds against it; ``NotRequired`` keys are the ones a view may leave
out), a union of them, ``None`` (no data), or ``Annotated[…, Shape(T)]`` for a view that
``rest.views.camel``/``snake`` renders from the read model ``T`` (the dataclass is then
the one definition of the shape, here too). ``Annotated[str, EnumOf(E)]`` is a string
holding one of the enum's values. :func:`json_schema` turns any of these into JSON Schema
(OpenAPI 3.1), with ``required`` lists, enums and ``null`` where a value may be absent.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict


@dataclass(frozen=True, slots=True)
class Shape:
    """The JSON ``camel`` (camelCase keys) or ``snake`` (field names) makes of ``model``."""

    model: type
    keys: Literal["camel", "snake"] = "camel"


@dataclass(frozen=True, slots=True)
class EnumOf:
    """A string that is one of ``enum``'s values."""

    enum: type[enum.Enum]


@dataclass(frozen=True, slots=True)
class Example:
    """An example value for the documentation (and for generated clients' docs)."""

    value: Any


Keys = Literal["camel", "snake", "as-is"]
_TIME = {"type": "string", "format": "date-time", "examples": ["2026-01-31T12:00:00Z"]}


class Schemas:
    """Builds JSON Schema for Python types; with ``components``, each ``TypedDict`` and
    read model becomes a named schema there, referred to by ``$ref`` (generated clients
    then name their types after ours)."""

    def __init__(self, components: dict[str, Any] | None = None) -> None:
        self.components = components
        self._names: dict[tuple[type, str], str] = {}

    def of(self, tp: Any, keys: Keys = "as-is") -> dict[str, Any]:
        """JSON Schema for the Python type ``tp`` as the /v1 views encode it."""
        origin = get_origin(tp)
        if origin in (typing.NotRequired, typing.Required):
            return self.of(get_args(tp)[0], keys)  # (a TypedDict key's marks)
        if origin is typing.Annotated:
            base, *meta = get_args(tp)
            for item in meta:
                if isinstance(item, Shape):
                    return self.of(item.model, item.keys)
                if isinstance(item, EnumOf):
                    return {"type": "string", "enum": [m.value for m in item.enum]}
                if isinstance(item, type) and (
                    is_typeddict(item) or dataclasses.is_dataclass(item)
                ):
                    return self.of(item, keys)  # Annotated[EncodedJson, UserProto]
            schema = self.of(base, keys)
            for item in meta:
                if isinstance(item, Example):
                    schema = {**schema, "examples": [item.value]}
            return schema
        if origin in (Union, types.UnionType):
            members = get_args(tp)
            nullable = type(None) in members
            present = [m for m in members if m is not type(None)]
            if len(present) == 1:
                inner = self.of(present[0], keys)
                return _nullable(inner) if nullable else inner
            options = [self.of(m, keys) for m in present]
            if nullable:
                options.append({"type": "null"})
            return {"anyOf": options}
        if origin is Literal:
            return {"enum": list(get_args(tp))}
        if origin in (list, tuple) or tp in (list, tuple):
            args = [a for a in get_args(tp) if a is not Ellipsis]
            return {"type": "array", "items": self.of(args[0], keys) if args else {}}
        if origin is dict or tp is dict:
            pair = get_args(tp)
            value = self.of(pair[1], keys) if len(pair) == 2 else {}
            return {"type": "object", "additionalProperties": value}
        if tp is type(None) or tp is None:
            return {"type": "null"}
        if tp is Any or tp is object:
            return {}
        if isinstance(tp, type):
            return self._class(tp, keys)
        raise TypeError(f"no JSON Schema for {tp!r}")

    def _class(self, tp: type, keys: Keys) -> dict[str, Any]:
        if issubclass(tp, enum.Enum):
            return {"type": "string", "enum": [m.value for m in tp]}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            return {"type": "integer"}
        if tp is float:
            return {"type": "number"}
        if tp is str:
            return {"type": "string"}
        if tp is datetime:
            return dict(_TIME)
        if tp is date:
            return {"type": "string", "format": "date"}
        if is_typeddict(tp):
            hints = get_type_hints(tp, include_extras=True)
            # From the hints, not ``__required_keys__``: Python 3.11 misses ``NotRequired``
            # in postponed (string) annotations.
            total = bool(getattr(tp, "__total__", True))
            required = frozenset(
                key for key, hint in hints.items()
                if get_origin(hint) is typing.Required
                or (total and get_origin(hint) is not typing.NotRequired)
            )  # fmt: skip
            return self._named(tp, keys, lambda: self._object(hints, required, keys))
        if dataclasses.is_dataclass(tp):
            hints = get_type_hints(tp, include_extras=True)
            names = [f.name for f in dataclasses.fields(tp)]
            every = frozenset(names)
            return self._named(
                tp, keys, lambda: self._object({n: hints[n] for n in names}, every, keys)
            )
        raise TypeError(f"no JSON Schema for {tp!r}")

    def _named(self, tp: type, keys: Keys, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self.components is None:
            return build()
        name = self._names.get((tp, keys))
        if name is None:
            name = tp.__name__ if keys != "snake" else f"{tp.__name__}Snake"
            if name in self.components:  # another type of the same name
                name = f"{tp.__module__.split('.')[-1].title()}{name}"
            self._names[(tp, keys)] = name
            self.components[name] = {}  # (a recursive type refers to itself)
            schema = build()
            doc = tp.__doc__
            if doc and not doc.startswith(f"{tp.__name__}("):  # not the dataclass default
                schema = {"description": " ".join(doc.split()), **schema}
            self.components[name] = schema
        return {"$ref": f"#/components/schemas/{name}"}

    def _object(
        self, hints: dict[str, Any], required: frozenset[str], keys: Keys
    ) -> dict[str, Any]:
        name = _camel_case if keys == "camel" else str
        properties = {name(field): self.of(hint, keys) for field, hint in hints.items()}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        needed = [name(field) for field in hints if field in required]
        if needed:
            schema["required"] = needed
        return schema


def json_schema(tp: Any, keys: Keys = "as-is") -> dict[str, Any]:
    """JSON Schema for ``tp``, every object inline."""
    return Schemas().of(tp, keys)


def _camel_case(name: str) -> str:  # as ``rest.views.camel`` spells keys
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        out = {**schema, "type": [kind, "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [schema, {"type": "null"}]}
