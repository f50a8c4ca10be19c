"""Contract of ``UsageStore``, run against every implementation."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, func, select

from domain.ids import new_id
from domain.usage.model import (
    DailyUsage,
    RecentUsage,
    UsageEvent,
    UsageStatus,
    UsageTotals,
)
from domain.usage.ports import UsageStore
from persistence.sql.engine import create_engine
from persistence.sql.tables import usage_daily, usage_events, usage_monthly, users
from persistence.sql.usage import SqlUsageStore
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 10, 12, 0, 0, 123456, tzinfo=UTC)
DAY = T0.date()
PLUS_8 = timezone(timedelta(hours=8))
OK = UsageStatus.OK
ERROR = UsageStatus.ERROR
PRUNE_BATCH = 3
"""Small, so that pruning on SQL runs over several batches."""


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def store(backend: Backend) -> UsageStore:
    """The bundle's store; on SQL one that prunes in small batches (``PRUNE_BATCH``)."""
    if backend.engine is None:
        return backend.adapters.usage
    return SqlUsageStore(backend.engine, prune_batch=PRUNE_BATCH)


@asynccontextmanager
async def another_process(backend: Backend, store: UsageStore) -> AsyncIterator[UsageStore]:
    """A store on its own engine (connection pool), as a second process would have; the
    memory store lives in one process, so it is shared."""
    if backend.database_url is None:
        yield store
        return
    engine = create_engine(backend.database_url)
    try:
        yield SqlUsageStore(engine, prune_batch=PRUNE_BATCH)
    finally:
        await engine.dispose()


def event(
    user_id: str,
    *,
    operation: str = "SearchSongs",
    weight: int = 1,
    status: UsageStatus = OK,
    at: datetime = T0,
    day: date | None = None,
    latency_ms: float = 10.0,
    key_id: str | None = None,
    event_id: str | None = None,
) -> UsageEvent:
    return UsageEvent(
        id=event_id or new_id(),
        user_id=user_id,
        key_id=key_id,
        operation=operation,
        weight=weight,
        status=status,
        occurred_at=at,
        local_day=day or at.date(),
        latency_ms=latency_ms,
    )


def totals(day_count: int, day_units: int, month_count: int, month_units: int) -> UsageTotals:
    return UsageTotals(day_count, day_units, month_count, month_units)


NOTHING = totals(0, 0, 0, 0)
NO_RECENT = RecentUsage(count=0, errors=0, avg_latency_ms=0, max_latency_ms=0, min_latency_ms=0)


async def test_an_empty_store_reports_zeros(store: UsageStore, alice: str) -> None:
    assert await store.totals(alice, DAY) == NOTHING
    assert await store.totals(None, DAY) == NOTHING
    assert await store.history(alice, DAY - timedelta(days=30)) == []
    assert await store.history(None, DAY - timedelta(days=30)) == []
    assert await store.recent(alice, T0 - timedelta(days=1)) == NO_RECENT
    assert await store.recent(None, T0 - timedelta(days=1)) == NO_RECENT
    await store.record([])  # a no-op
    assert await store.totals(None, DAY) == NOTHING


async def test_totals_count_calls_and_sum_weights_by_day_and_month(
    store: UsageStore, alice: str
) -> None:
    await store.record(
        [
            event(alice, operation="SearchSongs", weight=1),
            event(alice, operation="GetSongURL", weight=3),
            event(alice, operation="GetSongURL", weight=3, at=T0 + timedelta(hours=1)),
            # Earlier in the month: in the month's totals only.
            event(alice, weight=2, at=T0 - timedelta(days=9)),
        ]
    )
    await store.record([event(alice, weight=5, at=T0 - timedelta(days=1))])

    assert await store.totals(alice, DAY) == totals(3, 7, 5, 14)
    assert await store.totals(alice, DAY - timedelta(days=1)) == totals(1, 5, 5, 14)
    assert await store.totals(alice, DAY + timedelta(days=1)) == totals(0, 0, 5, 14)
    # Another month.
    assert await store.totals(alice, date(2026, 4, 10)) == NOTHING
    assert await store.totals(alice, date(2025, 3, 10)) == NOTHING


async def test_roll_ups_use_the_local_day_not_the_utc_date(store: UsageStore, alice: str) -> None:
    """23:30 UTC on 31 March is 1 April in UTC+8: the caller's ``local_day`` decides."""
    late = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    await store.record([event(alice, weight=2, at=late, day=date(2026, 4, 1))])

    assert await store.totals(alice, date(2026, 4, 1)) == totals(1, 2, 1, 2)
    assert await store.totals(alice, date(2026, 3, 31)) == NOTHING
    assert await store.history(alice, date(2026, 3, 1)) == [
        DailyUsage(day=date(2026, 4, 1), operation="SearchSongs", count=1, units=2)
    ]


async def test_month_boundaries_split_the_monthly_totals(store: UsageStore, alice: str) -> None:
    november = date(2026, 11, 30)
    december = date(2026, 12, 1)
    january = date(2027, 1, 1)
    await store.record(
        [
            event(alice, weight=2, at=datetime(2026, 11, 30, 15, tzinfo=UTC), day=november),
            event(alice, weight=3, at=datetime(2026, 11, 30, 16, tzinfo=UTC), day=december),
            event(alice, weight=4, at=datetime(2026, 12, 31, 16, tzinfo=UTC), day=january),
        ]
    )

    assert await store.totals(alice, november) == totals(1, 2, 1, 2)
    assert await store.totals(alice, december) == totals(1, 3, 1, 3)
    assert await store.totals(alice, date(2026, 12, 31)) == totals(0, 0, 1, 3)
    assert await store.totals(alice, january) == totals(1, 4, 1, 4)
    assert await store.totals(alice, date(2026, 11, 1)) == totals(0, 0, 1, 2)


async def test_an_event_id_is_counted_once(store: UsageStore, alice: str) -> None:
    first = event(alice, weight=3, event_id="req-1:GetSongURL")
    # Same id, other contents: ignored (the first recording wins), in a later call...
    again = event(alice, weight=100, latency_ms=999, event_id=first.id)
    await store.record([first])
    await store.record([again, first])
    # ...and within one call.
    twin = event(alice, weight=1, event_id="req-2:SearchSongs")
    await store.record([twin, event(alice, weight=50, event_id=twin.id), twin])

    assert await store.totals(alice, DAY) == totals(2, 4, 2, 4)
    assert await store.recent(alice, T0) == RecentUsage(
        count=2, errors=0, avg_latency_ms=10, max_latency_ms=10, min_latency_ms=10
    )
    assert await store.history(alice, DAY) == [
        DailyUsage(day=DAY, operation="SearchSongs", count=2, units=4)
    ]


async def test_a_batch_mixing_new_and_known_ids_rolls_up_only_the_new_ones(
    store: UsageStore, alice: str
) -> None:
    known = [event(alice, weight=2) for _ in range(3)]
    await store.record(known[:2])

    await store.record([*known, event(alice, weight=5)])

    assert await store.totals(alice, DAY) == totals(4, 11, 4, 11)


async def test_failed_calls_are_errors_not_usage(store: UsageStore, alice: str) -> None:
    await store.record(
        [
            event(alice, operation="GetSongURL", weight=3, latency_ms=20),
            event(alice, operation="GetSongURL", weight=3, status=ERROR, latency_ms=40),
            # An operation that only ever failed.
            event(alice, operation="GetLyric", status=ERROR, latency_ms=60),
        ]
    )

    assert await store.totals(alice, DAY) == totals(1, 3, 1, 3)
    assert await store.history(alice, DAY) == [
        DailyUsage(day=DAY, operation="GetSongURL", count=1, units=3)
    ]
    assert await store.recent(alice, T0) == RecentUsage(
        count=3, errors=2, avg_latency_ms=40, max_latency_ms=60, min_latency_ms=20
    )


async def test_totals_are_per_user_or_everyones(store: UsageStore, alice: str, bob: str) -> None:
    await store.record(
        [
            event(alice, operation="SearchSongs", weight=1),
            event(alice, operation="GetSongURL", weight=3),
            event(bob, operation="GetSongURL", weight=3),
            event(bob, operation="GetSongURL", weight=3, at=T0 - timedelta(days=2)),
        ]
    )

    assert await store.totals(alice, DAY) == totals(2, 4, 2, 4)
    assert await store.totals(bob, DAY) == totals(1, 3, 2, 6)
    assert await store.totals(None, DAY) == totals(3, 7, 4, 10)
    assert await store.totals(new_id(), DAY) == NOTHING


async def test_history_is_newest_day_first_then_by_operation(
    store: UsageStore, alice: str, bob: str
) -> None:
    day = timedelta(days=1)
    await store.record(
        [
            event(alice, operation="SearchSongs", weight=1, at=T0 - 2 * day),
            event(alice, operation="GetSongURL", weight=3, at=T0 - 2 * day),
            event(alice, operation="GetSongURL", weight=3, at=T0 - 2 * day),
            event(alice, operation="SearchSongs", weight=1, at=T0),
            event(bob, operation="SearchSongs", weight=2, at=T0),
            event(bob, operation="GetAlbum", weight=1, at=T0 - day),
            event(bob, operation="GetAlbum", weight=1, at=T0 - 3 * day),
        ]
    )

    assert await store.history(alice, DAY - 30 * day) == [
        DailyUsage(DAY, "SearchSongs", 1, 1),
        DailyUsage(DAY - 2 * day, "GetSongURL", 2, 6),
        DailyUsage(DAY - 2 * day, "SearchSongs", 1, 1),
    ]
    # Everyone's history adds the users' rows of the same day and operation.
    assert await store.history(None, DAY - 30 * day) == [
        DailyUsage(DAY, "SearchSongs", 2, 3),
        DailyUsage(DAY - day, "GetAlbum", 1, 1),
        DailyUsage(DAY - 2 * day, "GetSongURL", 2, 6),
        DailyUsage(DAY - 2 * day, "SearchSongs", 1, 1),
        DailyUsage(DAY - 3 * day, "GetAlbum", 1, 1),
    ]
    # ``since`` is inclusive.
    assert await store.history(None, DAY - 2 * day) == [
        DailyUsage(DAY, "SearchSongs", 2, 3),
        DailyUsage(DAY - day, "GetAlbum", 1, 1),
        DailyUsage(DAY - 2 * day, "GetSongURL", 2, 6),
        DailyUsage(DAY - 2 * day, "SearchSongs", 1, 1),
    ]
    assert await store.history(bob, DAY) == [DailyUsage(DAY, "SearchSongs", 1, 2)]
    assert await store.history(None, DAY + day) == []


async def test_history_orders_operations_by_code_point(store: UsageStore, alice: str) -> None:
    """The same order everywhere, whatever the database's collation."""
    names = ["get_song", "GetSong", "getSong", "Get-Song", "get song", "Getsong"]
    await store.record([event(alice, operation=name) for name in names])

    history = await store.history(alice, DAY)

    assert [row.operation for row in history] == sorted(names)


async def test_recent_covers_events_at_or_after_since(
    store: UsageStore, alice: str, bob: str
) -> None:
    second = timedelta(seconds=1)
    await store.record(
        [
            event(alice, at=T0 - 61 * second, latency_ms=1000),
            event(alice, at=T0 - 60 * second, latency_ms=5.5),
            event(alice, at=T0 - 30 * second, latency_ms=12.5, status=ERROR),
            event(bob, at=T0, latency_ms=100),
        ]
    )
    since = T0 - 60 * second

    assert await store.recent(alice, since) == RecentUsage(
        count=2, errors=1, avg_latency_ms=9.0, max_latency_ms=12.5, min_latency_ms=5.5
    )
    everyone = await store.recent(None, since)
    assert (everyone.count, everyone.errors) == (3, 1)
    assert everyone.avg_latency_ms == pytest.approx(118 / 3)
    assert (everyone.max_latency_ms, everyone.min_latency_ms) == (100, 5.5)
    assert await store.recent(bob, T0 + second) == NO_RECENT
    # The same instant written in another zone.
    assert (await store.recent(alice, since.astimezone(PLUS_8))).count == 2


async def test_events_of_unknown_or_deleted_keys_are_accepted(
    store: UsageStore, alice: str
) -> None:
    """``key_id`` is not a foreign key: a key deleted later keeps its history."""
    await store.record([event(alice, key_id=new_id()), event(alice, key_id=None)])

    assert await store.totals(alice, DAY) == totals(2, 2, 2, 2)


async def test_prune_events_forgets_old_events_but_keeps_the_roll_ups(
    store: UsageStore, alice: str, bob: str
) -> None:
    old = [event(alice, at=T0 - timedelta(days=40, seconds=i)) for i in range(7)]
    old.append(event(bob, at=T0 - timedelta(days=31)))
    cutoff = T0 - timedelta(days=30)
    boundary = event(alice, at=cutoff, latency_ms=42)
    fresh = event(bob, at=T0, latency_ms=7)
    await store.record([*old, boundary, fresh])
    before = await store.history(None, DAY - timedelta(days=60))

    assert await store.prune_events(cutoff) == 8

    assert await store.history(None, DAY - timedelta(days=60)) == before
    assert await store.totals(alice, old[0].local_day) == totals(7, 7, 7, 7)
    # Events at the cut-off stay.
    assert await store.recent(None, T0 - timedelta(days=365)) == RecentUsage(
        count=2, errors=0, avg_latency_ms=24.5, max_latency_ms=42, min_latency_ms=7
    )
    assert await store.prune_events(cutoff) == 0


async def test_an_event_recorded_again_after_pruning_counts_again(
    store: UsageStore, alice: str
) -> None:
    """Deduplication lasts as long as the raw events are kept."""
    old = event(alice, at=T0 - timedelta(days=40))
    await store.record([old])
    await store.prune_events(T0)

    await store.record([old])

    assert await store.totals(alice, old.local_day) == totals(2, 2, 2, 2)


def shuffled(events: Sequence[UsageEvent], seed: int) -> list[UsageEvent]:
    copy = list(events)
    random.Random(seed).shuffle(copy)
    return copy


async def test_concurrent_writers_with_disjoint_events_lose_nothing(
    backend: Backend, store: UsageStore, alice: str, bob: str
) -> None:
    """Many concurrent batches from two processes all add to the same roll-up rows."""
    batches = [
        [
            event(user, operation=operation, weight=weight, status=status)
            for user in (alice, bob)
            for operation, weight in (("SearchSongs", 1), ("GetSongURL", 3))
            for status in (OK, OK, ERROR)
        ]
        for _ in range(20)
    ]

    async with another_process(backend, store) as other:
        stores = [store, other]
        await asyncio.gather(
            *(stores[i % 2].record(shuffled(batch, i)) for i, batch in enumerate(batches))
        )

    # Per user and batch: 2 ok SearchSongs (2 units) + 2 ok GetSongURL (6 units).
    assert await store.totals(alice, DAY) == totals(80, 160, 80, 160)
    assert await store.totals(None, DAY) == totals(160, 320, 160, 320)
    recent = await store.recent(None, T0)
    assert (recent.count, recent.errors) == (240, 80)
    await assert_roll_ups_match_events(backend)


async def test_concurrent_writers_with_overlapping_events_count_each_once(
    backend: Backend, store: UsageStore, alice: str, bob: str
) -> None:
    """Every event is sent by several concurrent batches in different orders (retried
    flushes from two processes): each is rolled up exactly once, and no writer deadlocks."""
    pool = [
        event(user, operation=operation, weight=weight, at=T0 + timedelta(seconds=i))
        for i in range(30)
        for user, operation, weight in (
            (alice, "SearchSongs", 1),
            (alice, "GetSongURL", 3),
            (bob, "GetSongURL", 3),
        )
    ]  # 90 events
    batches = [shuffled(pool[start : start + 40], start) for start in range(0, 90, 10)]
    batches.append(shuffled(pool, 99))  # everything once more, from both processes
    batches.append(shuffled(pool, 100))

    async with another_process(backend, store) as other:
        stores = [store, other]
        await asyncio.gather(*(stores[i % 2].record(b) for i, b in enumerate(batches)))

    assert await store.totals(alice, DAY) == totals(60, 120, 60, 120)
    assert await store.totals(bob, DAY) == totals(30, 90, 30, 90)
    assert await store.totals(None, DAY) == totals(90, 210, 90, 210)
    assert (await store.recent(None, T0)).count == 90
    await assert_roll_ups_match_events(backend)


async def assert_roll_ups_match_events(backend: Backend) -> None:
    """On SQL, the roll-up tables agree with the raw events they were built from."""
    if backend.engine is None:
        return
    ok = usage_events.c.status == OK.value
    from_events = select(
        func.count().filter(ok), func.coalesce(func.sum(usage_events.c.weight).filter(ok), 0)
    )
    daily = select(func.sum(usage_daily.c["count"]), func.sum(usage_daily.c.units))
    monthly = select(func.sum(usage_monthly.c["count"]), func.sum(usage_monthly.c.units))
    async with backend.engine.connect() as conn:
        expected = tuple((await conn.execute(from_events)).one())
        assert tuple((await conn.execute(daily)).one()) == expected
        assert tuple((await conn.execute(monthly)).one()) == expected


@pytest.mark.backends("sqlite", "postgres")
async def test_a_deleted_users_usage_goes_with_them(backend: Backend, store: UsageStore) -> None:
    """Every usage row is owned by its user (cascading foreign keys)."""
    assert backend.engine is not None
    alice, bob = new_id(), new_id()
    for user_id in (alice, bob):
        await backend.create_user(user_id)
    await store.record([event(alice, weight=2), event(bob, weight=3)])

    async with backend.engine.begin() as conn:
        await conn.execute(delete(users).where(users.c.id == alice))

    assert await store.totals(alice, DAY) == NOTHING
    assert await store.totals(None, DAY) == totals(1, 3, 1, 3)
    assert (await store.recent(None, T0)).count == 1


# -- harden (issue 12, item 4): what the quota gate restores its plan counters from -----------


async def test_units_by_user_sum_the_days_and_months_ok_units(
    store: UsageStore, alice: str, bob: str
) -> None:
    earlier = DAY - timedelta(days=1) if DAY.day > 1 else DAY + timedelta(days=1)
    await store.record(
        [
            event(alice, weight=3),
            event(alice, weight=2, operation="SongUrl"),
            event(alice, weight=5, status=ERROR),  # failures are not usage
            event(bob, weight=4, at=T0 - timedelta(days=1), day=earlier),
        ]
    )
    on_day, in_month = await store.units_by_user(DAY)
    assert on_day == {alice: 5}
    same_month = earlier.month == DAY.month
    assert in_month == ({alice: 5, bob: 4} if same_month else {alice: 5})
