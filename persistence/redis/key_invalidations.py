"""API-key invalidations over Redis pub/sub: a changed key reaches every process at once.

Pub/sub delivers only to connections subscribed at the moment of ``PUBLISH``; whatever
is published while a subscriber's connection is down is lost for it. So ``subscribe``
never ends on a connection problem: it reconnects with exponential backoff and, once
subscribed again, yields :data:`INVALIDATE_ALL` ("*"), telling the caller to drop its
whole cache. It also yields "*" first, as soon as the subscription is live.

Three ways a subscription breaks, all handled:

* the read fails (server restart, ``CLIENT KILL``, output-buffer limit): the error;
* redis-py reconnects and re-subscribes by itself inside a read (its retry policy): a
  connect callback on the pub/sub connection notices;
* the connection hangs without an error (a silent network partition): we ``PING``
  after ``ping_interval`` seconds of silence and give up after ``pong_timeout`` more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing, suppress
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.apikeys.ports import INVALIDATE_ALL

DEFAULT_CHANNEL = "karpov:apikeys:invalidate"

_log = logging.getLogger(__name__)


CLOSE_TIMEOUT = 1.0
"""Seconds a subscription may take to close before it is abandoned."""


class _LinkLost(Exception):
    """The subscription may have missed messages; start a fresh one."""


class _Link:
    """One pub/sub connection subscribed to one channel."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self._pubsub: PubSub = redis.pubsub()
        self._channel = channel
        self._connection: AbstractConnection | None = None
        self.reconnected = False

    async def open(self, within: float) -> None:
        """Subscribe and wait for the server's confirmation: from then on every publish
        reaches us."""
        await self._pubsub.subscribe(self._channel)
        self._connection = self._pubsub.connection
        if self._connection is not None:
            # Registered after the first connect, so it only fires on a reconnect.
            self._connection.register_connect_callback(self._on_connect)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (remaining := deadline - loop.time()) > 0:
            message = await self._pubsub.get_message(timeout=remaining)
            if message is not None and message["type"] == "subscribe":
                return
        raise _LinkLost("no subscribe confirmation")

    async def _on_connect(self, _connection: AbstractConnection) -> None:
        self.reconnected = True

    async def next_message(self, within: float) -> dict[str, Any] | None:
        message: dict[str, Any] | None = await self._pubsub.get_message(timeout=within)
        if self.reconnected:
            raise _LinkLost("redis-py reconnected the subscription")
        return message

    async def ping(self) -> None:
        await self._pubsub.ping()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.deregister_connect_callback(self._on_connect)  # type: ignore[no-untyped-call]
        # A connection that is already gone has nothing left to release cleanly.
        # Bounded: closing runs while the subscriber is being cancelled (shutdown), and a
        # pub/sub whose read was cancelled mid-reply can wait on its connection forever.
        with suppress(RedisConnectionError, RedisTimeoutError, OSError, TimeoutError):
            await asyncio.wait_for(self._pubsub.aclose(), CLOSE_TIMEOUT)  # type: ignore[no-untyped-call]


class RedisKeyInvalidations:
    def __init__(
        self,
        redis: Redis,
        channel: str = DEFAULT_CHANNEL,
        *,
        poll_interval: float = 1.0,
        ping_interval: float = 10.0,
        pong_timeout: float = 5.0,
        first_backoff: float = 0.05,
        max_backoff: float = 5.0,
    ) -> None:
        self._redis = redis
        self._channel = channel
        self._poll_interval = poll_interval
        self._ping_interval = ping_interval
        self._pong_timeout = pong_timeout
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff

    async def publish(self, key_id: str) -> None:
        await self._redis.publish(self._channel, key_id)

    async def subscribe(self) -> AsyncIterator[str]:
        backoff = self._first_backoff
        while True:
            link = _Link(self._redis, self._channel)
            try:
                await link.open(within=self._pong_timeout)
                backoff = self._first_backoff
                yield INVALIDATE_ALL
                async with aclosing(self._key_ids(link)) as key_ids:
                    async for key_id in key_ids:
                        yield key_id
            except (RedisError, OSError, _LinkLost) as exc:
                # Any Redis failure (not only connection errors: a failover replica answering
                # READONLY, a server still LOADING) must not end the caller's cache loop.
                _log.warning(
                    "api-key invalidation subscription interrupted (%r), reconnecting in %.2fs",
                    exc,
                    backoff,
                    extra={"channel": self._channel},
                )
            finally:
                await link.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _key_ids(self, link: _Link) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        ping_sent: float | None = None
        while True:
            message = await link.next_message(self._poll_interval)
            now = loop.time()
            if message is not None:
                last_heard, ping_sent = now, None
                if message["type"] == "message":
                    data = message["data"]
                    yield data.decode(errors="replace") if isinstance(data, bytes) else str(data)
                continue
            if ping_sent is not None:
                if now - ping_sent > self._pong_timeout:
                    raise _LinkLost("no answer to PING")
            elif now - last_heard >= self._ping_interval:
                await link.ping()
                ping_sent = now
