"""``GET /v1/config/runtime``: the original's snake_case shape."""

from __future__ import annotations

from typing import Annotated

from domain.runtime import RuntimeConfig
from resolvers import runtime
from rest.router import RestRequest
from rest.schemas import Shape
from rest.views import snake


async def runtime_config(
    req: RestRequest,
) -> Annotated[dict[str, object], Shape(RuntimeConfig, "snake")]:
    return snake(await runtime.runtime_config(req.ctx))
