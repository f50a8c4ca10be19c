"""Payment callbacks in this process (one process, no database)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from domain.billing.callbacks import CallbackFilter, CallbackRecord, CallbackResultKind
from domain.paging import Page

_REFUSED = (CallbackResultKind.REFUSED, CallbackResultKind.RECEIVED)


class MemoryCallbackStore:
    def __init__(self) -> None:
        self._records: dict[str, CallbackRecord] = {}
        self._order: list[str] = []
        self._lock = asyncio.Lock()

    async def add(self, record: CallbackRecord) -> None:
        async with self._lock:
            if record.id in self._records:
                raise ValueError(f"callback {record.id} exists")
            self._records[record.id] = record
            self._order.append(record.id)

    async def update(self, record: CallbackRecord) -> None:
        async with self._lock:
            stored = self._records.get(record.id)
            if stored is None:
                return
            self._records[record.id] = replace(
                record, params=stored.params, provider=stored.provider,
                client_ip=stored.client_ip, received_at=stored.received_at,
            )  # fmt: skip

    async def get(self, record_id: str) -> CallbackRecord | None:
        return self._records.get(record_id)

    async def list(self, flt: CallbackFilter, *, limit: int, offset: int) -> Page[CallbackRecord]:
        chosen = [
            r
            for r in (self._records[i] for i in reversed(self._order))
            if (flt.order_id is None or r.order_id == flt.order_id)
            and (flt.provider is None or r.provider == flt.provider)
            and (not flt.refused_only or r.result in _REFUSED)
        ]
        chosen.sort(key=lambda r: r.received_at, reverse=True)
        return Page(chosen[offset : offset + limit], len(chosen), limit, offset)
