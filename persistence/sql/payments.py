"""Payment callbacks in the SQL database (``payment_callbacks``), each write its own short
transaction: a callback is stored before the order is touched, so it survives whatever
happens to the order's transaction."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.billing.callbacks import CallbackFilter, CallbackRecord, CallbackResultKind
from domain.billing.ports import CallbackStore
from domain.paging import Page
from persistence.sql.engine import reader, writer
from persistence.sql.tables import payment_callbacks

_FIELDS = tuple(f.name for f in dataclasses.fields(CallbackRecord))
_VERDICT = ("signature_ok", "processed", "result", "error", "order_id", "provider_txn_id",
            "amount_minor", "currency", "late")  # fmt: skip


def _row(record: CallbackRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["result"] = record.result.value
    return values


def _record(row: RowMapping) -> CallbackRecord:
    values = {name: row[name] for name in _FIELDS}
    values["result"] = CallbackResultKind(row["result"])
    values["params"] = dict(row["params"] or {})
    return CallbackRecord(**values)


class SqlCallbackStore(CallbackStore):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = writer(engine)
        self._reader = reader(engine)

    async def add(self, record: CallbackRecord) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(payment_callbacks.insert().values(**_row(record)))

    async def update(self, record: CallbackRecord) -> None:
        values = {name: _row(record)[name] for name in _VERDICT}
        async with self._engine.begin() as conn:
            await conn.execute(
                update(payment_callbacks)
                .where(payment_callbacks.c.id == record.id)
                .values(**values)
            )

    async def get(self, record_id: str) -> CallbackRecord | None:
        query = select(payment_callbacks).where(payment_callbacks.c.id == record_id)
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _record(row)

    async def list(self, flt: CallbackFilter, *, limit: int, offset: int) -> Page[CallbackRecord]:
        query: Select[Any] = select(payment_callbacks)
        if flt.order_id is not None:
            query = query.where(payment_callbacks.c.order_id == flt.order_id)
        if flt.provider is not None:
            query = query.where(payment_callbacks.c.provider == flt.provider)
        if flt.refused_only:
            query = query.where(payment_callbacks.c.result.in_(("refused", "received")))
        count = select(func.count()).select_from(query.subquery())
        page = (
            query.order_by(payment_callbacks.c.received_at.desc(), payment_callbacks.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._reader.connect() as conn:
            total = (await conn.execute(count)).scalar_one()
            rows = (await conn.execute(page)).mappings().all()
        return Page([_record(r) for r in rows], int(total), limit, offset)
