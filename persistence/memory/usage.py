"""In-process usage store, for a single process without a database.

Every method completes without awaiting, so each call is atomic under asyncio, like the
SQL store's one transaction per call. Roll-ups are kept per user; everyone's figures
(``user_id=None``) are summed on read, as the SQL store does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from domain.usage.model import (
    DailyUsage,
    RecentUsage,
    UsageEvent,
    UsageStatus,
    UsageTotals,
)


@dataclass(slots=True)
class _Counters:
    count: int = 0
    units: int = 0
    errors: int = 0

    def add(self, event: UsageEvent) -> None:
        if event.status is UsageStatus.OK:
            self.count += 1
            self.units += event.weight
        else:
            self.errors += 1


def month_of(day: date) -> str:
    """The roll-up month key, ``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


class MemoryUsageStore:
    def __init__(self) -> None:
        self._events: dict[str, UsageEvent] = {}
        self._daily: dict[tuple[str, date, str], _Counters] = {}
        self._monthly: dict[tuple[str, str, str], _Counters] = {}

    async def record(self, events: Sequence[UsageEvent]) -> None:
        for event in events:
            if event.id in self._events:
                continue
            self._events[event.id] = event
            daily_key = (event.user_id, event.local_day, event.operation)
            monthly_key = (event.user_id, month_of(event.local_day), event.operation)
            self._daily.setdefault(daily_key, _Counters()).add(event)
            self._monthly.setdefault(monthly_key, _Counters()).add(event)

    async def totals(self, user_id: str | None, day: date) -> UsageTotals:
        month = month_of(day)
        on_day = [c for (u, d, _), c in self._daily.items() if d == day and _is(user_id, u)]
        in_month = [c for (u, m, _), c in self._monthly.items() if m == month and _is(user_id, u)]
        return UsageTotals(
            day_count=sum(c.count for c in on_day),
            day_units=sum(c.units for c in on_day),
            month_count=sum(c.count for c in in_month),
            month_units=sum(c.units for c in in_month),
        )

    async def units_by_user(self, day: date) -> tuple[dict[str, int], dict[str, int]]:
        """harden: units used per user on ``day`` and in its month."""
        month = f"{day.year:04d}-{day.month:02d}"
        on_day: dict[str, int] = {}
        in_month: dict[str, int] = {}
        for (user, d, _), counters in self._daily.items():
            if d == day and counters.units:
                on_day[user] = on_day.get(user, 0) + counters.units
        for (user, m, _), counters in self._monthly.items():
            if m == month and counters.units:
                in_month[user] = in_month.get(user, 0) + counters.units
        return on_day, in_month

    async def history(self, user_id: str | None, since: date) -> list[DailyUsage]:
        merged: dict[tuple[date, str], _Counters] = {}
        for (owner, day, operation), counters in self._daily.items():
            if day >= since and _is(user_id, owner):
                into = merged.setdefault((day, operation), _Counters())
                into.count += counters.count
                into.units += counters.units
        rows = [
            DailyUsage(day=day, operation=operation, count=c.count, units=c.units)
            for (day, operation), c in merged.items()
            # Days with failed calls only have nothing to show: failures are not usage.
            if c.count > 0
        ]
        rows.sort(key=lambda r: r.operation)
        rows.sort(key=lambda r: r.day, reverse=True)
        return rows

    async def recent(self, user_id: str | None, since: datetime) -> RecentUsage:
        events = [
            e for e in self._events.values() if e.occurred_at >= since and _is(user_id, e.user_id)
        ]
        return _recent(events)

    async def prune_events(self, before: datetime) -> int:
        """Forget raw events that occurred before ``before``; the roll-ups keep them."""
        old = [event_id for event_id, e in self._events.items() if e.occurred_at < before]
        for event_id in old:
            del self._events[event_id]
        return len(old)

    # -- worker (issue 17) --
    async def repair_rollups(self, since: date, before: date) -> int:
        truth: dict[tuple[str, date, str], _Counters] = {}
        for e in self._events.values():
            if since <= e.local_day < before:
                truth.setdefault((e.user_id, e.local_day, e.operation), _Counters()).add(e)
        changed = 0
        for key, counters in truth.items():
            if self._daily.get(key) != counters:
                self._daily[key] = counters
                changed += 1
        months = {(user, month_of(day), op) for user, day, op in truth}
        for user, month, op in months:
            total = _Counters()
            for (owner, day, operation), c in self._daily.items():
                if (owner, month_of(day), operation) == (user, month, op):
                    total.count, total.units = total.count + c.count, total.units + c.units
                    total.errors += c.errors
            if self._monthly.get((user, month, op)) != total:
                self._monthly[(user, month, op)] = total
                changed += 1
        return changed


def _is(wanted: str | None, owner: str) -> bool:
    return wanted is None or wanted == owner


def _recent(events: list[UsageEvent]) -> RecentUsage:
    if not events:
        return RecentUsage(
            count=0, errors=0, avg_latency_ms=0.0, max_latency_ms=0.0, min_latency_ms=0.0
        )
    latencies = [e.latency_ms for e in events]
    return RecentUsage(
        count=len(events),
        errors=sum(1 for e in events if e.status is UsageStatus.ERROR),
        avg_latency_ms=sum(latencies) / len(latencies),
        max_latency_ms=max(latencies),
        min_latency_ms=min(latencies),
    )
