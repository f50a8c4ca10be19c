"""Admin QR login sessions in this process (no Redis: a single process only; upstreams,
issue 15). Expiry is measured on the injected clock, as the Redis store's is on Redis's."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.clock import Clock


class MemoryQrSessionStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._records: dict[str, tuple[bytes, datetime]] = {}

    async def put(self, session_id: str, record: bytes, *, ttl_seconds: float) -> None:
        self._prune()
        self._records[session_id] = (record, self._clock.now() + timedelta(seconds=ttl_seconds))

    async def get(self, session_id: str) -> bytes | None:
        found = self._records.get(session_id)
        if found is None or found[1] <= self._clock.now():
            return None
        return found[0]

    async def take(self, session_id: str) -> bytes | None:
        found = await self.get(session_id)
        self._records.pop(session_id, None)
        return found

    def _prune(self) -> None:
        now = self._clock.now()
        for key in [k for k, (_, until) in self._records.items() if until <= now]:
            del self._records[key]
