"""Persisted queries in Redis, shared by every API process: ``P apq:<sha256>`` holds the
document, expiring ``ttl_seconds`` after it was last registered. Reads go through a small
in-process LRU first (a hot document costs no round trip), and an unreachable Redis only
costs the cache: the store then answers from the LRU alone (a miss makes the client send
the query again), so queries never fail because Redis is down."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from persistence.memory.documents import LruPersistedQueryStore

log = logging.getLogger("karpov.documents")

DEFAULT_TTL_SECONDS = 7 * 24 * 3600


class RedisPersistedQueryStore:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        local: LruPersistedQueryStore | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}apq:"
        self._ttl = ttl_seconds
        self._local = local if local is not None else LruPersistedQueryStore(max_entries=500)

    async def get(self, sha256: str) -> str | None:
        found = self._local.get_now(sha256)
        if found is not None:
            return found
        try:
            raw = await self._redis.get(self._prefix + sha256)
        except Exception:
            log.warning("persisted query lookup in Redis failed; using the local cache only")
            return None
        if raw is None:
            return None
        document = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        self._local.put_now(sha256, document)
        return document

    async def put(self, sha256: str, document: str) -> None:
        self._local.put_now(sha256, document)
        try:
            await self._redis.set(self._prefix + sha256, document.encode("utf-8"), ex=self._ttl)
        except Exception:
            log.warning("persisted query registration in Redis failed; kept in this process")
