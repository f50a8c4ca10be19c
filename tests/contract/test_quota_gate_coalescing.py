"""perf (issue 18): ``CoalescingGate``, which decides the same-limits reservations of one
loop tick in one store call, over the in-process gate and the deployment's Redis gate (on
the lean pipelined client). The whole ``QuotaGate`` contract again, then what coalescing
must keep: every request of a tick gets the decision (and the states) it would have had
on its own, in arrival order, exactly at every limit's edge, and failures reach every
waiter."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import pytest
from redis.asyncio import Redis

from domain.quota.coalescing import CoalescingGate
from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitKind,
    LimitState,
    QuotaStoreUnavailable,
    RateLimit,
    Reservation,
)
from domain.quota.ports import QuotaGate
from persistence.memory.quota import MemoryQuotaGate
from persistence.redis.pipelined import PipelinedRedis
from persistence.redis.quota import RedisQuotaGate
from tests.conftest import REDIS_URL_VAR
from tests.contract import test_quota_gate as contract

NOW = contract.NOW
DAY_END = contract.DAY_END
MONTH_END = DAY_END + 30 * 86_400.0

globals().update(contract.gate_only_tests())


@pytest.fixture(params=["memory", "redis"])
async def inner(request: pytest.FixtureRequest) -> AsyncIterator[QuotaGate]:
    """The store gates a deployment wraps (a fresh state each), so a test can compare the
    coalesced decisions with what the plain gate decides one request at a time."""
    if request.param == "memory":
        yield MemoryQuotaGate()
        return
    url = os.environ.get(REDIS_URL_VAR)
    if not url:
        pytest.skip(f"{REDIS_URL_VAR} is not set")
    admin = Redis.from_url(url)
    try:
        await admin.flushdb()  # an unreachable Redis fails the test here
    finally:
        await admin.aclose()
    client = PipelinedRedis(url, timeout=5.0)
    yield RedisQuotaGate(client, namespace="test:coalesce")
    await client.aclose()


class CountingGate:
    """Passes through, counting the store calls."""

    def __init__(self, inner: QuotaGate) -> None:
        self.inner = inner
        self.reserves: list[int] = []
        """The first limit's cost in each reserve call (the batch size: it costs 1 alone)."""

    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        self.reserves.append(limits[0].cost)
        return await self.inner.reserve(limits, now)

    async def refund(self, reservation: Reservation, now: float) -> None:
        await self.inner.refund(reservation, now)

    async def peek(self, limits: Sequence[Limit], now: float) -> tuple[LimitState, ...]:
        return await self.inner.peek(limits, now)

    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        return await self.inner.restore(load, now)


@pytest.fixture
def counting(inner: QuotaGate) -> CountingGate:
    return CountingGate(inner)


@pytest.fixture
def gate(counting: CountingGate) -> QuotaGate:
    return CoalescingGate(counting)


def request_limits(tag: str, n: int = 10, weight: int = 3) -> list[Limit]:
    """The five limits of a metered API-key call, each allowing ``n`` calls."""
    key, user = f"key:{tag}", f"user:{tag}"
    return [
        RateLimit(LimitKind.KEY_RPM, key, n, 60.0),
        CounterLimit(LimitKind.KEY_DAILY, key, n, "20260101", DAY_END),
        RateLimit(LimitKind.PLAN_QPS, key, n, 1.0),
        CounterLimit(LimitKind.PLAN_DAILY, user, n * weight, "20260101", DAY_END, weight),
        CounterLimit(LimitKind.PLAN_MONTHLY, user, n * weight, "2026-01", MONTH_END, weight),
    ]


def figures(decision: Decision) -> list[tuple[bool, int, float]]:
    return [(decision.allowed, s.remaining, round(s.reset_after, 6)) for s in decision.states]


async def one_at_a_time(limits: list[Limit], count: int) -> list[Decision]:
    plain = MemoryQuotaGate()
    return [await plain.reserve(limits, NOW) for _ in range(count)]


async def test_one_tick_of_requests_is_one_store_call_with_the_states_of_their_turns(
    gate: QuotaGate, counting: CountingGate
) -> None:
    limits = request_limits("turns", n=100)
    decisions = await asyncio.gather(*(gate.reserve(limits, NOW) for _ in range(8)))

    assert counting.reserves == [8]
    assert [figures(d) for d in decisions] == [figures(d) for d in await one_at_a_time(limits, 8)]
    assert all(d.reservation == Reservation(tuple(limits), NOW) for d in decisions)
    peeked = await gate.peek(limits, NOW)
    assert [s.remaining for s in peeked] == [92, 92, 92, 276, 276]


@pytest.mark.parametrize("kind", list(LimitKind))
async def test_every_limit_admits_exactly_its_allowance_when_a_tick_asks_for_more(
    gate: QuotaGate, counting: CountingGate, kind: LimitKind
) -> None:
    """The edge of each limit: 6 allowed, 7 requests of one tick ask for 13 → the batch is
    decided one by one, exactly 6 are admitted, in order, and the rest refused as alone."""
    limits = [limit for limit in request_limits(f"edge-{kind.value}", n=6) if limit.kind is kind]
    decisions = await asyncio.gather(*(gate.reserve(limits, NOW) for _ in range(13)))

    assert [d.allowed for d in decisions] == [True] * 6 + [False] * 7
    assert [figures(d) for d in decisions] == [figures(d) for d in await one_at_a_time(limits, 13)]
    assert all(d.denied == limits[0] and d.retry_after > 0 for d in decisions[6:])
    assert (await gate.peek(limits, NOW))[0].remaining == 0
    cost = limits[0].cost
    assert counting.reserves == [13 * cost] + [cost] * 13


async def test_requests_with_other_limits_form_their_own_batches(
    gate: QuotaGate, counting: CountingGate
) -> None:
    first, second = request_limits("one"), request_limits("two")
    decisions = await asyncio.gather(
        *(gate.reserve(first if i % 2 else second, NOW) for i in range(10))
    )
    assert all(d.allowed for d in decisions)
    assert counting.reserves == [5, 5]
    assert [s.remaining for s in await gate.peek(first, NOW)] == [5, 5, 5, 15, 15]


async def test_a_lone_request_is_reserved_as_without_coalescing(
    gate: QuotaGate, counting: CountingGate
) -> None:
    limits = request_limits("alone", n=2)
    for _ in range(2):
        assert (await gate.reserve(limits, NOW)).allowed
    refused = await gate.reserve(limits, NOW)
    assert not refused.allowed and refused.denied == limits[0]
    assert counting.reserves == [1, 1, 1]


async def test_refunds_of_coalesced_requests_give_back_each_ones_units(gate: QuotaGate) -> None:
    limits = request_limits("refund", n=10)
    decisions = await asyncio.gather(*(gate.reserve(limits, NOW) for _ in range(4)))
    for decision in decisions[:3]:
        assert decision.reservation is not None
        await gate.refund(decision.reservation, NOW)
    daily = await gate.peek(limits, NOW)
    assert [s.remaining for s in daily][3:] == [27, 27]  # 30 units, one call of 3 kept


class FailingGate(CountingGate):
    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        self.reserves.append(limits[0].cost)
        await asyncio.sleep(0)
        raise QuotaStoreUnavailable("down")


async def test_a_store_failure_reaches_every_request_of_the_tick() -> None:
    gate = CoalescingGate(FailingGate(MemoryQuotaGate()))
    limits = request_limits("down")
    outcomes = await asyncio.gather(
        *(gate.reserve(limits, NOW) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(o, QuotaStoreUnavailable) for o in outcomes)


class SlowGate(CountingGate):
    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        await asyncio.sleep(0.01)
        return await super().reserve(limits, now)


async def test_a_request_cancelled_while_it_waits_leaves_the_others_their_answers() -> None:
    slow = SlowGate(MemoryQuotaGate())
    gate = CoalescingGate(slow)
    limits = request_limits("cancel", n=100)
    tasks = [asyncio.ensure_future(gate.reserve(limits, NOW)) for _ in range(6)]
    await asyncio.sleep(0.001)  # the batch is with the store
    tasks[0].cancel()  # the leader
    tasks[3].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[0], asyncio.CancelledError)
    assert isinstance(results[3], asyncio.CancelledError)
    assert all(
        isinstance(r, Decision) and r.allowed for i, r in enumerate(results) if i not in (0, 3)
    )
    assert slow.reserves == [6]  # one call for all six: a cancelled one stays charged
    assert (await gate.peek(limits, NOW))[0].remaining == 94


async def test_a_leader_cancelled_before_the_store_call_still_answers_its_followers() -> None:
    gate = CoalescingGate(MemoryQuotaGate())
    limits = request_limits("early", n=100)
    tasks = [asyncio.ensure_future(gate.reserve(limits, NOW)) for _ in range(4)]
    await asyncio.sleep(0)  # every task joined; the leader is in its one yield
    tasks[0].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(results[0], asyncio.CancelledError)
    assert all(isinstance(r, Decision) and r.allowed for r in results[1:])
    assert (await gate.peek(limits, NOW))[0].remaining == 97
