"""TOTP factors and recovery codes, bound to the accounts unit of work's transaction.

Every write goes through the unit's ``for_write()`` (``BEGIN IMMEDIATE`` on SQLite), so a
unit of work that is left without committing also undoes these changes, including the
``users.totp_enabled`` flag that ``enable`` and ``disable`` flip.

The replay guard and the recovery codes are single conditional ``UPDATE`` statements: the
row lock (PostgreSQL, which re-checks the ``WHERE`` clause after waiting for it under READ
COMMITTED) or the write lock (SQLite) lets exactly one of several concurrent callers win.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.accounts.errors import UserNotFound
from domain.clock import Clock
from domain.keyring_service import StoredSecret
from domain.twofactor.model import TotpFactor
from domain.twofactor.service import pending_aad, secret_aad
from persistence.sql.sealed import replace_sealed
from persistence.sql.tables import totp_recovery_codes, user_totp, users
from persistence.sql.transaction import Transaction

SECRET_KIND = "totp"
PENDING_KIND = "totp-pending"


class SqlTotpRepository:
    def __init__(self, tx: Transaction, clock: Clock) -> None:
        self._tx = tx
        self._clock = clock

    async def get(self, user_id: str) -> TotpFactor | None:
        query = select(user_totp).where(user_totp.c.user_id == user_id)
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_factor(row)

    async def save_pending(self, user_id: str, secret_enc: bytes, expires_at: datetime) -> None:
        now = self._clock.now()
        pending = {
            "pending_secret_enc": secret_enc,
            "pending_expires_at": expires_at,
            "updated_at": now,
        }
        await self._upsert(user_id, insert={**pending, "secret_enc": None}, update=pending)

    async def enable(
        self, user_id: str, secret_enc: bytes, step: int, recovery_hashes: list[str]
    ) -> None:
        now = self._clock.now()
        await self._set_user_flag(user_id, enabled=True, now=now)
        factor = {
            "secret_enc": secret_enc,
            "last_step": step,
            "pending_secret_enc": None,
            "pending_expires_at": None,
            "failed_attempts": 0,
            "locked_until": None,
            "updated_at": now,
        }
        await self._upsert(user_id, insert=factor, update=factor)
        await self.replace_recovery_codes(user_id, recovery_hashes)

    async def disable(self, user_id: str) -> None:
        now = self._clock.now()
        conn = await self._set_user_flag(user_id, enabled=False, now=now)
        await conn.execute(delete(totp_recovery_codes).where(_codes_of(user_id)))
        await conn.execute(delete(user_totp).where(user_totp.c.user_id == user_id))

    async def advance_step(self, user_id: str, step: int) -> bool:
        conn = await self._tx.for_write()
        statement = (
            update(user_totp)
            .where(
                user_totp.c.user_id == user_id,
                or_(user_totp.c.last_step.is_(None), user_totp.c.last_step < step),
            )
            .values(last_step=step)
        )
        result = await conn.execute(statement)
        return result.rowcount > 0

    async def record_failure(self, user_id: str, *, limit: int, lock_until: datetime) -> int:
        """Returns the failures counted so far, ``limit`` included: when the count reaches
        it the factor locks until ``lock_until`` and the stored count starts again at 0, so
        the lock is followed by a fresh budget. 0 when the user has no factor."""
        conn = await self._tx.for_write()
        # The row lock (PostgreSQL) or the write lock (SQLite) serialises concurrent
        # callers between this read and the update below.
        query = select(user_totp.c.failed_attempts).where(user_totp.c.user_id == user_id)
        if self._tx.is_postgres:
            query = query.with_for_update()
        current = (await conn.execute(query)).scalar_one_or_none()
        if current is None:
            return 0
        count: int = current + 1
        values: dict[str, Any] = {"failed_attempts": count}
        if count >= limit:
            values = {"failed_attempts": 0, "locked_until": lock_until}
        await conn.execute(update(user_totp).where(user_totp.c.user_id == user_id).values(**values))
        return count

    async def reset_failures(self, user_id: str) -> None:
        """Forget the failure count; a running lock is left to expire."""
        conn = await self._tx.for_write()
        await conn.execute(
            update(user_totp)
            .where(user_totp.c.user_id == user_id, user_totp.c.failed_attempts != 0)
            .values(failed_attempts=0)
        )

    async def replace_recovery_codes(self, user_id: str, hashes: list[str]) -> None:
        conn = await self._tx.for_write()
        await conn.execute(delete(totp_recovery_codes).where(_codes_of(user_id)))
        unique = list(dict.fromkeys(hashes))
        if not unique:
            return
        now = self._clock.now()
        rows = [{"user_id": user_id, "code_hash": h, "created_at": now} for h in unique]
        try:
            async with conn.begin_nested():
                await conn.execute(totp_recovery_codes.insert(), rows)
        except IntegrityError:
            raise UserNotFound() from None  # the only constraint left: the foreign key

    async def consume_recovery_code(self, user_id: str, code_hash: str, at: datetime) -> bool:
        conn = await self._tx.for_write()
        statement = (
            update(totp_recovery_codes)
            .where(
                _codes_of(user_id),
                totp_recovery_codes.c.code_hash == code_hash,
                totp_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        result = await conn.execute(statement)
        return result.rowcount > 0

    async def count_recovery_codes(self, user_id: str) -> int:
        query = (
            select(func.count())
            .select_from(totp_recovery_codes)
            .where(_codes_of(user_id), totp_recovery_codes.c.used_at.is_(None))
        )
        return (await self._tx.conn.execute(query)).scalar_one()

    async def list_encrypted(self) -> list[StoredSecret]:
        query = select(
            user_totp.c.user_id, user_totp.c.secret_enc, user_totp.c.pending_secret_enc
        ).order_by(user_totp.c.user_id)
        found: list[StoredSecret] = []
        for row in (await self._tx.conn.execute(query)).mappings():
            user_id = row["user_id"]
            if row["secret_enc"] is not None:
                blob = bytes(row["secret_enc"])
                found.append(StoredSecret(SECRET_KIND, user_id, blob, secret_aad(user_id)))
            if row["pending_secret_enc"] is not None:
                blob = bytes(row["pending_secret_enc"])
                found.append(StoredSecret(PENDING_KIND, user_id, blob, pending_aad(user_id)))
        return found

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        if secret.kind == SECRET_KIND:
            column = user_totp.c.secret_enc
        elif secret.kind == PENDING_KIND:
            column = user_totp.c.pending_secret_enc
        else:
            return False
        conn = await self._tx.for_write()
        return await replace_sealed(
            conn, user_totp, user_totp.c.user_id, secret.owner, column, secret.blob, new_blob
        )

    async def _set_user_flag(
        self, user_id: str, *, enabled: bool, now: datetime
    ) -> AsyncConnection:
        conn = await self._tx.for_write()
        statement = (
            update(users).where(users.c.id == user_id).values(totp_enabled=enabled, updated_at=now)
        )
        if (await conn.execute(statement)).rowcount == 0:
            raise UserNotFound()
        return conn

    async def _upsert(
        self, user_id: str, *, insert: Mapping[str, Any], update: Mapping[str, Any]
    ) -> None:
        """Insert the user's factor row, or update ``update``'s columns of the existing one."""
        conn = await self._tx.for_write()
        values = {"user_id": user_id, **insert}
        statement: postgresql.Insert | sqlite.Insert
        if self._tx.is_postgres:
            statement = postgresql.insert(user_totp).values(values)
        else:
            statement = sqlite.insert(user_totp).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[user_totp.c.user_id], set_=dict(update)
        )
        try:
            async with conn.begin_nested():
                await conn.execute(statement)
        except IntegrityError:
            raise UserNotFound() from None  # the only constraint left: the foreign key


def _codes_of(user_id: str) -> ColumnElement[bool]:
    return totp_recovery_codes.c.user_id == user_id


def _to_factor(row: RowMapping) -> TotpFactor:
    return TotpFactor(
        user_id=row["user_id"],
        secret_enc=_bytes(row["secret_enc"]),
        last_step=row["last_step"],
        pending_secret_enc=_bytes(row["pending_secret_enc"]),
        pending_expires_at=row["pending_expires_at"],
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
    )


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)
