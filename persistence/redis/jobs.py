"""The (job, tick) claim across processes on Redis: ``SET key NX EX``."""

from __future__ import annotations

import math

from redis.asyncio import Redis


class RedisTickClaims:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def claim(self, name: str, tick: int, ttl_seconds: float) -> bool:
        key = f"{self._prefix}jobs:tick:{name}:{tick}"
        return bool(await self._redis.set(key, b"1", nx=True, ex=max(1, math.ceil(ttl_seconds))))
