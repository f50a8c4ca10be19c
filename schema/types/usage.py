"""GraphQL types of usage reports (mirrors of ``domain.usage`` read models)."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.usage import service as usage
from schema.mirror import Mirrored, mirror
from schema.pagination import After, Before, First, Last, keyset_connection, sort_key
from schema.types.node import PageInfo


@mirror(
    usage.UsageSummary,
    descriptions={
        "day_used": "Units used today (local calendar).",
        "day_limit": "0 = unlimited (or everyone's totals).",
        "month_used": "Units used this month (local calendar).",
        "month_limit": "0 = unlimited (or everyone's totals).",
        "date": "Today, on the server's calendar.",
        "month": "This month (YYYY-MM).",
    },
    description="Units used today and this month against the plan's limits.",
)
class UsageSummary(Mirrored):
    pass


@strawberry.type(description="The calls of one operation on one day.")
class UsageDay:
    date: date = strawberry.field(description="The day (the server's timezone).")
    operation: str = strawberry.field(description="The operation called (e.g. `song.url`).")
    count: int = strawberry.field(description="How many calls.")
    units: int = strawberry.field(description="How many quota units they used.")


@strawberry.type
class UsageDayEdge:
    cursor: str
    node: UsageDay


@strawberry.type
class UsageDayConnection:
    edges: list[UsageDayEdge]
    nodes: list[UsageDay]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="Usage per day and operation over a number of days.")
class UsageHistory:
    days: list[UsageDay] = strawberry.field(
        description="Every day and operation, newest day first.",
        deprecation_reason="Use `entries`, a connection with cursors.",
    )
    total: int = strawberry.field(description="Units used over the whole span.")

    @strawberry.field(description="The days and operations, newest day first (then by "
                      "operation), as a connection with keyset cursors.")  # fmt: skip
    def entries(
        self, first: First = None, after: After = None, last: Last = None, before: Before = None
    ) -> UsageDayConnection:
        return keyset_connection(
            UsageDayConnection, UsageDayEdge, self.days,
            key=lambda d: sort_key(d.date, d.operation), descending=(True, False),
            node=lambda d: d, first=first, after=after, last=last, before=before,
        )  # fmt: skip

    @classmethod
    def from_domain(cls, history: usage.UsageHistory, ctx: object = None) -> UsageHistory:
        days = [UsageDay(date=d.day, operation=d.operation, count=d.count, units=d.units)
                for d in history.days]  # fmt: skip
        return cls(days=days, total=history.total)


@mirror(
    usage.UsageRealtime,
    descriptions={
        "qpm": "Calls in the last minute.",
        "qps": "Calls in the last second.",
        "avg_latency_ms": "The last minute's mean latency (ms).",
        "max_latency_ms": "The last minute's slowest call (ms).",
        "min_latency_ms": "The last minute's fastest call (ms).",
        "total_today": "Calls today.",
        "total_month": "Calls this month.",
        "success_rate": "The share of the last minute's calls that succeeded (1.0 when none).",
        "error_count": "Failed calls in the last minute.",
        "day_used": "Units used today.",
        "day_limit": "The plan's units per day; 0 = unlimited.",
        "month_used": "Units used this month.",
        "month_limit": "The plan's units per month; 0 = unlimited.",
        "timestamp": "When this was measured.",
    },
    description="The last minute of calls, across every server process.",
)
class UsageRealtime(Mirrored):
    pass
