"""Shared plumbing of the root types: mutations answer a payload with ``errors``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from strawberry.types import Info

from domain.errors import DomainError
from resolvers.context import Context
from schema.errors import UserError

P = TypeVar("P")
R = TypeVar("R")

CtxInfo = Info[Context, None]


async def payload(
    make: Callable[..., P], call: Awaitable[R], build: Callable[[R], dict[str, Any]]
) -> P:
    """Await ``call``; a ``DomainError`` becomes the payload's ``errors``."""
    try:
        value = await call
    except DomainError as error:
        return make(errors=[UserError.from_domain(error)])
    return make(**build(value))
