"""GraphQL fields of usage reports."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import usage
from schema.info import CtxInfo
from schema.types.usage import UsageHistory, UsageRealtime, UsageSummary


@strawberry.type
class UsageQueries:
    @strawberry.field(description="Units used today and this month against the plan "
                      "(a superadmin sees everyone's totals).")  # fmt: skip
    async def usage_summary(self, info: CtxInfo) -> UsageSummary | None:
        return UsageSummary.from_domain(await usage.usage_summary(info.context))

    @strawberry.field(description="Usage per day and operation, newest first (days 1-365).")
    async def usage_history(
        self,
        info: CtxInfo,
        days: Annotated[
            int | None,
            strawberry.argument(description="How many days back, 1 to 365 (default 30)."),
        ] = None,
    ) -> UsageHistory | None:
        return UsageHistory.from_domain(await usage.usage_history(info.context, days))

    @strawberry.field(description="The last minute of calls, across every server process.")
    async def usage_realtime(self, info: CtxInfo) -> UsageRealtime | None:
        return UsageRealtime.from_domain(await usage.usage_realtime(info.context))
