"""Period arithmetic across month ends and leap years."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.billing.periods import period_end, periods_until


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "anchor", "end"),
    [
        (at(2026, 1, 15), None, at(2026, 2, 15)),
        (at(2026, 1, 31), None, at(2026, 2, 28)),  # a short month: its last day
        (at(2028, 1, 31), None, at(2028, 2, 29)),  # leap year
        (at(2026, 2, 28), 31, at(2026, 3, 31)),  # back to the anchor
        (at(2026, 3, 31), 31, at(2026, 4, 30)),
        (at(2026, 12, 31), None, at(2027, 1, 31)),  # across the year
        (at(2026, 11, 30), 30, at(2026, 12, 30)),
    ],
)
def test_monthly_periods_keep_their_anchor_day(
    start: datetime, anchor: int | None, end: datetime
) -> None:
    assert period_end(start, "monthly", anchor) == end


@pytest.mark.parametrize(
    ("start", "anchor", "end"),
    [
        (at(2026, 5, 10), None, at(2027, 5, 10)),
        (at(2028, 2, 29), None, at(2029, 2, 28)),  # no 29 February in 2029
        (at(2031, 2, 28), 29, at(2032, 2, 29)),  # leap again: the anchor comes back
    ],
)
def test_yearly_periods_across_leap_years(
    start: datetime, anchor: int | None, end: datetime
) -> None:
    assert period_end(start, "yearly", anchor) == end


def test_lifetime_never_ends_and_time_of_day_is_kept() -> None:
    assert period_end(at(2026, 1, 1), "lifetime") is None
    assert period_end(at(2026, 1, 31, 23), "monthly") == at(2026, 2, 28, 23)
    with pytest.raises(ValueError):
        period_end(at(2026, 1, 1), "weekly")


def test_catching_up_finds_the_current_period() -> None:
    start = at(2026, 1, 31)
    assert periods_until(start, "monthly", 31, at(2026, 4, 1)) == at(2026, 3, 31)
    assert periods_until(start, "monthly", 31, at(2026, 2, 27)) == start
