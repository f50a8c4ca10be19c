"""Contract of ``PlanCatalog``, run against every implementation.

The SQL catalogs start from what migration 0004 seeded. ``pg_engine`` leaves the plans
(reference data) alone, and the PostgreSQL database is shared by the whole session, so
the PostgreSQL backend puts the seed back after every test that replaced it;
tests/migrations checks the seed the migration itself writes on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.quota.plans import DEFAULT_PLANS, FALLBACK_PLAN_ID, Plan
from domain.quota.ports import PlanCatalog
from persistence.memory.apikeys import MemoryPlanCatalog
from persistence.sql.apikeys import SqlPlanCatalog
from persistence.sql.tables import plans

CatalogFactory = Callable[[Iterable[Plan]], Awaitable[PlanCatalog]]


@dataclass
class Backend:
    seeded: Callable[[], Awaitable[PlanCatalog]]
    """The catalog as a fresh installation has it."""
    with_plans: CatalogFactory
    """A catalog holding exactly the given plans."""


async def _replace_rows(engine: AsyncEngine, rows: Iterable[Plan]) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        await conn.execute(plans.delete())
        values = [{**asdict(plan), "created_at": now, "updated_at": now} for plan in rows]
        if values:
            await conn.execute(plans.insert(), values)


def _sql_factory(engine: AsyncEngine) -> CatalogFactory:
    async def make(rows: Iterable[Plan]) -> PlanCatalog:
        await _replace_rows(engine, rows)
        return SqlPlanCatalog(engine)

    return make


async def _memory_factory(rows: Iterable[Plan]) -> PlanCatalog:
    return MemoryPlanCatalog(rows)


@pytest_asyncio.fixture
async def pg_plans(pg_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The PostgreSQL engine; the seed is put back afterwards for later tests and apps."""
    yield pg_engine
    await _replace_rows(pg_engine, DEFAULT_PLANS)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":

        async def fresh_memory() -> PlanCatalog:
            return MemoryPlanCatalog()

        return Backend(fresh_memory, _memory_factory)
    if request.param == "sqlite":
        sqlite: AsyncEngine = request.getfixturevalue("sqlite_engine")

        async def migrated() -> PlanCatalog:
            return SqlPlanCatalog(sqlite)  # a copy of a freshly migrated database

        return Backend(migrated, _sql_factory(sqlite))
    pg: AsyncEngine = request.getfixturevalue("pg_plans")

    async def reseeded() -> PlanCatalog:
        return await _sql_factory(pg)(DEFAULT_PLANS)

    return Backend(reseeded, _sql_factory(pg))


async def test_a_fresh_catalog_holds_the_originals_four_plans(backend: Backend) -> None:
    active = await (await backend.seeded()).list_active()

    assert active == list(DEFAULT_PLANS)
    assert [plan.id for plan in active] == ["free", "basic", "pro", "enterprise"]


async def test_the_seed_is_the_originals_rest_catalog(backend: Backend) -> None:
    catalog = await backend.seeded()
    free = await catalog.get("free")
    pro = await catalog.get("pro")

    assert free == Plan(
        "free", "Free", "For trying things out", 0, "CNY", "monthly",
        5, 100, 1_000, 80, False, 0, 0,
    )  # fmt: skip
    assert pro is not None
    assert (pro.qps, pro.daily_limit, pro.monthly_limit, pro.price_cents) == (
        50,
        5_000,
        100_000,
        2_900,
    )
    assert await catalog.get(FALLBACK_PLAN_ID) is not None


async def test_get_of_an_unknown_plan_is_none(backend: Backend) -> None:
    catalog = await backend.seeded()
    assert await catalog.get("platinum") is None
    assert await catalog.get("") is None


async def test_inactive_plans_are_listed_no_more_but_still_found(backend: Backend) -> None:
    """Users on a retired plan keep its limits; new subscriptions cannot choose it."""
    retired = replace(DEFAULT_PLANS[1], is_active=False)
    catalog = await backend.with_plans([DEFAULT_PLANS[0], retired, *DEFAULT_PLANS[2:]])

    assert [plan.id for plan in await catalog.list_active()] == ["free", "pro", "enterprise"]
    assert await catalog.get("basic") == retired


async def test_active_plans_come_by_sort_order(backend: Backend) -> None:
    custom = Plan("student", "Student", "", 100, "USD", "yearly", 10, 500, 5_000, 90, False, 0, -1)
    reordered = [replace(DEFAULT_PLANS[0], sort_order=9), *DEFAULT_PLANS[1:], custom]
    catalog = await backend.with_plans(reordered)

    listed = await catalog.list_active()

    assert [plan.id for plan in listed] == ["student", "basic", "pro", "enterprise", "free"]
    assert listed[0] == custom


async def test_an_empty_catalog(backend: Backend) -> None:
    catalog = await backend.with_plans([])

    assert await catalog.list_active() == []
    assert await catalog.get("free") is None
