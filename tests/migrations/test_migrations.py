"""The migrations build the schema that ``tables.metadata`` describes, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from persistence.migrate import alembic_config, head_revision, pending_revisions, upgrade_to_head
from persistence.sql.engine import create_engine
from persistence.sql.tables import APP_TABLES, metadata

REVISIONS = [
    "0001_accounts",
    "0002_twofactor",
    "0003_account_security",
    "0004_api_keys",
    "0005_usage",
    "0006_oauth",
    "0007_pool",
    "0008_catalog",  # music (issue 13)
    "0009_billing",  # billing (issue 14)
    "0012_payments",  # payments (issue 16)
    "0013_jobs",  # worker (issue 17)
]


def _described_by_metadata(name: str | None, type_: str, parent_names: Any) -> bool:
    """The catalog's full-text search (the SQLite FTS5 table and its shadow tables, the
    PostgreSQL expression index) is made by the migration; the metadata cannot describe
    it."""
    if type_ == "table" and name is not None and name.startswith("catalog_fts"):
        return False
    return not (type_ == "index" and name == "ix_catalog_tracks_search")


COMPARE_OPTIONS = {
    "compare_type": True,
    "compare_server_default": True,
    "include_name": _described_by_metadata,
}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
    return list(compare_metadata(context, metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _downgrade_to_base(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "base")


async def schema_diff(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_tables)
    finally:
        await engine.dispose()


async def downgrade_to_base(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_downgrade_to_base)
            await conn.commit()
    finally:
        await engine.dispose()


async def empty_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


async def assert_upgrades_from_empty_to_metadata(url: str) -> None:
    assert await pending_revisions(url) == REVISIONS

    await upgrade_to_head(url)

    assert await pending_revisions(url) == []
    assert await schema_diff(url) == []
    assert set(APP_TABLES) <= await table_names(url)
    await upgrade_to_head(url)  # idempotent at head
    assert await pending_revisions(url) == []


def test_head_is_the_jobs_revision() -> None:
    assert head_revision() == "0013_jobs" == REVISIONS[-1]  # worker (issue 17)


async def test_sqlite_upgrades_from_empty_and_matches_metadata(tmp_path: Path) -> None:
    # A directory that does not exist yet: the engine creates it.
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'karpov.db'}"
    await assert_upgrades_from_empty_to_metadata(url)


async def test_postgres_upgrades_from_empty_and_matches_metadata(pg_url: str) -> None:
    await empty_postgres(pg_url)
    await assert_upgrades_from_empty_to_metadata(pg_url)


async def test_sqlite_downgrade_removes_everything_and_upgrade_restores(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'karpov.db'}"
    await upgrade_to_head(url)

    await downgrade_to_base(url)

    assert not set(APP_TABLES) & await table_names(url)
    assert await pending_revisions(url) == REVISIONS
    await upgrade_to_head(url)
    assert await schema_diff(url) == []


async def test_postgres_downgrade_removes_everything_and_upgrade_restores(pg_url: str) -> None:
    await downgrade_to_base(pg_url)

    assert not set(APP_TABLES) & await table_names(pg_url)
    await upgrade_to_head(pg_url)
    assert await schema_diff(pg_url) == []


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade_to(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_upgrade_to, revision)
            await conn.commit()
    finally:
        await engine.dispose()


async def test_sqlite_account_security_keeps_users_and_what_references_them(
    tmp_path: Path,
) -> None:
    """0003 rebuilds ``users`` (batch mode) to add the IP claim: its rows, and the rows
    that reference it through cascading foreign keys, must survive."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'karpov.db'}"
    await upgrade_to(url, "0002_twofactor")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, email, status, role, created_at, updated_at) "
                    "VALUES ('u1', 'a@example.com', 'active', 'user', "
                    "'2026-03-01 12:00:00', '2026-03-01 12:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, "
                    "last_seen_at) VALUES ('s1', 'u1', 'h1', '2026-03-01 12:00:00', "
                    "'2026-03-02 12:00:00', '2026-03-01 12:00:00')"
                )
            )

        await upgrade_to_head(url)

        async with engine.connect() as conn:
            user = (await conn.execute(text("SELECT id, ip_claim FROM users"))).all()
            session = (await conn.execute(text("SELECT id, user_id FROM sessions"))).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in user] == [("u1", None)]
    assert [tuple(row) for row in session] == [("s1", "u1")]
    assert await schema_diff(url) == []
