"""Billing periods: pure calendar arithmetic, driven by the clock the caller passes.

A monthly period ends on the same day of the month as its anchor (the day the
subscription started), or on the month's last day when the month is shorter: a
subscription started on 31 January renews on 28 (or 29) February, then on 31 March. A
yearly period keeps the anchor too: one started on 29 February renews on 28 February,
and on 29 February again in the next leap year. Lifetime periods never end."""

from __future__ import annotations

import calendar
from datetime import datetime

PERIODS = ("monthly", "yearly", "lifetime")


def _with_day(moment: datetime, year: int, month: int, anchor_day: int) -> datetime:
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def period_end(start: datetime, period: str, anchor_day: int | None = None) -> datetime | None:
    """The end of the period that begins at ``start`` (``None`` for lifetime). ``anchor_day``
    is the day of the month the subscription is anchored to (default ``start``'s)."""
    anchor = anchor_day or start.day
    if period == "monthly":
        year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
        return _with_day(start, year, month, anchor)
    if period == "yearly":
        return _with_day(start, start.year + 1, start.month, anchor)
    if period == "lifetime":
        return None
    raise ValueError(f"unknown period {period!r}")


def periods_until(start: datetime, period: str, anchor_day: int, now: datetime) -> datetime:
    """The start of the period containing ``now`` (for catching up after downtime): the
    first period end after ``start`` that is later than ``now``, minus one period."""
    current = start
    while True:
        end = period_end(current, period, anchor_day)
        if end is None or end > now:
            return current
        current = end
