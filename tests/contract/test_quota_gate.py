"""Contract of ``QuotaGate``, run against every implementation."""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitKind,
    QuotaStoreUnavailable,
    RateLimit,
    Reservation,
)
from domain.quota.ports import QuotaGate
from persistence.memory.quota import MemoryQuotaGate
from persistence.redis import quota as quota_module
from persistence.redis.quota import RedisQuotaGate
from tests.conftest import REDIS_URL_VAR
from tests.contract.conftest import Backend

NOW = 1_767_225_600.25  # epoch seconds, with a fraction
DAY_END = 1_767_312_000.0  # the UTC midnight after NOW
NAMESPACE = "test:quota"


pytestmark = pytest.mark.backends("memory", "redis")


def gate_only_tests() -> dict[str, Any]:
    """This contract's tests that take only the ``gate`` fixture (the in-process specifics
    aside), for the suites that run the contract again against another gate (the pipelined
    client, the cluster, the coalescing gate): ``globals().update(gate_only_tests())``."""
    return {
        name: test
        for name, test in globals().items()
        if name.startswith("test_")
        and list(inspect.signature(test).parameters) == ["gate"]
        and "in_process" not in name
        and "memory" not in name
    }


@pytest.fixture
def gate(backend: Backend) -> QuotaGate:
    return backend.adapters.quota_gate


def rate(
    limit: int = 3,
    period: float = 60.0,
    *,
    cost: int = 1,
    kind: LimitKind = LimitKind.KEY_RPM,
    subject: str = "key:k1",
) -> RateLimit:
    return RateLimit(kind, subject, limit, period, cost)


def counter(
    limit: int = 5,
    *,
    cost: int = 1,
    bucket: str = "20260101",
    resets_at: float = DAY_END,
    kind: LimitKind = LimitKind.KEY_DAILY,
    subject: str = "key:k1",
) -> CounterLimit:
    return CounterLimit(kind, subject, limit, bucket, resets_at, cost)


async def admitted(gate: QuotaGate, limits: list[Limit], n: int) -> int:
    """How many of ``n`` requests at ``NOW``, one after another, are allowed."""
    decisions = [await gate.reserve(limits, NOW) for _ in range(n)]
    return sum(d.allowed for d in decisions)


# -- rate limits (GCRA) ------------------------------------------------------------------


async def test_a_burst_of_exactly_the_limit_then_one_unit_per_interval(gate: QuotaGate) -> None:
    limit = rate(3, 60.0)

    first = await gate.reserve([limit], NOW)
    assert first.allowed
    assert first.denied is None and first.retry_after == 0
    assert first.states[0].remaining == 2
    assert first.states[0].reset_after == pytest.approx(20.0)
    assert (await gate.reserve([limit], NOW)).allowed
    third = await gate.reserve([limit], NOW)
    assert third.allowed
    assert third.states[0].remaining == 0
    assert third.states[0].reset_after == pytest.approx(60.0)

    refused = await gate.reserve([limit], NOW)

    assert not refused.allowed
    assert refused.denied == limit
    assert refused.retry_after == pytest.approx(20.0)  # period / limit
    assert refused.reservation is None
    assert refused.states[0].remaining == 0
    assert refused.states[0].reset_after == pytest.approx(60.0)


async def test_the_allowance_refills_over_time(gate: QuotaGate) -> None:
    limit = rate(3, 60.0)
    assert await admitted(gate, [limit], 4) == 3

    almost = await gate.reserve([limit], NOW + 19.5)
    assert not almost.allowed
    assert almost.retry_after == pytest.approx(0.5)

    assert (await gate.reserve([limit], NOW + 20.0)).allowed  # one unit came back
    again = await gate.reserve([limit], NOW + 20.0)
    assert not again.allowed
    assert again.retry_after == pytest.approx(20.0)

    # A full period after the last unit, the whole burst is there again.
    later = NOW + 80.0
    assert [(await gate.reserve([limit], later)).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


async def test_an_idle_period_does_not_bank_more_than_the_limit(gate: QuotaGate) -> None:
    limit = rate(2, 1.0)
    assert (await gate.reserve([limit], NOW)).allowed

    later = NOW + 3600.0
    results = [(await gate.reserve([limit], later)).allowed for _ in range(3)]

    assert results == [True, True, False]


async def test_a_rate_cost_takes_several_units(gate: QuotaGate) -> None:
    limit = rate(10, 10.0, cost=3)

    decisions = [await gate.reserve([limit], NOW) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.states[0].remaining for d in decisions[:3]] == [7, 4, 1]
    assert decisions[3].retry_after == pytest.approx(2.0)  # two more units needed
    assert (await gate.reserve([rate(10, 10.0)], NOW)).allowed  # the last single unit


async def test_a_period_that_does_not_divide_evenly_still_allows_exactly_the_limit(
    gate: QuotaGate,
) -> None:
    limit = rate(7, 1.0)

    assert await admitted(gate, [limit], 10) == 7
    refused = await gate.reserve([limit], NOW)
    assert refused.retry_after == pytest.approx(1 / 7, abs=1e-6)


# -- counters ----------------------------------------------------------------------------


async def test_a_counter_allows_the_limit_per_bucket(gate: QuotaGate) -> None:
    daily = counter(3)

    decisions = [await gate.reserve([daily], NOW + i) for i in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.states[0].remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[0].states[0].reset_after == pytest.approx(DAY_END - NOW)
    assert decisions[3].denied == daily
    assert decisions[3].retry_after == pytest.approx(DAY_END - NOW - 3)


async def test_a_new_bucket_starts_empty(gate: QuotaGate) -> None:
    assert await admitted(gate, [counter(2)], 3) == 2

    tomorrow = counter(2, bucket="20260102", resets_at=DAY_END + 86_400)
    decision = await gate.reserve([tomorrow], DAY_END)

    assert decision.allowed
    assert decision.states[0].remaining == 1
    assert decision.states[0].reset_after == pytest.approx(86_400.0)


async def test_a_counter_cost_takes_several_units(gate: QuotaGate) -> None:
    monthly = counter(10, cost=3, kind=LimitKind.PLAN_MONTHLY, bucket="2026-01")

    decisions = [await gate.reserve([monthly], NOW) for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.states[0].remaining for d in decisions] == [7, 4, 1, 1]  # 1 < cost 3
    single = counter(10, kind=LimitKind.PLAN_MONTHLY, bucket="2026-01")
    assert (await gate.reserve([single], NOW)).allowed


async def test_a_cost_above_the_limit_is_refused_with_a_positive_retry(gate: QuotaGate) -> None:
    for limit in (rate(2, 10.0, cost=3), counter(2, cost=3)):
        decision = await gate.reserve([limit], NOW)

        assert not decision.allowed
        assert decision.retry_after > 0


# -- several limits at once --------------------------------------------------------------


def request_limits() -> list[Limit]:
    """What one metered API-key request needs."""
    return [
        rate(5, 60.0, kind=LimitKind.KEY_RPM, subject="key:k1"),
        counter(4, kind=LimitKind.KEY_DAILY, subject="key:k1"),
        rate(10, 1.0, cost=3, kind=LimitKind.PLAN_QPS, subject="user:u1"),
        counter(100, cost=3, kind=LimitKind.PLAN_DAILY, subject="user:u1"),
        counter(1000, cost=3, kind=LimitKind.PLAN_MONTHLY, subject="user:u1", bucket="2026-01"),
    ]


async def test_an_allowed_request_charges_every_limit(gate: QuotaGate) -> None:
    limits = request_limits()

    decision = await gate.reserve(limits, NOW)

    assert decision.allowed
    assert [s.limit for s in decision.states] == limits
    assert [s.remaining for s in decision.states] == [4, 3, 7, 97, 997]
    assert decision.reservation is not None
    assert decision.reservation.limits == tuple(limits)
    assert decision.reservation.at == NOW
    assert [s.remaining for s in await gate.peek(limits, NOW)] == [4, 3, 7, 97, 997]


async def test_a_refusal_by_any_one_limit_charges_none(gate: QuotaGate) -> None:
    limits = request_limits()
    full_daily = counter(4, kind=LimitKind.KEY_DAILY, subject="key:k1")
    for _ in range(4):
        assert (await gate.reserve([full_daily], NOW)).allowed
    before = await gate.peek(limits, NOW)

    decision = await gate.reserve(limits, NOW)

    assert not decision.allowed
    assert decision.denied == limits[1]
    assert decision.retry_after == pytest.approx(DAY_END - NOW)
    assert await gate.peek(limits, NOW) == before
    # Refused: the states are uncharged (the refusing limit has no room left at all).
    assert [s.remaining for s in decision.states] == [5, 0, 10, 100, 1000]


async def test_the_first_refusing_limit_in_order_is_reported(gate: QuotaGate) -> None:
    qps = rate(1, 1.0, kind=LimitKind.PLAN_QPS, subject="user:u1")
    daily = counter(1, kind=LimitKind.PLAN_DAILY, subject="user:u1")
    rpm = rate(10, 60.0, kind=LimitKind.KEY_RPM, subject="key:k1")
    assert (await gate.reserve([qps, daily], NOW)).allowed

    forward = await gate.reserve([rpm, qps, daily], NOW)
    backward = await gate.reserve([daily, rpm, qps], NOW)

    assert forward.denied == qps
    assert forward.retry_after == pytest.approx(1.0)
    assert [s.remaining for s in forward.states] == [10, 0, 0]
    assert backward.denied == daily
    assert backward.retry_after == pytest.approx(DAY_END - NOW)
    assert [s.remaining for s in backward.states] == [0, 10, 0]
    assert (await gate.peek([rpm], NOW))[0].remaining == 10


async def test_limits_with_the_same_kind_and_subject_share_state(gate: QuotaGate) -> None:
    mine = rate(3, 60.0, subject="key:shared")
    also_mine = rate(3, 60.0, subject="key:shared", cost=2)
    other_kind = rate(3, 60.0, subject="key:shared", kind=LimitKind.PLAN_QPS)
    other_subject = rate(3, 60.0, subject="key:other")

    assert (await gate.reserve([mine], NOW)).allowed
    assert (await gate.reserve([also_mine], NOW)).allowed
    assert not (await gate.reserve([mine], NOW)).allowed

    assert await admitted(gate, [other_kind], 4) == 3
    assert await admitted(gate, [other_subject], 4) == 3


async def test_a_limit_listed_twice_in_one_request_is_charged_twice(gate: QuotaGate) -> None:
    daily = counter(5, cost=2)
    qps = rate(4, 1.0, cost=2)

    first = await gate.reserve([daily, daily, qps, qps], NOW)
    second = await gate.reserve([daily, daily], NOW)

    assert first.allowed
    assert [s.remaining for s in first.states] == [1, 1, 0, 0]  # the state after it all
    assert not second.allowed
    assert second.denied == daily
    assert [s.remaining for s in await gate.peek([daily, qps], NOW)] == [1, 0]


async def test_the_same_bucket_name_of_another_kind_is_separate(gate: QuotaGate) -> None:
    key_daily = counter(1, kind=LimitKind.KEY_DAILY)
    plan_daily = counter(1, kind=LimitKind.PLAN_DAILY)

    assert (await gate.reserve([key_daily], NOW)).allowed
    assert (await gate.reserve([plan_daily], NOW)).allowed


# -- refund ------------------------------------------------------------------------------


async def test_refund_gives_back_counter_units_but_not_rate_units(gate: QuotaGate) -> None:
    qps = rate(2, 1.0, kind=LimitKind.PLAN_QPS)
    daily = counter(2, cost=2, kind=LimitKind.PLAN_DAILY)
    decision = await gate.reserve([qps, daily], NOW)
    assert decision.reservation is not None

    await gate.refund(decision.reservation, NOW)

    states = await gate.peek([qps, daily], NOW)
    assert states[0].remaining == 1  # the attempt used the rate's capacity
    assert states[1].remaining == 2
    assert (await gate.reserve([qps, daily], NOW)).allowed


async def test_refund_never_goes_below_zero(gate: QuotaGate) -> None:
    daily = counter(3, cost=2)
    decision = await gate.reserve([daily], NOW)
    assert decision.reservation is not None

    for _ in range(3):
        await gate.refund(decision.reservation, NOW)

    assert (await gate.peek([daily], NOW))[0].remaining == 3
    assert await admitted(gate, [counter(3)], 4) == 3


async def test_refund_of_a_partly_spent_counter_stops_at_zero(gate: QuotaGate) -> None:
    big = counter(10, cost=5)
    small = counter(10, cost=1)
    reservation = (await gate.reserve([big], NOW)).reservation
    assert reservation is not None
    for _ in range(2):
        await gate.refund(reservation, NOW)  # the second one finds only 0 units left

    assert (await gate.reserve([small], NOW)).allowed
    assert (await gate.peek([small], NOW))[0].remaining == 9


async def test_refund_after_the_bucket_ended_changes_nothing(gate: QuotaGate) -> None:
    today = counter(2)
    decision = await gate.reserve([today], NOW)
    assert decision.reservation is not None

    await gate.refund(decision.reservation, DAY_END)

    assert (await gate.peek([today], NOW))[0].remaining == 1
    assert (await gate.peek([today], DAY_END))[0].remaining == 2  # an ended bucket is empty


async def test_refund_of_a_forgotten_counter_creates_nothing(gate: QuotaGate) -> None:
    reserved = await gate.reserve([counter(2)], NOW)
    assert reserved.reservation is not None
    other = await gate.reserve([counter(2, bucket="x", subject="key:k2")], NOW)
    assert other.reservation is not None

    await gate.refund(reserved.reservation, NOW)
    await gate.refund(reserved.reservation, NOW)
    await gate.refund(other.reservation, NOW)

    assert [s.remaining for s in await gate.peek([counter(2)], NOW)] == [2]


# -- peek, empty, invalid ----------------------------------------------------------------


async def test_peek_charges_nothing(gate: QuotaGate) -> None:
    limits = request_limits()

    for _ in range(10):
        states = await gate.peek(limits, NOW)

    assert [s.remaining for s in states] == [5, 4, 10, 100, 1000]
    assert [s.reset_after for s in states] == pytest.approx(
        [0, DAY_END - NOW, 0] + [DAY_END - NOW] * 2
    )
    assert (await gate.reserve(limits, NOW)).allowed


async def test_peek_reports_whole_units_regardless_of_cost(gate: QuotaGate) -> None:
    qps = rate(10, 1.0, cost=3)
    await gate.reserve([qps], NOW)

    (state,) = await gate.peek([qps], NOW)

    assert state.remaining == 7
    assert state.reset_after == pytest.approx(0.3)


async def test_empty_limits_are_allowed_and_reserve_nothing(gate: QuotaGate) -> None:
    decision = await gate.reserve([], NOW)

    assert decision == Decision(True, ())
    assert await gate.peek([], NOW) == ()


@pytest.mark.parametrize(
    "limit",
    [
        rate(0),
        rate(-1),
        rate(3, 0.0),
        rate(3, cost=0),
        counter(0),
        counter(3, cost=0),
        counter(3, resets_at=NOW),
    ],
    ids=["rate-0", "rate-neg", "period-0", "rate-cost-0", "counter-0", "counter-cost-0", "ended"],
)
async def test_limits_no_gate_can_decide_are_a_caller_error(gate: QuotaGate, limit: Limit) -> None:
    """Unlimited is expressed by leaving a limit out, never by passing 0."""
    with pytest.raises(ValueError):
        await gate.reserve([rate(100, subject="key:fine"), limit], NOW)

    assert (await gate.peek([rate(100, subject="key:fine")], NOW))[0].remaining == 100


# -- concurrency -------------------------------------------------------------------------


async def test_concurrent_requests_admit_exactly_the_limit(gate: QuotaGate) -> None:
    n = 7
    limits: list[Limit] = [
        rate(n, 60.0, subject="key:hot"),
        counter(n, subject="key:hot"),
        counter(100 * n, cost=2, kind=LimitKind.PLAN_DAILY, subject="user:hot"),
    ]

    decisions = await asyncio.gather(*(gate.reserve(limits, NOW) for _ in range(10 * n)))

    assert sum(d.allowed for d in decisions) == n
    assert [s.remaining for s in await gate.peek(limits, NOW)] == [0, 0, 98 * n]


async def test_concurrent_requests_on_one_rate_admit_exactly_the_limit(gate: QuotaGate) -> None:
    n = 9  # 10 * n stays within redis-py's default pool of 100 connections
    decisions = await asyncio.gather(
        *(gate.reserve([rate(n, 1.0, subject="key:rate")], NOW) for _ in range(10 * n))
    )

    assert sum(d.allowed for d in decisions) == n
    refused = [d.retry_after for d in decisions if not d.allowed]
    assert refused == pytest.approx([1 / n] * 9 * n, abs=1e-6)


@pytest.fixture
async def redis_clients(redis_client: Redis) -> AsyncIterator[list[Redis]]:
    """Several independent clients (own pools, own connections) on the test database."""
    clients = [Redis.from_url(os.environ[REDIS_URL_VAR]) for _ in range(4)]
    yield clients
    for client in clients:
        await client.aclose()


async def test_redis_admits_exactly_the_limit_across_connections(
    redis_clients: list[Redis],
) -> None:
    n = 10
    gates = [RedisQuotaGate(client, namespace=NAMESPACE) for client in redis_clients]
    limits: list[Limit] = [rate(n, 60.0, subject="key:hot"), counter(n, subject="key:hot")]

    decisions = await asyncio.gather(
        *(gates[i % len(gates)].reserve(limits, NOW) for i in range(10 * n))
    )

    assert sum(d.allowed for d in decisions) == n


# -- Redis specifics ---------------------------------------------------------------------


async def test_redis_state_expires_when_it_stops_mattering(redis_client: Redis) -> None:
    gate = RedisQuotaGate(redis_client, namespace=NAMESPACE)
    await gate.reserve([rate(3, 60.0), counter(5, resets_at=NOW + 3600)], NOW)

    rate_ttl = await redis_client.pttl(f"{NAMESPACE}:{{u:}}:r:key_rpm:key:k1")
    counter_ttl = await redis_client.pttl(f"{NAMESPACE}:{{u:}}:c:key_daily:key:k1:20260101")

    assert 20_000 < rate_ttl <= 21_000  # one interval, plus a second of slack
    assert 3_600_000 < counter_ttl <= 3_660_000  # to resets_at, plus a minute of slack


async def test_redis_state_is_whole_microseconds(redis_client: Redis) -> None:
    gate = RedisQuotaGate(redis_client, namespace=NAMESPACE)
    await gate.reserve([rate(3, 60.0)], NOW)

    tat = await redis_client.get(f"{NAMESPACE}:{{u:}}:r:key_rpm:key:k1")

    assert tat == b"1767225620250000"


async def test_redis_sets_a_bucket_expiry_once(redis_client: Redis) -> None:
    gate = RedisQuotaGate(redis_client, namespace=NAMESPACE)
    daily = counter(5, resets_at=NOW + 3600)
    await gate.reserve([daily], NOW)
    await gate.reserve([daily], NOW + 1800)  # the bucket still ends at NOW + 3600

    ttl = await redis_client.pttl(f"{NAMESPACE}:{{u:}}:c:key_daily:key:k1:20260101")

    assert 3_600_000 < ttl <= 3_660_000


async def test_redis_and_memory_decide_alike(redis_client: Redis) -> None:
    """A long random mix of requests, refunds and peeks gets identical answers from both."""
    rng = random.Random(20261127)
    redis_gate = RedisQuotaGate(redis_client, namespace=NAMESPACE)
    memory_gate = MemoryQuotaGate()
    reservations: list[Reservation] = []
    now = NOW
    for _ in range(600):
        now += rng.choice([0.0, 0.0, 0.001, 0.05, 0.3, 1.7])
        bucket_end = (now // 30 + 1) * 30  # 30-second buckets: many of them end
        pool: list[Limit] = [
            rate(7, 1.0, cost=rng.randint(1, 3), subject="key:a"),
            rate(5, 60.0, kind=LimitKind.PLAN_QPS, subject="user:a"),
            rate(3, 0.7, subject="key:b"),
            counter(12, cost=rng.randint(1, 4), bucket=str(bucket_end), resets_at=bucket_end),
            counter(30, kind=LimitKind.PLAN_MONTHLY, bucket="m", resets_at=NOW + 10**6),
        ]
        action = rng.random()
        if action < 0.15 and reservations:
            reservation = rng.choice(reservations)
            await redis_gate.refund(reservation, now)
            await memory_gate.refund(reservation, now)
        elif action < 0.3:
            limits = rng.sample(pool, rng.randint(1, len(pool)))
            assert await redis_gate.peek(limits, now) == await memory_gate.peek(limits, now)
        else:
            limits = rng.sample(pool, rng.randint(1, 3)) + rng.sample(pool, rng.randint(0, 2))
            decision = await redis_gate.reserve(limits, now)
            assert decision == await memory_gate.reserve(limits, now)
            if decision.reservation is not None:
                reservations.append(decision.reservation)


async def test_redis_runs_a_script_the_server_does_not_know(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after a restart or failover: EVALSHA answers NOSCRIPT and the gate falls back to
    EVAL. (An unknown SHA stands in for SCRIPT FLUSH, which would empty the script cache of
    every database on the shared test server.)"""
    for script in (quota_module._GATE_SCRIPT, quota_module._REFUND_SCRIPT):
        monkeypatch.setattr(script, "sha", "0" * 40)
    gate = RedisQuotaGate(redis_client, namespace=NAMESPACE)
    limit = counter(2)

    reservation = (await gate.reserve([limit], NOW)).reservation
    assert reservation is not None
    await gate.refund(reservation, NOW)
    assert (await gate.reserve([limit], NOW)).states[0].remaining == 1
    assert (await gate.peek([limit], NOW))[0].remaining == 1


async def test_redis_works_on_a_client_that_decodes_responses(redis_client: Redis) -> None:
    client = Redis.from_url(os.environ[REDIS_URL_VAR], decode_responses=True)
    try:
        gate = RedisQuotaGate(client, namespace=NAMESPACE)
        decision = await gate.reserve([rate(3, 60.0), counter(5)], NOW)
        assert decision.reservation is not None
        await gate.refund(decision.reservation, NOW)

        assert [s.remaining for s in await gate.peek([rate(3, 60.0), counter(5)], NOW)] == [2, 5]
    finally:
        await client.aclose()


async def test_namespaces_keep_gates_apart(redis_client: Redis) -> None:
    one = RedisQuotaGate(redis_client, namespace="test:one")
    two = RedisQuotaGate(redis_client, namespace="test:two")

    assert (await one.reserve([counter(1)], NOW)).allowed
    assert (await two.reserve([counter(1)], NOW)).allowed


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_redis_raises_quota_store_unavailable() -> None:
    client = Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=1.0,
        socket_timeout=1.0,
        retry=Retry(NoBackoff(), 0),
    )
    gate = RedisQuotaGate(client)
    reservation = (await MemoryQuotaGate().reserve([counter(2)], NOW)).reservation
    assert reservation is not None
    try:
        with pytest.raises(QuotaStoreUnavailable):
            await gate.reserve([rate(), counter()], NOW)
        with pytest.raises(QuotaStoreUnavailable):
            await gate.peek([rate()], NOW)
        with pytest.raises(QuotaStoreUnavailable):
            await gate.refund(reservation, NOW)
        assert (await gate.reserve([], NOW)).allowed  # nothing to ask the store
    finally:
        await client.aclose()


async def test_a_redis_that_stops_answering_raises_quota_store_unavailable() -> None:
    """A server that accepts connections and never replies: the client's socket timeout
    ends the wait, and the gate reports the store as unavailable instead of hanging."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = Redis(host="127.0.0.1", port=port, socket_timeout=0.2, retry=Retry(NoBackoff(), 0))
    try:
        with pytest.raises(QuotaStoreUnavailable):
            await RedisQuotaGate(client).reserve([rate()], NOW)
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


# -- memory specifics --------------------------------------------------------------------


async def test_memory_forgets_state_that_ran_out() -> None:
    gate = MemoryQuotaGate()
    for i in range(3000):
        subject = f"key:{i}"
        limits: list[Limit] = [
            rate(3, 1.0, subject=subject),
            counter(3, subject=subject, resets_at=NOW + i + 2),
        ]
        assert (await gate.reserve(limits, NOW + i)).allowed

    # Only the last few seconds' state can still matter; the rest was swept out.
    assert len(gate._tats) < 1100
    assert len(gate._buckets) < 1100


# -- harden (issue 12, item 4): a lost state is restored, never handed out fresh ---------------


@pytest.mark.backends("memory")
async def test_an_in_process_gate_never_needs_restoring(gate: QuotaGate) -> None:
    async def load() -> list[CounterLimit]:
        raise AssertionError("not called")

    assert await gate.restore(load, NOW) is False


@pytest.mark.backends("redis")
async def test_a_lost_state_refuses_until_restored_from_the_used_units(
    backend: Backend, gate: QuotaGate
) -> None:
    assert backend.redis is not None
    await backend.redis.flushdb()  # Redis restarted without persistence
    limit = counter(10, kind=LimitKind.PLAN_DAILY, subject="user:u1")
    with pytest.raises(QuotaStoreUnavailable):
        await gate.reserve([limit], NOW)
    with pytest.raises(QuotaStoreUnavailable):
        await gate.peek([limit], NOW)
    loads = 0

    async def load() -> list[CounterLimit]:
        nonlocal loads
        loads += 1
        return [counter(7, cost=7, kind=LimitKind.PLAN_DAILY, subject="user:u1")]

    assert await gate.restore(load, NOW) is True
    assert await gate.restore(load, NOW) is False  # whole again: not loaded twice
    assert loads == 1
    [state] = await gate.peek([limit], NOW)
    assert state.remaining == 3
    assert await admitted(gate, [limit], 5) == 3
