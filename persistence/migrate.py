"""Run the Alembic migrations from code (start-up, CLI, tests), no ``alembic.ini`` needed.

Alembic's commands are synchronous; they run on an async engine's connection through
``run_sync``, so these functions work inside an already running event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from persistence.migrations import SCRIPT_LOCATION
from persistence.sql.engine import create_engine

T = TypeVar("T")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for our migrations; ``url`` only matters for the CLI path."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migration revisions found")
    return str(head)


async def upgrade_to_head(url: str) -> None:
    await _on_connection(url, _upgrade)


async def pending_revisions(url: str) -> list[str]:
    """Revisions not applied yet, oldest first; empty when the database is at head."""
    return await _on_connection(url, _pending)


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _pending(connection: Connection) -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_heads()
    applied = {rev.revision for head in current for rev in script.iterate_revisions(head, "base")}
    pending = [rev.revision for rev in script.walk_revisions() if rev.revision not in applied]
    return list(reversed(pending))


async def _on_connection(url: str, work: Callable[[Connection], T]) -> T:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.run_sync(work)
            await connection.commit()
            return result
    finally:
        await engine.dispose()
