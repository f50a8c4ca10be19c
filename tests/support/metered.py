"""A metered test operation on both edges, until music operations exist: ``testMetered``
(GraphQL query) and ``GET /v1/test/metered`` (its twin), weight 3 like a song URL.
``fail: true`` / ``?fail=1`` makes it fail "upstream", so its units must come back."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.errors import Unauthenticated, UpstreamFailed
from domain.quota.metering import metered
from resolvers.context import Context
from rest.envelope import Style
from rest.router import RestRequest, Route
from schema.root import Query

TEST_METERED = metered("testMetered", "test.metered", 3)


async def _operation(ctx: Context, fail: bool) -> int:
    if ctx.principal.user_id is None:
        raise Unauthenticated()
    if fail:
        raise UpstreamFailed()
    return TEST_METERED.weight


@strawberry.type
class MeteredQuery(Query):
    @strawberry.field
    async def test_metered(self, info: Info[Context, None], fail: bool = False) -> int:
        return await _operation(info.context, fail)


async def _handler(req: RestRequest) -> dict[str, int]:
    return {"units": await _operation(req.ctx, req.query("fail") in ("1", "true"))}


METERED_ROUTE = Route(
    "GET", "/v1/test/metered", _handler, Style.GIN, "A metered test operation",
    auth="session", twin="testMetered",
)  # fmt: skip
