"""``GET /v1/config/runtime``: the original's snake_case shape."""

from __future__ import annotations

from typing import Any

from resolvers import runtime
from rest.router import RestRequest
from rest.views import snake


async def runtime_config(req: RestRequest) -> dict[str, Any]:
    return snake(await runtime.runtime_config(req.ctx))
