"""issue 18: a reservation that timed out but that Redis ran anyway. Between the gate's
pipelined client and the real Redis, a proxy passes commands at once and holds Redis's
replies back for a second: the command runs and charges, its reply comes after the client's
0.2 s timeout, and the caller has already been told the store is unavailable (under the
default policy, a 503). A gate made with ``refund_late_charges`` gives such a charge back
when the late reply comes; without it (the ``allow`` policy, which served the request) the
charge stays."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from domain.quota.coalescing import CoalescingGate
from domain.quota.gate import Limit, QuotaStoreUnavailable
from gateway.container import build_container
from gateway.settings import load_settings
from persistence.redis.pipelined import PipelinedRedis
from persistence.redis.quota import RedisQuotaGate
from tests.conftest import REDIS_URL_VAR
from tests.contract import test_quota_gate as contract

NOW = contract.NOW
TIMEOUT = 0.2
HELD = 1.0
"""How long the proxy holds a reply back once told to (well past ``TIMEOUT``)."""


class SlowReplies:
    """A TCP proxy to the test Redis: commands go through at once, replies wait
    ``held`` seconds (0 until a test says otherwise)."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.db = parts.path.lstrip("/") or "0"
        self.held = 0.0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/{self.db}"

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        redis_r, redis_w = await asyncio.open_connection(self._host, self._port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, slow: bool) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while chunk := await src.read(65536):
                    if slow and self.held:
                        await asyncio.sleep(self.held)
                    dst.write(chunk)
                    await dst.drain()
            dst.close()

        for task in (
            asyncio.ensure_future(pipe(client_r, redis_w, slow=False)),
            asyncio.ensure_future(pipe(redis_r, client_w, slow=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxy(redis_client: Redis) -> AsyncIterator[tuple[SlowReplies, str]]:
    slow = SlowReplies(os.environ[REDIS_URL_VAR])
    url = await slow.start()
    yield slow, url
    await slow.stop()


@pytest.fixture
async def direct(redis_client: Redis) -> AsyncIterator[RedisQuotaGate]:
    """A gate on the test Redis without the proxy: reads the state as it is."""
    client = PipelinedRedis(os.environ[REDIS_URL_VAR], timeout=5.0)
    yield RedisQuotaGate(client)
    await client.aclose()


async def _remaining(gate: RedisQuotaGate, limit: Limit) -> int:
    return (await gate.peek([limit], NOW))[0].remaining


async def _until_remaining(gate: RedisQuotaGate, limit: Limit, expected: int) -> int:
    found = -1
    for _ in range(100):
        found = await _remaining(gate, limit)
        if found == expected:
            break
        await asyncio.sleep(0.05)
    return found


@contextlib.asynccontextmanager
async def _timed_out_reservation(
    proxy: tuple[SlowReplies, str], direct: RedisQuotaGate, *, refund: bool, calls: int = 1
) -> AsyncIterator[tuple[Limit, PipelinedRedis]]:
    """One admitted call (5 -> 4), then ``calls`` that time out while Redis charges them;
    yields the limit and the client (closed afterwards)."""
    slow, url = proxy
    client = PipelinedRedis(url, timeout=TIMEOUT)
    try:
        gate = CoalescingGate(RedisQuotaGate(client, refund_late_charges=refund))
        limit = contract.counter(5, subject=f"key:late-{refund}-{calls}")
        assert (await gate.reserve([limit], NOW)).allowed
        slow.held = HELD
        outcomes = await asyncio.gather(
            *(gate.reserve([limit], NOW) for _ in range(calls)), return_exceptions=True
        )
        assert all(isinstance(o, QuotaStoreUnavailable) for o in outcomes), outcomes
        # Redis ran them (the proxy passed the commands at once); their replies are held.
        assert await _remaining(direct, limit) == 4 - calls
        slow.held = 0.0
        yield limit, client
    finally:
        await client.aclose()


async def test_a_charge_answered_after_the_timeout_is_given_back(
    proxy: tuple[SlowReplies, str], direct: RedisQuotaGate
) -> None:
    async with _timed_out_reservation(proxy, direct, refund=True) as (limit, _):
        assert await _until_remaining(direct, limit, 4) == 4


async def test_a_coalesced_batch_that_timed_out_is_given_back_whole(
    proxy: tuple[SlowReplies, str], direct: RedisQuotaGate
) -> None:
    async with _timed_out_reservation(proxy, direct, refund=True, calls=3) as (limit, _):
        assert await _until_remaining(direct, limit, 4) == 4


async def test_without_refunds_the_late_charge_stays(
    proxy: tuple[SlowReplies, str], direct: RedisQuotaGate
) -> None:
    """The ``allow`` policy: the request was served, so its late charge is right."""
    async with _timed_out_reservation(proxy, direct, refund=False) as (limit, _):
        await asyncio.sleep(HELD + 0.5)
        assert await _remaining(direct, limit) == 3


async def test_the_next_call_after_a_timeout_runs_on_a_new_connection_meanwhile(
    proxy: tuple[SlowReplies, str], direct: RedisQuotaGate
) -> None:
    async with _timed_out_reservation(proxy, direct, refund=True) as (limit, client):
        gate = RedisQuotaGate(client, refund_late_charges=True)
        decision = await gate.reserve([limit], NOW)  # while the old one waits for its reply
        assert decision.allowed and decision.states[0].remaining == 2
        assert await _until_remaining(direct, limit, 3) == 3  # then the late one given back


@pytest.mark.parametrize(("policy", "refunds"), [("deny", True), ("allow", False)])
async def test_a_deployment_gives_late_charges_back_only_when_it_refuses_the_request(
    tmp_path: Path, redis_client: Redis, policy: str, refunds: bool
) -> None:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'karpov.db'}",
        redis_url=os.environ[REDIS_URL_VAR], quota_on_redis_error=policy, hibp_mode="off",
        master_key="ab" * 32,
    )  # fmt: skip
    container = await build_container(settings)
    try:
        gate = container.adapters.quota_gate
        assert isinstance(gate, CoalescingGate)
        assert isinstance(gate._inner, RedisQuotaGate)
        assert gate._inner.refunds_late_charges is refunds
    finally:
        await container.close()


async def test_a_redis_that_never_answers_still_fails_each_call_within_the_timeout() -> None:
    """With late replies asked for, a silent Redis fails each call within the timeout as
    before; every call connects anew while the old connections wait, and ``aclose`` closes
    them all."""
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await reader.read(-1)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT)
    gate = RedisQuotaGate(client, refund_late_charges=True)
    try:
        loop = asyncio.get_running_loop()
        for _ in range(3):
            started = loop.time()
            with pytest.raises(QuotaStoreUnavailable):
                await gate.reserve([contract.counter(5, subject="key:silent")], NOW)
            assert loop.time() - started < 2.0
        assert len(connections) == 3
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
    await asyncio.sleep(0.05)
    assert all(writer.transport.is_closing() for writer in connections)
