"""Sessions durable in the database, with Redis only as a cache (issue 12, item 4): a Redis
restart, or a Redis that is down, signs nobody out.

* ``add`` and ``touch`` write the database, then the cache (a cache failure is logged and
  ignored: the next lookup reads the database).
* ``get_by_token_hash`` asks the cache; on a miss it reads the database and fills the cache;
  when Redis fails it answers from the database alone.
* Lists come from the database.
* A revocation must reach the cache, or a revoked session would live on in it: ``delete``
  and ``delete_for_user`` remove the cache entries FIRST (Redis down: the revocation is
  refused with ``REDIS_UNAVAILABLE`` and nothing changed), then the rows, then the cache
  entries again (a lookup that refilled the cache in between is undone).

Sessions that existed only in Redis before this store keep working from the cache until
they expire; they are not listed (the database does not know them).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import UTC, datetime

from domain.accounts.model import Session
from domain.accounts.ports import SessionStore
from domain.errors import as_unavailable

log = logging.getLogger("karpov.sessions")


class CachedSessionStore:
    def __init__(self, durable: SessionStore, cache: SessionStore) -> None:
        self._durable = durable
        self._cache = cache

    async def _cached(self, what: str, call: Awaitable[object]) -> bool:
        """Await a cache call; ``False`` (logged) when Redis failed."""
        try:
            await call
        except Exception as exc:
            if as_unavailable(exc) is None:
                raise
            log.warning("session cache %s failed (%r); the database answers", what, exc)
            return False
        return True

    async def add(self, session: Session) -> None:
        await self._durable.add(session)
        await self._cached("add", self._cache.add(session))

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        try:
            found = await self._cache.get_by_token_hash(token_hash)
        except Exception as exc:
            if as_unavailable(exc) is None:
                raise
            log.warning("session cache lookup failed (%r); the database answers", exc)
            return await self._durable.get_by_token_hash(token_hash)
        if found is not None:
            return found
        found = await self._durable.get_by_token_hash(token_hash)
        if found is not None and found.expires_at > datetime.now(UTC):
            await self._cached("fill", self._cache.add(found))
        return found

    async def touch(self, session: Session, seen_at: datetime) -> None:
        await self._durable.touch(session, seen_at)
        await self._cached("touch", self._cache.touch(session, seen_at))

    async def list_for_user(self, user_id: str) -> list[Session]:
        return await self._durable.list_for_user(user_id)

    async def delete(self, user_id: str, session_id: str) -> bool:
        await self._cache.delete(user_id, session_id)
        deleted = await self._durable.delete(user_id, session_id)
        await self._cached("delete", self._cache.delete(user_id, session_id))
        return deleted

    async def delete_for_user(self, user_id: str, *, except_id: str | None = None) -> int:
        await self._cache.delete_for_user(user_id, except_id=except_id)
        deleted = await self._durable.delete_for_user(user_id, except_id=except_id)
        await self._cached("delete", self._cache.delete_for_user(user_id, except_id=except_id))
        return deleted
