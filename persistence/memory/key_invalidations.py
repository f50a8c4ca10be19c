"""API-key invalidations inside one process: every subscriber gets every published id.

Each subscriber has its own bounded queue. One that falls too far behind (a stuck cache
task) loses its backlog instead of growing memory without limit, and gets
:data:`INVALIDATE_ALL` instead, exactly as after a lost Redis connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from domain.apikeys.ports import INVALIDATE_ALL


class MemoryKeyInvalidations:
    def __init__(self, max_backlog: int = 10_000) -> None:
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._max_backlog = max_backlog

    async def publish(self, key_id: str) -> None:
        for queue in self._subscribers:
            if queue.full():
                _drain(queue)
                queue.put_nowait(INVALIDATE_ALL)
            else:
                queue.put_nowait(key_id)

    async def subscribe(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue(self._max_backlog)
        self._subscribers.add(queue)
        try:
            yield INVALIDATE_ALL  # live from here on, like the Redis implementation
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)


def _drain(queue: asyncio.Queue[str]) -> None:
    while not queue.empty():
        queue.get_nowait()
