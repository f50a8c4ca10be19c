"""Account security in the SQL database: the audit log, one-time e-mail tokens and e-mail
codes (the codes only for deployments without Redis).

Each method is one short transaction; lists and lookups run in autocommit on PostgreSQL
(one round trip per statement).

* The audit log is append-only (no update or delete here). ``subject_user_id`` is
  deliberately not a foreign key: audit lines outlive the users they are about.
* ``SqlOneTimeTokenStore.use`` is a single conditional ``UPDATE``: the row lock
  (PostgreSQL, which re-checks the ``WHERE`` clause after waiting under READ COMMITTED) or
  the write lock (SQLite) lets exactly one concurrent caller win.
* ``SqlEmailCodeStore.check`` reads, compares and then updates or deletes the code under
  the row lock (``SELECT … FOR UPDATE`` on PostgreSQL) or the write lock taken up front
  (``BEGIN IMMEDIATE`` on SQLite), so every guess is counted and a code is consumed once.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.model import CodeCheck, OneTimeToken, StoredEmailCode, TokenPurpose
from domain.paging import Page
from domain.security.model import AuditAction, AuditEvent, AuditFilter
from persistence.sql.engine import reader, writer
from persistence.sql.tables import audit_events, email_codes, one_time_tokens


class SqlAuditStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = reader(engine)

    async def append(self, event: AuditEvent) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(audit_events.insert().values(**_row(event)))

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        conditions = _conditions(flt)
        total_query = select(func.count()).select_from(audit_events).where(*conditions)
        query = (
            select(audit_events)
            .where(*conditions)
            .order_by(audit_events.c.created_at.desc(), audit_events.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._reader.connect() as conn:
            total: int = (await conn.execute(total_query)).scalar_one()
            rows = (await conn.execute(query)).mappings().all()
        return Page(items=[_to_event(r) for r in rows], total=total, limit=limit, offset=offset)


def _conditions(flt: AuditFilter) -> list[ColumnElement[bool]]:
    """``since`` is inclusive, ``until`` exclusive."""
    c = audit_events.c
    conditions: list[ColumnElement[bool]] = []
    if flt.action is not None:
        conditions.append(c.action == flt.action.value)
    if flt.subject_user_id is not None:
        conditions.append(c.subject_user_id == flt.subject_user_id)
    if flt.actor is not None:
        conditions.append(c.actor == flt.actor)
    if flt.since is not None:
        conditions.append(c.created_at >= flt.since)
    if flt.until is not None:
        conditions.append(c.created_at < flt.until)
    return conditions


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "action": event.action.value,
        "created_at": event.created_at,
        "actor": event.actor,
        "subject_user_id": event.subject_user_id,
        "client_ip": event.client_ip,
        "user_agent": event.user_agent,
        "details": {str(k): str(v) for k, v in event.details.items()},
    }


def _to_event(row: RowMapping) -> AuditEvent:
    details = row["details"] or {}
    return AuditEvent(
        id=row["id"],
        action=AuditAction(row["action"]),
        created_at=row["created_at"],
        actor=row["actor"],
        subject_user_id=row["subject_user_id"],
        client_ip=row["client_ip"],
        user_agent=row["user_agent"],
        details={str(k): str(v) for k, v in details.items()},
    )


class SqlOneTimeTokenStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._reader = reader(engine)

    async def add(self, token: OneTimeToken) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(one_time_tokens.insert().values(**_token_row(token)))

    async def get(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None:
        query = select(one_time_tokens).where(
            one_time_tokens.c.token_hash == token_hash,
            one_time_tokens.c.purpose == purpose.value,
        )
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _to_token(row)

    async def use(self, token_hash: str, purpose: TokenPurpose, at: datetime) -> bool:
        statement = (
            update(one_time_tokens)
            .where(
                one_time_tokens.c.token_hash == token_hash,
                one_time_tokens.c.purpose == purpose.value,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        async with self._writer.begin() as conn:
            result = await conn.execute(statement)
        return result.rowcount > 0

    async def revoke_for_user(self, user_id: str, purpose: TokenPurpose, at: datetime) -> int:
        statement = (
            update(one_time_tokens)
            .where(
                one_time_tokens.c.user_id == user_id,
                one_time_tokens.c.purpose == purpose.value,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        async with self._writer.begin() as conn:
            result = await conn.execute(statement)
        return result.rowcount


class SqlEmailCodeStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._is_postgres = engine.dialect.name == "postgresql"

    async def put(self, code: StoredEmailCode) -> None:
        values = {
            "email": code.email,
            "code_hash": code.code_hash,
            "expires_at": code.expires_at,
            "attempts": code.attempts,
        }
        statement: postgresql.Insert | sqlite.Insert
        if self._is_postgres:
            statement = postgresql.insert(email_codes).values(values)
        else:
            statement = sqlite.insert(email_codes).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[email_codes.c.email],
            set_={k: v for k, v in values.items() if k != "email"},
        )
        async with self._writer.begin() as conn:
            await conn.execute(statement)

    async def check(
        self, email: str, code_hash: str, *, now: datetime, max_attempts: int
    ) -> CodeCheck:
        where = email_codes.c.email == email
        query = select(email_codes).where(where)
        if self._is_postgres:
            query = query.with_for_update()
        async with self._writer.begin() as conn:
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return CodeCheck.MISSING
            if row["expires_at"] <= now:
                await conn.execute(delete(email_codes).where(where))
                return CodeCheck.MISSING
            if hmac.compare_digest(row["code_hash"].encode(), code_hash.encode()):
                await conn.execute(delete(email_codes).where(where))
                return CodeCheck.OK
            attempts = row["attempts"] + 1
            if attempts >= max_attempts:
                await conn.execute(delete(email_codes).where(where))
                return CodeCheck.EXHAUSTED
            await conn.execute(update(email_codes).where(where).values(attempts=attempts))
            return CodeCheck.WRONG


def _token_row(token: OneTimeToken) -> dict[str, Any]:
    return {
        "token_hash": token.token_hash,
        "purpose": token.purpose.value,
        "user_id": token.user_id,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "used_at": token.used_at,
    }


def _to_token(row: RowMapping) -> OneTimeToken:
    return OneTimeToken(
        token_hash=row["token_hash"],
        purpose=TokenPurpose(row["purpose"]),
        user_id=row["user_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
    )
