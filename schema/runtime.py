"""GraphQL field of the public runtime configuration."""

from __future__ import annotations

import strawberry

from resolvers import runtime
from schema.info import CtxInfo
from schema.types.runtime import RuntimeConfig


@strawberry.type
class RuntimeQueries:
    @strawberry.field(description="Public runtime configuration (no secrets).")
    async def runtime_config(self, info: CtxInfo) -> RuntimeConfig:
        return RuntimeConfig.from_domain(await runtime.runtime_config(info.context))
