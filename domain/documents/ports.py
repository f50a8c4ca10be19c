"""What the persisted documents need from outside."""

from __future__ import annotations

from typing import Protocol


class PersistedQueryStore(Protocol):
    """Documents by the hex SHA-256 of their text. A cache: an entry may be forgotten at
    any time (the client then registers it again)."""

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...
