"""GraphQL types of usage reports (mirrors of ``domain.usage`` read models)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.usage import service as usage
from schema.mirror import Mirrored, mirror


@mirror(
    usage.UsageSummary,
    descriptions={
        "day_used": "Units used today (local calendar).",
        "day_limit": "0 = unlimited (or everyone's totals).",
    },
)
class UsageSummary(Mirrored):
    pass


@strawberry.type
class UsageDay:
    date: date
    operation: str
    count: int
    units: int


@strawberry.type
class UsageHistory:
    days: list[UsageDay]
    total: int

    @classmethod
    def from_domain(cls, history: usage.UsageHistory, ctx: object = None) -> UsageHistory:
        days = [UsageDay(date=d.day, operation=d.operation, count=d.count, units=d.units)
                for d in history.days]  # fmt: skip
        return cls(days=days, total=history.total)


@mirror(usage.UsageRealtime)
class UsageRealtime(Mirrored):
    pass
