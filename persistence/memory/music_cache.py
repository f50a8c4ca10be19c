"""The music cache in this process: a bounded LRU with per-entry expiry (the embedded
default, without Redis)."""

from __future__ import annotations

from collections import OrderedDict

from domain.clock import Clock

DEFAULT_ENTRIES = 10_000


class MemoryMusicCache:
    def __init__(self, clock: Clock, *, max_entries: int = DEFAULT_ENTRIES) -> None:
        self._clock = clock
        self._max = max_entries
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] <= self._clock.now().timestamp():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return found[1]

    async def get_with_ttl(self, key: str) -> tuple[bytes, float] | None:
        found = self._items.get(key)
        if found is None:
            return None
        left = found[0] - self._clock.now().timestamp()
        if left <= 0:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return found[1], left

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            return
        self._items[key] = (self._clock.now().timestamp() + ttl_seconds, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
