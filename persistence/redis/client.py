"""The Redis client every store uses, with bounded waits: a Redis that is down answers in
milliseconds, one that hangs within ``TIMEOUT`` seconds, so no request waits on it for
longer than about a second (redis-py's defaults would wait without a bound on a read).
Connection errors and timeouts are registered as ``RedisUnavailable`` (503 with
``Retry-After`` on both edges)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.errors import RedisUnavailable, register_unavailable

TIMEOUT = 1.0


def redis_client(url: str, *, timeout: float = TIMEOUT) -> Redis:
    """One retry, at once, after a connection error (a pooled connection that a Redis
    restart closed); none after a timeout (it would double the wait)."""
    client: Redis = Redis.from_url(  # a plain Redis under redis-py 5 (arq's pin) and 8
        url,
        decode_responses=False,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        retry_on_timeout=False,
    )
    return client


def _is_redis_failure(exc: BaseException) -> bool:
    return isinstance(exc, RedisConnectionError | RedisTimeoutError)


register_unavailable(_is_redis_failure, RedisUnavailable)
