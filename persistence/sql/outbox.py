"""The mail outbox (``mail_outbox``): the unit of work's repository stages a mail in the
transaction of the change; the store delivers from outside any unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.mail.ports import OutboxMail
from persistence.sql.engine import reader, writer
from persistence.sql.tables import mail_outbox as table
from persistence.sql.transaction import Transaction


class SqlOutboxRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, mail: OutboxMail) -> None:
        conn = await self._tx.for_write()
        await conn.execute(
            table.insert().values(
                id=mail.id, recipient=mail.to, sealed=mail.sealed, created_at=mail.created_at,
                next_attempt_at=mail.next_attempt_at, attempts=mail.attempts,
                sent_at=mail.sent_at, last_error=mail.last_error,
            )
        )  # fmt: skip


class SqlOutboxStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._reader = reader(engine)

    async def due(self, now: datetime, *, limit: int) -> list[OutboxMail]:
        query = (
            select(table)
            .where(table.c.sent_at.is_(None), table.c.next_attempt_at <= now)
            .order_by(table.c.created_at, table.c.id)
            .limit(limit)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_to_mail(r) for r in rows]

    async def claim(self, mail_id: str, now: datetime, until: datetime) -> OutboxMail | None:
        async with self._writer.begin() as conn:
            result = await conn.execute(
                update(table)
                .where(table.c.id == mail_id, table.c.sent_at.is_(None))
                .where(table.c.next_attempt_at <= now)
                .values(next_attempt_at=until)
            )
            if result.rowcount != 1:
                return None
            row = (await conn.execute(select(table).where(table.c.id == mail_id))).mappings()
            return _to_mail(row.one())

    async def mark_sent(self, mail_id: str, at: datetime) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(table).where(table.c.id == mail_id).values(
                    sent_at=at, next_attempt_at=None, attempts=table.c.attempts + 1
                )
            )  # fmt: skip

    async def mark_failed(
        self, mail_id: str, *, attempts: int, next_attempt_at: datetime | None, error: str
    ) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(
                update(table).where(table.c.id == mail_id).values(
                    attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:500]
                )
            )  # fmt: skip

    async def get(self, mail_id: str) -> OutboxMail | None:
        async with self._reader.connect() as conn:
            row = (await conn.execute(select(table).where(table.c.id == mail_id))).mappings()
            found = row.first()
        return _to_mail(found) if found is not None else None


def _to_mail(r: RowMapping) -> OutboxMail:
    return OutboxMail(
        id=r["id"], to=r["recipient"], sealed=bytes(r["sealed"]), created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"], attempts=r["attempts"], sent_at=r["sent_at"],
        last_error=r["last_error"],
    )  # fmt: skip
