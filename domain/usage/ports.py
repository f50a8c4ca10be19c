"""The usage store's port; one contract suite runs it against every implementation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol

from domain.usage.model import DailyUsage, RecentUsage, UsageEvent, UsageTotals


class UsageStore(Protocol):
    async def record(self, events: Sequence[UsageEvent]) -> None:
        """Store the events and update the daily and monthly roll-ups in one transaction.
        Events whose id is already stored are ignored (and not rolled up again). Only
        ``UsageStatus.OK`` events count in the roll-ups' units and counts; errors are
        counted separately (the roll-ups' ``errors``)."""

    async def totals(self, user_id: str | None, day: date) -> UsageTotals:
        """Counts and units on ``day`` and in its month (local calendar), for one user or
        (``None``) for everyone."""

    async def units_by_user(self, day: date) -> tuple[dict[str, int], dict[str, int]]:
        """Per user: the units used on ``day`` and in its month (the roll-ups); the quota
        gate starts its plan counters from these when Redis lost them."""

    async def history(self, user_id: str | None, since: date) -> list[DailyUsage]:
        """Per local day and operation from ``since`` on, newest day first; a day on
        which an operation only failed is left out."""

    async def recent(self, user_id: str | None, since: datetime) -> RecentUsage:
        """Events (ok and error) that occurred at or after ``since``."""

    async def prune_events(self, before: datetime) -> int:
        """Delete raw events that occurred before ``before``; the roll-ups keep them.
        Returns how many were deleted. An event id recorded again after pruning counts
        again (deduplication lasts as long as the retention)."""

    # -- worker (issue 17) --
    async def repair_rollups(self, since: date, before: date) -> int:
        """Recompute the daily roll-ups of every (user, day, operation) with events on a
        local day from ``since`` to before ``before`` (days whose events are all still
        kept and that take no new ones: a concurrent record would race the rewrite), and
        the monthly roll-ups of those months from the daily ones; returns how many rows
        changed."""
