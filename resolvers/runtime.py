"""Resolver of the public runtime configuration."""

from __future__ import annotations

from domain.runtime import RuntimeConfig
from resolvers.context import Context


async def runtime_config(ctx: Context) -> RuntimeConfig:
    return ctx.services.runtime
