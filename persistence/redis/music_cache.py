"""The music cache in Redis, shared by every process: ``P music:...`` string keys with
Redis expiry (millisecond precision, so a play URL never outlives its own expiry)."""

from __future__ import annotations

import math

from redis.asyncio import Redis


class RedisMusicCache:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        found = await self._redis.get(self._prefix + key)
        return None if found is None else found if isinstance(found, bytes) else found.encode()

    async def get_with_ttl(self, key: str) -> tuple[bytes, float] | None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._prefix + key)
            pipe.pttl(self._prefix + key)
            found, left = await pipe.execute()
        if found is None or not isinstance(left, int) or left <= 0:
            return None  # missing, or kept without an expiry (never by us)
        return (found if isinstance(found, bytes) else found.encode()), left / 1000

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        milliseconds = math.floor(ttl_seconds * 1000)
        if milliseconds <= 0:
            return
        await self._redis.set(self._prefix + key, value, px=milliseconds)
