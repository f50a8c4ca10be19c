"""Migration 0004: API keys and the plan catalog, seeded with the original's plans."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from domain.quota.plans import DEFAULT_PLANS, Plan
from persistence.migrate import alembic_config, upgrade_to_head
from persistence.sql.apikeys import SqlPlanCatalog
from persistence.sql.engine import create_engine
from persistence.sql.tables import plans
from tests.migrations.test_migrations import empty_postgres, table_names, upgrade_to


async def seeded_plans(url: str) -> list[Plan]:
    engine = create_engine(url)
    try:
        catalog = SqlPlanCatalog(engine)
        found = [await catalog.get(plan.id) for plan in DEFAULT_PLANS]
        async with engine.connect() as conn:
            stamps = (await conn.execute(select(plans.c.created_at, plans.c.updated_at))).all()
    finally:
        await engine.dispose()
    assert len(stamps) == len(DEFAULT_PLANS)
    for created_at, updated_at in stamps:
        assert created_at == updated_at and created_at.utcoffset() is not None
    return [plan for plan in found if plan is not None]


async def test_sqlite_seed_is_the_domains_default_catalog(tmp_path: Path) -> None:
    """The migration inlines its seed (it must never change); today it equals the domain's
    defaults, which the in-memory catalog serves."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'karpov.db'}"
    await upgrade_to(url, "0004_api_keys")

    assert await seeded_plans(url) == list(DEFAULT_PLANS)


async def test_postgres_seed_is_the_domains_default_catalog(pg_url: str) -> None:
    await empty_postgres(pg_url)
    await upgrade_to_head(pg_url)

    assert await seeded_plans(pg_url) == list(DEFAULT_PLANS)


async def test_sqlite_downgrade_to_0003_removes_both_tables_and_upgrade_restores(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'karpov.db'}"
    await upgrade_to(url, "0004_api_keys")
    assert {"api_keys", "plans"} <= await table_names(url)
    assert await index_names(url, "api_keys") == {
        "ix_api_keys_previous_hash",
        "ix_api_keys_user_id_created_at",
    }

    await downgrade_to(url, "0003_account_security")

    assert not {"api_keys", "plans"} & await table_names(url)
    await upgrade_to(url, "0004_api_keys")
    assert await seeded_plans(url) == list(DEFAULT_PLANS)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def downgrade_to(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_downgrade, revision)
            await conn.commit()
    finally:
        await engine.dispose()


async def index_names(url: str, table: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: {str(ix["name"]) for ix in inspect(sync).get_indexes(table)}
            )
    finally:
        await engine.dispose()
