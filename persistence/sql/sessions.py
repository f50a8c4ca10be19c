"""Sessions in the SQL database, for deployments without Redis.

Each method is one short transaction of a single statement, so on SQLite it never holds
a read snapshot while waiting for the write lock. On PostgreSQL the lookups run in
autocommit: one round trip instead of BEGIN, SELECT, ROLLBACK.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.model import Session
from persistence.sql.engine import reader
from persistence.sql.tables import sessions


class SqlSessionStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reader = reader(engine)

    async def add(self, session: Session) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(sessions.insert().values(**_row(session)))

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        query = select(sessions).where(sessions.c.token_hash == token_hash)
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _to_session(row)

    async def touch(self, session: Session, seen_at: datetime) -> None:
        statement = update(sessions).where(sessions.c.id == session.id).values(last_seen_at=seen_at)
        async with self._engine.begin() as conn:
            await conn.execute(statement)

    async def list_for_user(self, user_id: str) -> list[Session]:
        query = (
            select(sessions)
            .where(sessions.c.user_id == user_id)
            .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_to_session(row) for row in rows]

    async def delete(self, user_id: str, session_id: str) -> bool:
        statement = delete(sessions).where(
            sessions.c.id == session_id, sessions.c.user_id == user_id
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(statement)
        return result.rowcount > 0

    async def delete_for_user(self, user_id: str, *, except_id: str | None = None) -> int:
        statement = delete(sessions).where(sessions.c.user_id == user_id)
        if except_id is not None:
            statement = statement.where(sessions.c.id != except_id)
        async with self._engine.begin() as conn:
            result = await conn.execute(statement)
        return result.rowcount


def _row(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "user_id": session.user_id,
        "token_hash": session.token_hash,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "last_seen_at": session.last_seen_at,
        "ip": session.ip,
        "user_agent": session.user_agent,
    }


def _to_session(row: RowMapping) -> Session:
    return Session(
        id=row["id"],
        user_id=row["user_id"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_seen_at=row["last_seen_at"],
        ip=row["ip"],
        user_agent=row["user_agent"],
    )
