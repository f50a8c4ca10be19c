"""One place that turns a database URL into a configured ``AsyncEngine``.

SQLite needs per-connection set-up (WAL, foreign keys, a busy timeout) and SQLAlchemy must
own its transactions: the stdlib driver's legacy mode skips ``BEGIN`` before ``SELECT`` and
DDL, which breaks repeatable reads, savepoints and transactional migrations. We therefore
switch the driver's own transaction control off and emit ``BEGIN`` ourselves, with a
per-connection execution option that lets a caller ask for ``BEGIN IMMEDIATE`` (take the
write lock up front) or for no ``BEGIN`` at all (see ``SQLITE_BEGIN``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BEGIN = "karpov_sqlite_begin"
"""Execution option read when SQLAlchemy begins a transaction on a SQLite connection:
``"DEFERRED"`` (the default), ``"IMMEDIATE"``, or ``""`` to emit no ``BEGIN`` (the caller
issues one itself, or wants the statements to run in autocommit)."""

_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})

_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",  # first, so the WAL switch below may wait for a lock
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)

_PG_POOL = {"pool_size": 10, "max_overflow": 10, "pool_recycle": 1800, "pool_pre_ping": False}


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    return create_async_engine(parsed, **_PG_POOL)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def writer(engine: AsyncEngine) -> AsyncEngine:
    """For read-then-write transactions: SQLite takes its write lock at BEGIN, so two
    writers queue instead of one failing to upgrade its read lock."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if is_sqlite(engine) else engine


def reader(engine: AsyncEngine) -> AsyncEngine:
    """For single reads: PostgreSQL in autocommit skips the BEGIN/COMMIT round trips."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


async def ping(engine: AsyncEngine) -> None:
    """Run ``SELECT 1``; raises whatever the driver raises when the database is unusable."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def _create_sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        # issue 11: the database holds every account; create it readable by its owner only
        # (SQLite would create it with the umask's 0644). WAL and journal files follow the
        # database file's mode.
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Disable the driver's implicit BEGIN; _on_sqlite_begin emits it instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    if not mode:
        return
    if mode not in _SQLITE_BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN} must be one of {sorted(_SQLITE_BEGIN_MODES)}")
    conn.exec_driver_sql(f"BEGIN {mode}")
