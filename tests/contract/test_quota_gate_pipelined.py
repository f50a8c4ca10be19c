"""perf (issue 18): the quota gate on the lean pipelined client a deployment uses
(``persistence.redis.pipelined``): the whole ``QuotaGate`` contract again, every limit at
its edge with the requests of one loop tick coalesced into one write, several clients
(processes) on one Redis, and the failures (refused, silent, lost) as the gate reports
them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from domain.quota.gate import (
    CounterLimit,
    Limit,
    LimitKind,
    QuotaStoreUnavailable,
    RateLimit,
)
from domain.quota.ports import QuotaGate
from persistence.redis.pipelined import PipelinedRedis
from persistence.redis.quota import RedisQuotaGate
from tests.conftest import REDIS_URL_VAR
from tests.contract import test_quota_gate as contract

NOW = contract.NOW
DAY_END = contract.DAY_END
MONTH_END = DAY_END + 30 * 86_400.0

# Every contract test that takes only the ``gate`` (the in-process specifics aside) runs
# here against the pipelined client.
globals().update(contract.gate_only_tests())


@pytest.fixture
async def pipelined(redis_client: Redis) -> AsyncIterator[PipelinedRedis]:
    client = PipelinedRedis(os.environ[REDIS_URL_VAR], timeout=5.0)
    yield client
    await client.aclose()


@pytest.fixture
def gate(pipelined: PipelinedRedis) -> QuotaGate:
    return RedisQuotaGate(pipelined)


def _limit(kind: LimitKind, n: int, cost: int = 1) -> Limit:
    subject = f"user:edge-{kind.value}" if kind.value.startswith("plan") else f"key:{kind.value}"
    match kind:
        case LimitKind.KEY_RPM:
            return RateLimit(kind, subject, n * cost, 60.0, cost)
        case LimitKind.PLAN_QPS:
            return RateLimit(kind, subject, n * cost, 1.0, cost)
        case LimitKind.PLAN_MONTHLY:
            return CounterLimit(kind, subject, n * cost, "2026-01", MONTH_END, cost)
        case _:
            return CounterLimit(kind, subject, n * cost, "20260101", DAY_END, cost)


@pytest.mark.parametrize("kind", list(LimitKind))
async def test_every_limit_admits_exactly_its_allowance_from_one_coalesced_write(
    gate: QuotaGate, kind: LimitKind
) -> None:
    """N + 5 requests issued in one loop tick travel in one write: exactly N are
    admitted, the N-th leaves nothing, the next is refused."""
    n = 6
    limit = _limit(kind, n, cost=3 if kind.value.startswith("plan_") else 1)

    decisions = await asyncio.gather(*(gate.reserve([limit], NOW) for _ in range(n + 5)))

    assert [d.allowed for d in decisions] == [True] * n + [False] * 5
    assert decisions[n - 1].states[0].remaining == 0
    assert decisions[n].denied == limit
    assert (await gate.peek([limit], NOW))[0].remaining == 0
    assert not (await gate.reserve([limit], NOW)).allowed


@pytest.mark.parametrize("kind", list(LimitKind))
async def test_one_unit_below_the_edge_is_admitted_and_the_edge_holds(
    gate: QuotaGate, kind: LimitKind
) -> None:
    n = 4
    limit = _limit(kind, n)
    for _ in range(n - 1):
        assert (await gate.reserve([limit], NOW)).allowed
    last, over = await asyncio.gather(gate.reserve([limit], NOW), gate.reserve([limit], NOW))
    assert last.allowed and last.states[0].remaining == 0
    assert not over.allowed


async def test_several_clients_on_one_redis_admit_exactly_the_limit(redis_client: Redis) -> None:
    """Four clients (as four processes would hold) over the same limits at once."""
    n = 10
    clients = [PipelinedRedis(os.environ[REDIS_URL_VAR], timeout=5.0) for _ in range(4)]
    gates = [RedisQuotaGate(client) for client in clients]
    limits: list[Limit] = [
        RateLimit(LimitKind.KEY_RPM, "key:many", n, 60.0),
        CounterLimit(LimitKind.KEY_DAILY, "key:many", n, "20260101", DAY_END),
        CounterLimit(LimitKind.PLAN_DAILY, "user:many", 3 * n, "20260101", DAY_END, 3),
    ]
    try:
        decisions = await asyncio.gather(
            *(gates[i % len(gates)].reserve(limits, NOW) for i in range(10 * n))
        )
    finally:
        for client in clients:
            await client.aclose()
    assert sum(d.allowed for d in decisions) == n


async def test_an_unreachable_redis_raises_quota_store_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout=1.0)
    try:
        with pytest.raises(QuotaStoreUnavailable):
            await RedisQuotaGate(client).reserve([contract.rate()], NOW)
    finally:
        await client.aclose()


async def test_a_redis_that_stops_answering_fails_every_waiting_call_within_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    gate = RedisQuotaGate(client)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcomes = await asyncio.gather(
            *(gate.reserve([contract.rate()], NOW) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(o, QuotaStoreUnavailable) for o in outcomes), outcomes
        assert loop.time() - started < 2.0
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()


async def test_a_lost_connection_fails_its_calls_and_the_next_call_connects_again(
    pipelined: PipelinedRedis, redis_client: Redis
) -> None:
    gate = RedisQuotaGate(pipelined)
    limit = contract.counter(5, subject="key:reconnect")
    assert (await gate.reserve([limit], NOW)).allowed
    ours = await pipelined.execute_command("CLIENT", "ID")  # only this client:
    await redis_client.execute_command("CLIENT", "KILL", "ID", ours)  # type: ignore[no-untyped-call]
    # The kill may land before or after the next call is written: that call either fails
    # as unavailable or, on a fresh connection, succeeds; the one after it succeeds.
    with contextlib.suppress(QuotaStoreUnavailable):
        await gate.reserve([limit], NOW)
    decision = await gate.reserve([limit], NOW)
    assert decision.allowed
    assert decision.states[0].remaining in (2, 3)
