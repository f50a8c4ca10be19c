"""Login challenges in the SQL database, for deployments without Redis.

Each method is one short transaction. The ones that write start with the write lock on
SQLite (``BEGIN IMMEDIATE``), so they never hold a read snapshot while waiting for it, and
``take`` / ``record_failure`` are single ``DELETE … RETURNING`` / ``UPDATE … RETURNING``
statements (SQLite >= 3.35): of several concurrent callers exactly one takes a challenge,
and every failure gets its own count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.twofactor.model import LoginChallenge
from persistence.sql.engine import reader, writer
from persistence.sql.tables import login_challenges


class SqlChallengeStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._reader = reader(engine)

    async def add(self, challenge: LoginChallenge) -> None:
        async with self._writer.begin() as conn:
            await conn.execute(login_challenges.insert().values(**_row(challenge)))

    async def get(self, id_hash: str) -> LoginChallenge | None:
        query = select(login_challenges).where(login_challenges.c.id_hash == id_hash)
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _to_challenge(row)

    async def record_failure(self, id_hash: str, max_attempts: int) -> int:
        where = login_challenges.c.id_hash == id_hash
        statement = (
            update(login_challenges)
            .where(where)
            .values(attempts=login_challenges.c.attempts + 1)
            .returning(login_challenges.c.attempts)
        )
        async with self._writer.begin() as conn:
            attempts: int | None = (await conn.execute(statement)).scalar_one_or_none()
            if attempts is None:
                return 0
            if attempts >= max_attempts:
                # Still holding the row (PostgreSQL) or the write lock (SQLite).
                await conn.execute(delete(login_challenges).where(where))
        return attempts

    async def take(self, id_hash: str) -> LoginChallenge | None:
        statement = (
            delete(login_challenges)
            .where(login_challenges.c.id_hash == id_hash)
            .returning(*login_challenges.c)
        )
        async with self._writer.begin() as conn:
            row = (await conn.execute(statement)).mappings().first()
        return None if row is None else _to_challenge(row)

    async def delete_for_user(self, user_id: str) -> None:
        statement = delete(login_challenges).where(login_challenges.c.user_id == user_id)
        async with self._writer.begin() as conn:
            await conn.execute(statement)

    async def purge_expired(self, now: datetime) -> int:
        """Delete the challenges that expired at or before ``now``; returns how many."""
        statement = delete(login_challenges).where(login_challenges.c.expires_at <= now)
        async with self._writer.begin() as conn:
            result = await conn.execute(statement)
        return result.rowcount


def _row(challenge: LoginChallenge) -> dict[str, Any]:
    return {
        "id_hash": challenge.id_hash,
        "user_id": challenge.user_id,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "attempts": challenge.attempts,
        "ip": challenge.ip,
        "user_agent": challenge.user_agent,
    }


def _to_challenge(row: RowMapping) -> LoginChallenge:
    return LoginChallenge(
        id_hash=row["id_hash"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        attempts=row["attempts"],
        ip=row["ip"],
        user_agent=row["user_agent"],
    )
