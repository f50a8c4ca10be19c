"""Key-ring versions (data keys wrapped under the key encryption key) in the SQL database.

A version number is the primary key: when several processes add the same next version at
once, the database lets one insert win and the others get ``False``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import Clock, SystemClock
from domain.keyring import WrappedKey
from persistence.sql.engine import writer
from persistence.sql.tables import key_versions

_DUPLICATE_MARKERS = ("pk_key_versions", "key_versions.version")  # PostgreSQL, SQLite wording


class SqlKeyVersionStore:
    """``clock`` only stamps ``created_at`` (for operators; nothing reads it back)."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._clock = clock or SystemClock()

    async def list_versions(self) -> list[WrappedKey]:
        query = select(key_versions.c.version, key_versions.c.wrapped).order_by(
            key_versions.c.version
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [WrappedKey(version=row.version, wrapped=bytes(row.wrapped)) for row in rows]

    async def add_version(self, key: WrappedKey) -> bool:
        statement = key_versions.insert().values(
            version=key.version, wrapped=key.wrapped, created_at=self._clock.now()
        )
        try:
            async with self._writer.begin() as conn:
                await conn.execute(statement)
        except IntegrityError as exc:
            if any(marker in str(exc.orig) for marker in _DUPLICATE_MARKERS):
                return False  # another process stored this version first
            raise
        return True
