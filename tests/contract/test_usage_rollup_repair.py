"""Contract of ``UsageStore.repair_rollups`` (the ``usage_rollup_repair`` job, issue 17):
roll-ups that drifted from their events are recomputed, daily and monthly; correct ones
are left alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from domain.ids import new_id
from domain.usage.model import UsageEvent, UsageStatus, UsageTotals
from persistence.sql.tables import usage_daily
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = T0.date()


def event(user_id: str, *, weight: int = 1, ok: bool = True, day: date = DAY) -> UsageEvent:
    return UsageEvent(
        id=new_id(), user_id=user_id, key_id=None, operation="song", weight=weight,
        status=UsageStatus.OK if ok else UsageStatus.ERROR, occurred_at=T0, local_day=day,
        latency_ms=1.0,
    )  # fmt: skip


async def corrupt(backend: Backend, user_id: str) -> None:
    """Make the day's roll-up disagree with its events (as a lost write would)."""
    if backend.engine is None:
        store = backend.adapters.usage
        store._daily[(user_id, DAY, "song")].count = 99  # type: ignore[attr-defined]
        store._monthly[(user_id, "2026-03", "song")].count = 99  # type: ignore[attr-defined]
        return
    async with backend.engine.begin() as conn:
        await conn.execute(
            update(usage_daily)
            .where(usage_daily.c.user_id == user_id, usage_daily.c.day == DAY)
            .values(count=99)
        )


async def test_drifted_rollups_are_recomputed_from_the_events(backend: Backend, alice: str) -> None:
    store = backend.adapters.usage
    earlier = DAY - timedelta(days=3)
    await store.record([event(alice, weight=3), event(alice), event(alice, ok=False),
                        event(alice, day=earlier)])  # fmt: skip
    expected = UsageTotals(day_count=2, day_units=4, month_count=3, month_units=5)
    assert await store.totals(alice, DAY) == expected
    assert await store.repair_rollups(DAY, DAY + timedelta(days=1)) == 0  # nothing drifted
    await corrupt(backend, alice)
    assert await store.repair_rollups(DAY - timedelta(days=1), DAY) == 0  # not in the window
    assert (await store.totals(alice, DAY)).day_count == 99
    assert await store.repair_rollups(DAY, DAY + timedelta(days=1)) >= 1
    assert await store.totals(alice, DAY) == expected
    assert await store.repair_rollups(DAY, DAY + timedelta(days=1)) == 0
