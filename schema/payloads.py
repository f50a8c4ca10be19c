"""The one error path of mutations: a payload carries the result or the ``errors``.

``payload(Payload, ctx, call)`` awaits the resolver call. A ``DomainError`` becomes the
payload's ``errors``; otherwise the value fills the payload's result field, which the
helper finds itself (the one field besides ``errors``). A payload with several result
fields (``cooldownSeconds`` and ``expiresInSeconds``) takes them from the value's
attributes of the same names. A domain value is turned into the field's GraphQL type by
that type's ``from_domain(value, ctx)``; plain values (bool, int, strings) pass as they are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition

from domain.errors import DomainError
from resolvers.context import Context
from schema.errors import UserError

P = TypeVar("P")

Convert = Callable[[Any, Context], Any]


async def payload(make: type[P], ctx: Context, call: Awaitable[Any]) -> P:
    try:
        value = await call
    except DomainError as error:
        return make(errors=[UserError.from_domain(error)])  # type: ignore[call-arg]
    fields = _result_fields(make)
    if len(fields) == 1:
        [(name, convert)] = fields
        return make(**{name: convert(value, ctx)})
    return make(**{name: convert(getattr(value, name), ctx) for name, convert in fields})


_RESULT_FIELDS: dict[type, tuple[tuple[str, Convert], ...]] = {}
_NOT_RESULTS = frozenset({"errors", "client_mutation_id"})
"""A payload's fields that no resolver value fills: its errors, and the client's echoed id."""


def _result_fields(make: type) -> tuple[tuple[str, Convert], ...]:
    """The payload's fields besides ``errors``, with how to convert a value for each
    (worked out once per payload type)."""
    found = _RESULT_FIELDS.get(make)
    if found is None:
        definition = get_object_definition(make, strict=True)
        found = _RESULT_FIELDS[make] = tuple(
            (field.python_name, _converter(field.type))
            for field in definition.fields
            if field.python_name not in _NOT_RESULTS
        )
    return found


def _converter(graphql_type: Any) -> Convert:
    if isinstance(graphql_type, StrawberryOptional):
        inner = _converter(graphql_type.of_type)
        return lambda value, ctx: None if value is None else inner(value, ctx)
    if isinstance(graphql_type, StrawberryList):
        item = _converter(graphql_type.of_type)
        return lambda values, ctx: [item(v, ctx) for v in values]
    from_domain = getattr(graphql_type, "from_domain", None)
    if from_domain is not None:
        return from_domain  # type: ignore[no-any-return]
    return lambda value, ctx: value
