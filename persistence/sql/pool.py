"""The credential pool's SQL repository (``uow.pool_credentials``), on the unit of work's
transaction. Payloads are stored as the key-ring blobs the service sealed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.engine import RowMapping

from domain.keyring_service import StoredSecret
from domain.paging import Page
from domain.pool.model import Credential, CredentialFilter, CredentialStatus
from domain.pool.ports import SealedCredential
from domain.pool.service import payload_aad
from persistence.sql.sealed import replace_sealed
from persistence.sql.tables import pool_credentials as table
from persistence.sql.transaction import Transaction

SECRET_KIND = "pool"
_STATE_COLUMNS = (
    "provider", "label", "capabilities", "status", "health_score", "fail_count",
    "cooldown_until", "last_used_at", "last_failed_at", "expires_at", "max_concurrency",
    "requests_per_second", "refresh_queued_at",
    "check_failures",  # worker (issue 17)
)  # fmt: skip


class SqlCredentialRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, credential: Credential, payload_enc: bytes) -> None:
        conn = await self._tx.for_write()
        values = {**_row(credential), "id": credential.id, "created_at": credential.created_at}
        await conn.execute(table.insert().values(payload_enc=payload_enc, **values))

    async def get(self, credential_id: str) -> Credential | None:
        row = await self._first(select(table).where(table.c.id == credential_id))
        return None if row is None else _to_credential(row)

    async def get_for_update(self, credential_id: str) -> Credential | None:
        await self._tx.for_write()
        query = select(table).where(table.c.id == credential_id)
        row = await self._first(query.with_for_update() if self._tx.is_postgres else query)
        return None if row is None else _to_credential(row)

    async def sealed(self, credential_id: str) -> SealedCredential | None:
        row = await self._first(select(table).where(table.c.id == credential_id))
        return None if row is None else _to_sealed(row)

    async def leasable(self, provider: str) -> list[SealedCredential]:
        query = select(table).where(
            table.c.provider == provider, table.c.status == CredentialStatus.ACTIVE.value
        )
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return [_to_sealed(row) for row in rows]

    async def update(self, credential: Credential) -> None:
        conn = await self._tx.for_write()
        await conn.execute(
            update(table).where(table.c.id == credential.id).values(**_row(credential))
        )

    async def replace_payload(
        self, credential_id: str, payload_enc: bytes, expires_at: datetime | None
    ) -> None:
        conn = await self._tx.for_write()
        await conn.execute(
            update(table)
            .where(table.c.id == credential_id)
            .values(payload_enc=payload_enc, expires_at=expires_at)
        )

    async def delete(self, credential_id: str) -> bool:
        conn = await self._tx.for_write()
        result = await conn.execute(delete(table).where(table.c.id == credential_id))
        return result.rowcount > 0

    async def page(self, flt: CredentialFilter, *, limit: int, offset: int) -> Page[Credential]:
        conditions = []
        if flt.provider:
            conditions.append(table.c.provider == flt.provider)
        if flt.status:
            conditions.append(table.c.status == flt.status.value)
        total_query = select(func.count()).select_from(table).where(*conditions)
        total = (await self._tx.conn.execute(total_query)).scalar_one()
        query = select(table).where(*conditions).order_by(table.c.id).limit(limit).offset(offset)
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return Page([_to_credential(r) for r in rows], total, limit, offset)

    async def of_provider(self, provider: str) -> list[Credential]:
        query = select(table).where(table.c.provider == provider).order_by(table.c.id)
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return [_to_credential(r) for r in rows]

    async def refresh_queue(self, *, limit: int) -> list[Credential]:
        query = (
            select(table)
            .where(table.c.refresh_queued_at.is_not(None))
            .order_by(table.c.refresh_queued_at, table.c.id)
            .limit(limit)
        )
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return [_to_credential(r) for r in rows]

    async def list_encrypted(self) -> list[StoredSecret]:
        query = select(table.c.id, table.c.payload_enc).order_by(table.c.id)
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return [
            StoredSecret(SECRET_KIND, r["id"], bytes(r["payload_enc"]), payload_aad(r["id"]))
            for r in rows
        ]

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        if secret.kind != SECRET_KIND:
            return False
        conn = await self._tx.for_write()
        return await replace_sealed(
            conn, table, table.c.id, secret.owner, table.c.payload_enc, secret.blob, new_blob
        )

    async def _first(self, query: Select[Any]) -> RowMapping | None:
        row: RowMapping | None = (await self._tx.conn.execute(query)).mappings().first()
        return row


def _row(c: Credential) -> dict[str, Any]:
    values = {name: getattr(c, name) for name in _STATE_COLUMNS}
    values["capabilities"] = list(c.capabilities)
    values["status"] = c.status.value
    return values


def _to_credential(row: RowMapping) -> Credential:
    return Credential(
        id=row["id"],
        provider=row["provider"],
        label=row["label"],
        capabilities=tuple(row["capabilities"] or ()),
        status=CredentialStatus(row["status"]),
        health_score=float(row["health_score"]),
        fail_count=row["fail_count"],
        created_at=row["created_at"],
        cooldown_until=row["cooldown_until"],
        last_used_at=row["last_used_at"],
        last_failed_at=row["last_failed_at"],
        expires_at=row["expires_at"],
        max_concurrency=row["max_concurrency"],
        requests_per_second=row["requests_per_second"],
        refresh_queued_at=row["refresh_queued_at"],
        check_failures=row["check_failures"],  # worker (issue 17)
    )


def _to_sealed(row: RowMapping) -> SealedCredential:
    return SealedCredential(_to_credential(row), bytes(row["payload_enc"]))
