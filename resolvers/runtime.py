"""Resolver of the public runtime configuration."""

from __future__ import annotations

from resolvers.context import Context
from schema.runtime import RuntimeConfig


async def runtime_config(ctx: Context) -> RuntimeConfig:
    return RuntimeConfig.from_domain(ctx.services.runtime)
