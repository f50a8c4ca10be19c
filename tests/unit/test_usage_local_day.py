"""The usage recorder's local day (issue 18 memoises it per quarter hour of UTC) is always
``astimezone(zone).date()``: across midnights, DST changes and zones whose offsets are
not whole hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.clock import ManualClock
from domain.usage.service import UsageRecorder

ZONES = [
    "UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Kathmandu",
    "Pacific/Chatham", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Kiritimati",
    "America/Santiago", "Asia/Tehran",
]  # fmt: skip


def _recorder(zone: str) -> UsageRecorder:
    return UsageRecorder(None, ManualClock(), timezone=ZoneInfo(zone))  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ZONES)
def test_minute_by_minute_over_days_with_dst_changes(zone: str) -> None:
    recorder, tz = _recorder(zone), ZoneInfo(zone)
    for start in (datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 10, 23, tzinfo=UTC),
                  datetime(2026, 4, 3, tzinfo=UTC)):  # fmt: skip
        for minute in range(0, 4 * 24 * 60, 7):
            now = start + timedelta(minutes=minute, seconds=minute % 60)
            assert recorder._local_day(now) == now.astimezone(tz).date(), now


@pytest.mark.parametrize("zone", ZONES)
def test_random_instants_in_any_order(zone: str) -> None:
    recorder, tz = _recorder(zone), ZoneInfo(zone)
    rng = random.Random(zone)
    base = datetime(2020, 1, 1, tzinfo=UTC)
    for _ in range(5000):
        now = base + timedelta(
            seconds=rng.randrange(0, 12 * 365 * 86400), microseconds=rng.randrange(10**6)
        )
        if rng.random() < 0.3:  # the quarter hour's edges
            now = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
            now -= timedelta(microseconds=rng.choice([0, 1]))
        assert recorder._local_day(now) == now.astimezone(tz).date(), now
