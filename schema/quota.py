"""GraphQL fields of the quota gate."""

from __future__ import annotations

import strawberry

from resolvers import quota
from schema.info import CtxInfo
from schema.types.quota import RateLimitStatus


@strawberry.type
class QuotaQueries:
    @strawberry.field(description="The limits this caller is measured against, and what "
                      "remains of them (nothing is charged for asking).")  # fmt: skip
    async def rate_limit(self, info: CtxInfo) -> RateLimitStatus | None:
        return RateLimitStatus.from_domain(await quota.rate_limit(info.context))
