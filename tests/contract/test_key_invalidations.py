"""Contract of ``KeyInvalidations``, run against every implementation, plus the ways a
Redis subscription breaks (killed connection, silently dead connection)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from domain.apikeys.ports import INVALIDATE_ALL, KeyInvalidations
from domain.ids import new_id
from persistence.memory.key_invalidations import MemoryKeyInvalidations
from persistence.redis.key_invalidations import RedisKeyInvalidations
from tests.conftest import REDIS_URL_VAR
from tests.contract.conftest import Backend

WITHIN = 1.0
"""The issue's bound: a change reaches every process within a second."""


class Subscriber:
    """Drains ``subscribe()`` in a background task, as a process's cache would."""

    def __init__(self, bus: KeyInvalidations) -> None:
        self.received: asyncio.Queue[str] = asyncio.Queue()
        self._task = asyncio.create_task(self._run(bus))

    async def _run(self, bus: KeyInvalidations) -> None:
        async for key_id in bus.subscribe():
            self.received.put_nowait(key_id)

    async def next(self, within: float = WITHIN) -> str:
        async with asyncio.timeout(within):
            return await self.received.get()

    async def live(self) -> None:
        """Wait for the first "*": the subscription is live from then on."""
        assert await self.next(within=5.0) == INVALIDATE_ALL

    async def nothing_more(self) -> None:
        await asyncio.sleep(0.1)
        assert self.received.empty(), self.received.get_nowait()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


@pytest.fixture
async def extra_clients() -> AsyncIterator[list[Redis]]:
    """Redis clients a test opens (one per simulated process), closed afterwards."""
    clients: list[Redis] = []
    yield clients
    for client in clients:
        await client.aclose()


pytestmark = pytest.mark.backends("memory", "redis")

NewBus = Callable[[], KeyInvalidations]
"""A new handle on the same bus (another process, for Redis)."""


@pytest.fixture
def new_bus(backend: Backend, extra_clients: list[Redis]) -> NewBus:
    """The bundle's bus; on Redis, on a channel of this test's own (Redis databases do not
    separate channels, and the server is shared), each handle with its own client."""
    if backend.redis is None:
        shared = backend.adapters.key_invalidations
        return lambda: shared
    channel = f"test:apikeys:{new_id()}"

    def make() -> KeyInvalidations:
        client = Redis.from_url(os.environ[REDIS_URL_VAR])
        extra_clients.append(client)
        return RedisKeyInvalidations(client, channel)

    return make


@pytest.fixture
async def subscribers() -> AsyncIterator[list[Subscriber]]:
    started: list[Subscriber] = []
    yield started
    for subscriber in started:
        await subscriber.close()


async def subscribe(bus: KeyInvalidations, started: list[Subscriber]) -> Subscriber:
    subscriber = Subscriber(bus)
    started.append(subscriber)
    await subscriber.live()
    return subscriber


async def test_a_published_id_reaches_every_subscriber_within_a_second(
    new_bus: NewBus, subscribers: list[Subscriber]
) -> None:
    one = await subscribe(new_bus(), subscribers)
    two = await subscribe(new_bus(), subscribers)
    key_id = new_id()

    await new_bus().publish(key_id)

    assert await one.next() == key_id
    assert await two.next() == key_id


async def test_ids_arrive_in_order_and_once(new_bus: NewBus, subscribers: list[Subscriber]) -> None:
    bus = new_bus()
    subscriber = await subscribe(bus, subscribers)
    key_ids = [new_id() for _ in range(20)]

    for key_id in key_ids:
        await bus.publish(key_id)

    assert [await subscriber.next() for _ in key_ids] == key_ids
    await subscriber.nothing_more()


async def test_publishing_without_subscribers_is_fine(new_bus: NewBus) -> None:
    await new_bus().publish(new_id())


async def test_a_closed_subscriber_does_not_hold_up_the_others(
    new_bus: NewBus, subscribers: list[Subscriber]
) -> None:
    bus = new_bus()
    leaving = await subscribe(bus, subscribers)
    staying = await subscribe(bus, subscribers)

    await leaving.close()
    await bus.publish("k1")

    assert await staying.next() == "k1"
    assert leaving.received.empty()


async def test_a_subscriber_sees_only_what_is_published_after_it_is_live(
    new_bus: NewBus, subscribers: list[Subscriber]
) -> None:
    bus = new_bus()
    await bus.publish("before")
    subscriber = await subscribe(bus, subscribers)

    await bus.publish("after")

    assert await subscriber.next() == "after"


# -- memory specifics --------------------------------------------------------------------


async def test_memory_a_subscriber_that_falls_behind_gets_drop_everything() -> None:
    bus = MemoryKeyInvalidations(max_backlog=3)
    stream = bus.subscribe()
    assert await anext(stream) == INVALIDATE_ALL

    for n in range(5):
        await bus.publish(f"k{n}")

    # k0..k2 filled the backlog; k3 found it full: dropped, replaced by "*"; k4 follows.
    assert [await anext(stream) for _ in range(2)] == [INVALIDATE_ALL, "k4"]
    await stream.aclose()  # type: ignore[attr-defined]  # (an async generator)


# -- Redis specifics ---------------------------------------------------------------------


async def _pubsub_client_ids(redis: Redis, name: str) -> list[str]:
    clients = await redis.client_list(_type="pubsub")
    return [str(client["id"]) for client in clients if client.get("name") == name]


@pytest.mark.parametrize("retries", [0, 5], ids=["error-surfaces", "redis-py-reconnects"])
async def test_redis_after_a_killed_connection_drop_everything_then_carry_on(
    redis_client: Redis, subscribers: list[Subscriber], retries: int
) -> None:
    """With retries, redis-py reconnects and re-subscribes inside the read without
    raising; messages published in between are lost all the same, so "*" is due."""
    name = f"keys-test-{new_id()}"
    client = Redis.from_url(
        os.environ[REDIS_URL_VAR],
        client_name=name,
        retry=Retry(ExponentialBackoff(cap=0.05, base=0.01), retries),
        retry_on_error=[RedisConnectionError],
    )
    bus = RedisKeyInvalidations(client, f"test:apikeys:{new_id()}", first_backoff=0.01)
    try:
        subscriber = await subscribe(bus, subscribers)
        [client_id] = await _pubsub_client_ids(redis_client, name)

        # Only our subscriber's connection: other suites may share this Redis server.
        await redis_client.execute_command("CLIENT", "KILL", "ID", client_id)  # type: ignore[no-untyped-call]

        assert await subscriber.next(within=5.0) == INVALIDATE_ALL
        await bus.publish("after-reconnect")
        assert await subscriber.next() == "after-reconnect"
        assert len(await _pubsub_client_ids(redis_client, name)) == 1
    finally:
        await subscribers.pop().close()
        await client.aclose()


class Blackhole:
    """A TCP proxy to Redis that can stop forwarding without closing anything (what a
    silently dropped connection, e.g. a NAT or load-balancer timeout, looks like to a
    client), or go away altogether (a server restart)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self.frozen = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers.update((writer, up_writer))
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        frozen_here = self.frozen  # connections made while frozen (reconnects) work
        with contextlib.suppress(ConnectionError, OSError):
            while data := await source.read(65536):
                if self.frozen and not frozen_here:
                    continue  # swallowed: no error, no answer
                sink.write(data)
                await sink.drain()
        sink.close()

    async def stop(self) -> None:
        """Drop every connection and refuse new ones until ``start`` again."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()


async def test_redis_a_silently_dead_connection_is_noticed_and_replaced(
    redis_client: Redis, subscribers: list[Subscriber]
) -> None:
    kwargs = redis_client.connection_pool.connection_kwargs
    proxy = Blackhole(kwargs.get("host", "127.0.0.1"), kwargs.get("port", 6379))
    port = await proxy.start()
    client = Redis(host="127.0.0.1", port=port, db=kwargs.get("db", 0))
    channel = f"test:apikeys:{new_id()}"
    bus = RedisKeyInvalidations(
        client, channel, poll_interval=0.05, ping_interval=0.2, pong_timeout=0.3,
        first_backoff=0.01,
    )  # fmt: skip
    publisher = RedisKeyInvalidations(redis_client, channel)
    try:
        subscriber = await subscribe(bus, subscribers)
        await publisher.publish("k1")
        assert await subscriber.next() == "k1"

        proxy.frozen = True
        await publisher.publish("lost")

        assert await subscriber.next(within=5.0) == INVALIDATE_ALL
        await publisher.publish("k2")
        assert await subscriber.next() == "k2"
    finally:
        await subscribers.pop().close()
        await client.aclose()
        await proxy.stop()


async def test_redis_a_subscriber_outlives_a_server_outage(
    redis_client: Redis, subscribers: list[Subscriber]
) -> None:
    kwargs = redis_client.connection_pool.connection_kwargs
    proxy = Blackhole(kwargs.get("host", "127.0.0.1"), kwargs.get("port", 6379))
    port = await proxy.start()
    client = Redis(host="127.0.0.1", port=port, db=kwargs.get("db", 0))
    channel = f"test:apikeys:{new_id()}"
    bus = RedisKeyInvalidations(client, channel, first_backoff=0.01, max_backoff=0.05)
    publisher = RedisKeyInvalidations(redis_client, channel)
    try:
        subscriber = await subscribe(bus, subscribers)

        await proxy.stop()
        await publisher.publish("lost")
        await asyncio.sleep(0.3)  # several refused reconnects, with backoff
        assert subscriber.received.empty()
        await proxy.start(port)

        assert await subscriber.next(within=5.0) == INVALIDATE_ALL
        await publisher.publish("k2")
        assert await subscriber.next() == "k2"
    finally:
        await subscribers.pop().close()
        await client.aclose()
        await proxy.stop()
