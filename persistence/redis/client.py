"""The Redis client every store uses, with bounded waits: a Redis that is down answers in
milliseconds, one that hangs within ``TIMEOUT`` seconds, so no request waits on it for
longer than about a second (redis-py's defaults would wait without a bound on a read).
Connection errors and timeouts are registered as ``RedisUnavailable`` (503 with
``Retry-After`` on both edges)."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.errors import RedisUnavailable, register_unavailable

TIMEOUT = 1.0
MAX_CONNECTIONS = 512
"""Per process. A burst beyond it waits up to ``TIMEOUT`` for a free connection."""


def redis_client(url: str, *, timeout: float = TIMEOUT) -> Redis:
    """One retry, at once, after a connection error (a pooled connection that a Redis
    restart closed); none after a timeout (it would double the wait).

    The pool is a ``BlockingConnectionPool`` (worker, issue 17): redis-py 5.x (arq's pin,
    see the README) connects a new connection, handshake included, while holding the
    plain ``ConnectionPool``'s lock, so with a Redis that hangs every request of the
    process queued behind each other's timeout (the n-th waited n seconds); the blocking
    pool connects outside its lock in 5.x and 8.x alike."""
    retry = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))
    pool = BlockingConnectionPool.from_url(
        url, max_connections=MAX_CONNECTIONS, timeout=timeout, decode_responses=False,
        socket_timeout=timeout, socket_connect_timeout=timeout, retry=retry,
        retry_on_timeout=False,
    )  # fmt: skip
    client: Redis = Redis(connection_pool=pool, retry=retry, retry_on_timeout=False)
    client.auto_close_connection_pool = True  # as ``Redis.from_pool``: aclose() closes it
    return client


def _is_redis_failure(exc: BaseException) -> bool:
    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


register_unavailable(_is_redis_failure, RedisUnavailable)
