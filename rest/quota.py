"""``GET /v1/usage/rate-limit``: the limits this caller is measured against (new)."""

from __future__ import annotations

from typing import Any

from resolvers import quota
from rest.router import RestRequest
from rest.views import camel


async def rate_limit(req: RestRequest) -> dict[str, Any]:
    return camel(await quota.rate_limit(req.ctx))
