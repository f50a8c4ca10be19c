"""``GET /v1/usage/rate-limit``: the limits this caller is measured against (new)."""

from __future__ import annotations

from typing import Annotated

from domain.quota.service import QuotaStatus
from resolvers import quota
from rest.router import RestRequest
from rest.schemas import Shape
from rest.views import camel


async def rate_limit(req: RestRequest) -> Annotated[dict[str, object], Shape(QuotaStatus)]:
    return camel(await quota.rate_limit(req.ctx))
