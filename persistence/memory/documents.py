"""Persisted queries in this process: a least-recently-used cache bounded by entries and
by bytes (without Redis, and as the Redis store's fallback)."""

from __future__ import annotations

from collections import OrderedDict

DEFAULT_ENTRIES = 2000
DEFAULT_BYTES = 16 * 1024 * 1024


class LruPersistedQueryStore:
    def __init__(self, max_entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES) -> None:
        self._items: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0
        self._max_entries = max_entries
        self._max_bytes = max_bytes

    def __len__(self) -> int:
        return len(self._items)

    async def get(self, sha256: str) -> str | None:
        return self.get_now(sha256)

    async def put(self, sha256: str, document: str) -> None:
        self.put_now(sha256, document)

    def get_now(self, sha256: str) -> str | None:
        found = self._items.get(sha256)
        if found is not None:
            self._items.move_to_end(sha256)
        return found

    def put_now(self, sha256: str, document: str) -> None:
        size = len(document)
        if size > self._max_bytes:
            return
        old = self._items.pop(sha256, None)
        if old is not None:
            self._bytes -= len(old)
        self._items[sha256] = document
        self._bytes += size
        while len(self._items) > self._max_entries or self._bytes > self._max_bytes:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= len(evicted)
