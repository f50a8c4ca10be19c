"""The SQL unit of work's transaction, which every repository of the unit runs on.

On PostgreSQL a unit of work is an ordinary READ COMMITTED transaction from its first
statement. On SQLite it starts with no transaction: reads run in autocommit, and the first
write or lock issues ``BEGIN IMMEDIATE``. A deferred SQLite transaction that reads and then
writes fails with "database is locked" (SQLITE_BUSY_SNAPSHOT) as soon as another connection
committed in between, while ``BEGIN IMMEDIATE`` simply waits for the write lock (the busy
timeout). Taking the lock on every unit of work would serialise read-only ones, and those
are on the hot path (resolving a session's user).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection


class Transaction:
    """The unit of work's connection, plus the SQLite "lock at the first write" rule."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.is_postgres = conn.dialect.name == "postgresql"
        self._sqlite = conn.dialect.name == "sqlite"
        self._write_locked = False

    async def for_write(self) -> AsyncConnection:
        """The connection, inside a transaction that holds (or will take) the write lock."""
        if self._sqlite and not self._write_locked:
            await self.conn.exec_driver_sql("BEGIN IMMEDIATE")
            self._write_locked = True
        return self.conn

    async def commit(self) -> None:
        await self.conn.commit()
        self._write_locked = False
