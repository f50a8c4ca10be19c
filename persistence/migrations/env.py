"""Alembic environment: async engines, batch mode on SQLite, our metadata as the target.

``persistence.migrate`` hands in an open connection (``config.attributes["connection"]``)
so migrations can run inside an already running event loop; without one (the ``alembic``
command line) this script opens its own engine from ``sqlalchemy.url``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy.engine import Connection

from persistence.sql.engine import SQLITE_BEGIN, create_engine
from persistence.sql.tables import metadata


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    with _sqlite_foreign_keys_off(connection):
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,
            # Alembic assumes SQLite cannot roll back DDL because the stdlib driver skips
            # BEGIN before it; our engine emits BEGIN itself, so one upgrade is atomic.
            transactional_ddl=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                _check_sqlite_foreign_keys(connection)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Batch mode rebuilds a SQLite table by copy, drop and rename; with foreign keys on,
    dropping ``users`` would cascade into ``sessions``. The pragma only takes effect
    outside a transaction, hence the explicit no-BEGIN statements around it."""
    if connection.dialect.name != "sqlite":
        yield
        return
    _sqlite_pragma_outside_transaction(connection, "PRAGMA foreign_keys=OFF")
    connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
    try:
        yield
    finally:
        if connection.in_transaction():
            connection.rollback()
        _sqlite_pragma_outside_transaction(connection, "PRAGMA foreign_keys=ON")


def _sqlite_pragma_outside_transaction(connection: Connection, pragma: str) -> None:
    connection.execution_options(**{SQLITE_BEGIN: ""})
    connection.exec_driver_sql(pragma)
    connection.commit()
    connection.execution_options(**{SQLITE_BEGIN: "DEFERRED"})


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")


async def _run_online(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url or pass a connection in config.attributes")
    if context.is_offline_mode():
        _run_offline(url)
    else:
        asyncio.run(_run_online(url))


_main()
