"""/v1/usage routes (gin): the original's paths and shapes."""

from __future__ import annotations

from typing import Annotated, TypedDict

from domain.usage.service import UsageRealtime, UsageSummary
from resolvers import usage
from rest.router import RestRequest
from rest.schemas import Shape
from rest.views import camel


class UsageDay(TypedDict):
    date: str
    """The day (ISO date, UTC)."""
    provider: str
    operation: str
    count: int
    weightSum: int


class History(TypedDict):
    days: list[UsageDay]
    total: int


HISTORY_FALLBACK_DAYS = 30


async def usage_summary(req: RestRequest) -> Annotated[dict[str, object], Shape(UsageSummary)]:
    return camel(await usage.usage_summary(req.ctx))


async def usage_history(req: RestRequest) -> History:
    # The original answered 30 days for anything outside 1..365; legacy clients rely on it.
    days = req.query_int("days", HISTORY_FALLBACK_DAYS)
    if not 1 <= days <= 365:
        days = HISTORY_FALLBACK_DAYS
    history = await usage.usage_history(req.ctx, days)
    return {
        "days": [
            {"date": d.day.isoformat(), "provider": d.operation.split(".")[0],
             "operation": d.operation, "count": d.count, "weightSum": d.units}
            for d in history.days
        ],
        "total": history.total,
    }  # fmt: skip


async def usage_realtime(req: RestRequest) -> Annotated[dict[str, object], Shape(UsageRealtime)]:
    return camel(await usage.usage_realtime(req.ctx))
