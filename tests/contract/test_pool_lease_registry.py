"""Contract of the pool's ``LeaseRegistry`` and ``RefreshLock`` (one object per backend:
in process, or Redis for every process), driven by the caller's clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.ids import new_id
from domain.pool.ports import LeaseRegistry, LeaseVerdict, RefreshLock, SlotRequest
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "redis")

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture
def leases(backend: Backend) -> LeaseRegistry:
    return backend.adapters.pool_leases


@pytest.fixture
def lock(backend: Backend) -> RefreshLock:
    return backend.adapters.pool_refresh


def slot(
    credential_id: str,
    now: datetime = T0,
    *,
    lease_id: str | None = None,
    max_concurrency: int = 2,
    per_second: int = 100,
    ttl: float = 30.0,
) -> SlotRequest:
    return SlotRequest(
        credential_id=credential_id,
        lease_id=lease_id or new_id(),
        max_concurrency=max_concurrency,
        requests_per_second=per_second,
        ttl_seconds=ttl,
        now=now,
    )


async def test_slots_are_exclusive_up_to_max_concurrency(leases: LeaseRegistry) -> None:
    cid = new_id()
    first, second = slot(cid), slot(cid)
    assert await leases.take(first) is LeaseVerdict.GRANTED
    assert await leases.take(second) is LeaseVerdict.GRANTED
    assert await leases.take(slot(cid)) is LeaseVerdict.BUSY
    assert await leases.held(cid, T0) == 2
    assert await leases.give_back(cid, first.lease_id, T0) is True
    assert await leases.held(cid, T0) == 1
    assert await leases.take(slot(cid)) is LeaseVerdict.GRANTED


async def test_credentials_do_not_share_slots(leases: LeaseRegistry) -> None:
    one, two = new_id(), new_id()
    assert await leases.take(slot(one, max_concurrency=1)) is LeaseVerdict.GRANTED
    assert await leases.take(slot(two, max_concurrency=1)) is LeaseVerdict.GRANTED
    assert await leases.take(slot(one, max_concurrency=1)) is LeaseVerdict.BUSY


async def test_the_rate_budget_is_a_sliding_second(leases: LeaseRegistry) -> None:
    cid = new_id()
    for i in range(3):
        request = slot(cid, T0 + timedelta(milliseconds=100 * i), per_second=3, max_concurrency=9)
        assert await leases.take(request) is LeaseVerdict.GRANTED
        assert await leases.give_back(cid, request.lease_id, request.now)
    late = T0 + timedelta(milliseconds=900)
    assert await leases.take(slot(cid, late, per_second=3)) is LeaseVerdict.RATE
    # A refused take spends nothing: one second after the first grant, one is free again.
    again = T0 + timedelta(milliseconds=1001)
    assert await leases.take(slot(cid, again, per_second=3)) is LeaseVerdict.GRANTED
    assert await leases.take(slot(cid, again, per_second=3)) is LeaseVerdict.RATE


async def test_an_expired_slot_is_free_and_its_give_back_is_false(leases: LeaseRegistry) -> None:
    cid = new_id()
    held = slot(cid, max_concurrency=1, ttl=30)
    assert await leases.take(held) is LeaseVerdict.GRANTED
    assert await leases.take(slot(cid, T0 + timedelta(seconds=29), max_concurrency=1)) is (
        LeaseVerdict.BUSY
    )
    after = T0 + timedelta(seconds=30)
    assert await leases.held(cid, after) == 0
    assert await leases.take(slot(cid, after, max_concurrency=1)) is LeaseVerdict.GRANTED
    assert await leases.give_back(cid, held.lease_id, after) is False


async def test_giving_back_twice_or_unknown_is_false(leases: LeaseRegistry) -> None:
    cid = new_id()
    request = slot(cid)
    assert await leases.take(request) is LeaseVerdict.GRANTED
    assert await leases.give_back(cid, request.lease_id, T0) is True
    assert await leases.give_back(cid, request.lease_id, T0) is False
    assert await leases.give_back(new_id(), new_id(), T0) is False


async def test_concurrent_takes_never_exceed_the_limit(leases: LeaseRegistry) -> None:
    cid = new_id()
    verdicts = await asyncio.gather(*(leases.take(slot(cid, max_concurrency=3)) for _ in range(40)))
    assert verdicts.count(LeaseVerdict.GRANTED) == 3
    assert await leases.held(cid, T0) == 3


async def test_concurrent_takes_never_exceed_the_rate(leases: LeaseRegistry) -> None:
    cid = new_id()
    requests = [slot(cid, max_concurrency=100, per_second=5) for _ in range(40)]
    verdicts = await asyncio.gather(*(leases.take(r) for r in requests))
    assert verdicts.count(LeaseVerdict.GRANTED) == 5


async def test_the_refresh_lock_is_exclusive_and_expires(
    lock: RefreshLock, leases: LeaseRegistry
) -> None:
    cid = new_id()
    assert await lock.hold(cid, "a", ttl_seconds=60, now=T0) is True
    assert await lock.hold(cid, "b", ttl_seconds=60, now=T0 + timedelta(seconds=59)) is False
    assert await lock.refreshing([cid, new_id()], T0) == {cid}
    # While a refresh holds it, the credential is not leased.
    assert await leases.take(slot(cid)) is LeaseVerdict.REFRESHING
    later = T0 + timedelta(seconds=60)
    assert await lock.refreshing([cid], later) == set()
    assert await leases.take(slot(cid, later)) is LeaseVerdict.GRANTED
    assert await lock.hold(cid, "b", ttl_seconds=60, now=later) is True


async def test_only_the_holder_lets_go(lock: RefreshLock) -> None:
    cid = new_id()
    assert await lock.hold(cid, "mine", ttl_seconds=60, now=T0)
    await lock.let_go(cid, "not-mine")
    assert await lock.refreshing([cid], T0) == {cid}
    await lock.let_go(cid, "mine")
    assert await lock.refreshing([cid], T0) == set()
    assert await lock.refreshing([], T0) == set()
