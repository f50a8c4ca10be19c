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
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from domain.errors import DatabaseUnavailable, register_unavailable

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
# harden: bounded waits for a connection. Opening one: 5 s (a database that does not
# answer is down: 503). A free one in the pool: 30 s, SQLAlchemy's default, because a
# burst queued on one hot row (1,000 concurrent debits of one wallet) is slow, not down.
_PG_CONNECT_TIMEOUT = 5.0
_PG_POOL_TIMEOUT = 30.0


def create_engine(url: str) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs. Statement
    parameters (password hashes, sealed secrets) are never logged, at any level, nor put
    in exception messages (``hide_parameters``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(parsed)
    return create_async_engine(
        parsed, pool_timeout=_PG_POOL_TIMEOUT, hide_parameters=True,
        connect_args={"timeout": _PG_CONNECT_TIMEOUT}, **_PG_POOL,
    )  # fmt: skip


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
    engine = create_async_engine(url, hide_parameters=True)
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


# -- harden (issue 12): what a database failure is --------------------------------------


def _is_database_failure(exc: BaseException) -> bool:
    """A lost or refused connection, a pool or connect timeout, or SQLite's lock wait
    running out: the database is unavailable (not a bug). A raw ``OSError`` or timeout
    counts only when it was raised inside SQLAlchemy or a database driver."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return "database is locked" in str(exc.orig)
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, OSError | TimeoutError):
        tb = exc.__traceback__
        while tb is not None:
            module = str(tb.tb_frame.f_globals.get("__name__", ""))
            if module.startswith(("sqlalchemy", "asyncpg", "aiosqlite")):
                return True
            tb = tb.tb_next
    return False


register_unavailable(_is_database_failure, DatabaseUnavailable)
