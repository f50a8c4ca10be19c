"""GraphQL object types that mirror a domain read model: one shape, declared once.

A read model the API shows field for field (a usage report, the two-factor status, the
runtime configuration) is a frozen dataclass in the domain. ``mirror`` makes its GraphQL
type from it: the same fields, in the same order, with the same types (tuples become
lists, nested read models and enums their mirrored GraphQL types); the class body adds
only what GraphQL needs besides (descriptions). ``from_domain`` copies the values.

    @mirror(usage.UsageRealtime, description="The last minute of calls.")
    class UsageRealtime(Mirrored):
        pass
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import operator
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_args, get_origin

import strawberry

T = TypeVar("T")
M = TypeVar("M", bound="Mirrored")

_MIRRORS: dict[type, type] = {}
"""Domain type -> its GraphQL type (read models and enums)."""


def mirror_enum(domain: type[enum.Enum], graphql: type[enum.Enum]) -> None:
    """Declare that ``graphql`` (a strawberry enum with the same values) shows ``domain``."""
    _MIRRORS[domain] = graphql


def mirror(
    domain: type,
    *,
    name: str | None = None,
    description: str | None = None,
    descriptions: Mapping[str, str] | None = None,
    deprecations: Mapping[str, str] | None = None,
    types: Mapping[str, Any] | None = None,
) -> Callable[[type[M]], type[M]]:
    """The GraphQL type of the read model ``domain`` (see the module's docstring).
    ``descriptions`` documents fields by name; ``deprecations`` gives a field's reason;
    ``types`` narrows a field the domain keeps as a string to a GraphQL enum of the same
    values (a provider name; ``from_domain`` turns the value into the enum's)."""
    notes = dict(descriptions or {})
    retired = dict(deprecations or {})
    narrowed = dict(types or {})

    def make(cls: type[M]) -> type[M]:
        hints = typing.get_type_hints(domain)
        names = [f.name for f in dataclasses.fields(domain)]
        unknown = (set(notes) | set(retired) | set(narrowed)) - set(names)
        if unknown:
            raise TypeError(f"{cls.__name__}: no such field(s) of {domain.__name__}: {unknown}")
        cls.__annotations__ = {
            field: narrowed.get(field) or _graphql_type(hints[field]) for field in names
        }
        for field in notes.keys() | retired.keys():
            reason = retired.get(field)
            setattr(
                cls,
                field,
                strawberry.field(description=notes.get(field), deprecation_reason=reason),
            )
        cls.__mirrors__ = domain
        cls.__narrowed__ = narrowed
        made: type[M] = strawberry.type(cls, name=name, description=description)
        _MIRRORS[domain] = made
        return made

    return make


class Mirrored:
    """The base of a mirrored type: ``from_domain`` copies a read model's values."""

    __mirrors__: typing.ClassVar[type]
    __narrowed__: typing.ClassVar[Mapping[str, Any]] = {}

    @classmethod
    def from_domain(cls: type[M], value: Any, ctx: object = None) -> M:
        names = [f.name for f in dataclasses.fields(cls.__mirrors__)]
        return cls(**{name: cls._value(name, getattr(value, name)) for name in names})

    @classmethod
    def _value(cls, name: str, value: Any) -> Any:
        narrowed = cls.__narrowed__.get(name)
        if narrowed is not None and value is not None:
            return narrowed(value)
        return _graphql_value(value)


def _graphql_type(hint: Any) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (tuple, list):
        return list[_graphql_type(args[0])]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, (_graphql_type(arg) for arg in args))
    return _MIRRORS.get(hint, hint)


def _graphql_value(value: Any) -> Any:
    mirrored = _MIRRORS.get(type(value))
    if mirrored is not None:
        if isinstance(value, enum.Enum):
            return mirrored(value.value)
        return mirrored.from_domain(value)  # type: ignore[attr-defined]
    if isinstance(value, tuple):
        return [_graphql_value(item) for item in value]
    return value
