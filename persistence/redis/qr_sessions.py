"""Admin QR login sessions in Redis, shared by every API process (upstreams, issue 15).

Layout (``P`` is the prefix): ``P qr-login:<session id>``, the service's sealed record,
expiring (PX) with the session. ``take`` is ``GETDEL``: of two concurrent polls that both
saw the login finish, exactly one gets the record (and adds the credential).
"""

from __future__ import annotations

import math

from redis.asyncio import Redis


class RedisQrSessionStore:
    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}qr-login:"

    async def put(self, session_id: str, record: bytes, *, ttl_seconds: float) -> None:
        px = max(1, math.ceil(ttl_seconds * 1000))
        await self._redis.set(self._prefix + session_id, record, px=px)

    async def get(self, session_id: str) -> bytes | None:
        raw = await self._redis.get(self._prefix + session_id)
        return None if raw is None else raw.encode() if isinstance(raw, str) else raw

    async def take(self, session_id: str) -> bytes | None:
        raw = await self._redis.getdel(self._prefix + session_id)
        return None if raw is None else raw.encode() if isinstance(raw, str) else raw
