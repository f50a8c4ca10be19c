"""The ``info`` argument of every field resolver: strawberry's ``Info`` over our context."""

from __future__ import annotations

from strawberry.types import Info

from resolvers.context import Context

CtxInfo = Info[Context, None]
