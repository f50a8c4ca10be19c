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
from persistence.sql.tables import plans
from tests.contract.conftest import Backend

CatalogFactory = Callable[[Iterable[Plan]], Awaitable[PlanCatalog]]


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@dataclass
class Catalogs:
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


async def _memory_catalog(rows: Iterable[Plan]) -> PlanCatalog:
    return MemoryPlanCatalog(rows)


@pytest_asyncio.fixture
async def catalogs(backend: Backend) -> AsyncIterator[Catalogs]:
    engine = backend.engine
    if engine is None:

        async def fresh_memory() -> PlanCatalog:
            return backend.adapters.plans

        yield Catalogs(fresh_memory, _memory_catalog)
        return

    async def with_plans(rows: Iterable[Plan]) -> PlanCatalog:
        await _replace_rows(engine, rows)
        return backend.adapters.plans

    async def seeded() -> PlanCatalog:
        if backend.kind == "sqlite":
            return backend.adapters.plans  # a copy of a freshly migrated database
        return await with_plans(DEFAULT_PLANS)

    yield Catalogs(seeded, with_plans)
    if backend.kind == "postgres":
        await _replace_rows(engine, DEFAULT_PLANS)  # the seed, for later tests and apps


async def test_a_fresh_catalog_holds_the_originals_four_plans(catalogs: Catalogs) -> None:
    active = await (await catalogs.seeded()).list_active()

    assert active == list(DEFAULT_PLANS)
    assert [plan.id for plan in active] == ["free", "basic", "pro", "enterprise"]


async def test_the_seed_is_the_originals_rest_catalog(catalogs: Catalogs) -> None:
    catalog = await catalogs.seeded()
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


async def test_get_of_an_unknown_plan_is_none(catalogs: Catalogs) -> None:
    catalog = await catalogs.seeded()
    assert await catalog.get("platinum") is None
    assert await catalog.get("") is None


async def test_inactive_plans_are_listed_no_more_but_still_found(catalogs: Catalogs) -> None:
    """Users on a retired plan keep its limits; new subscriptions cannot choose it."""
    retired = replace(DEFAULT_PLANS[1], is_active=False)
    catalog = await catalogs.with_plans([DEFAULT_PLANS[0], retired, *DEFAULT_PLANS[2:]])

    assert [plan.id for plan in await catalog.list_active()] == ["free", "pro", "enterprise"]
    assert await catalog.get("basic") == retired


async def test_active_plans_come_by_sort_order(catalogs: Catalogs) -> None:
    custom = Plan("student", "Student", "", 100, "USD", "yearly", 10, 500, 5_000, 90, False, 0, -1)
    reordered = [replace(DEFAULT_PLANS[0], sort_order=9), *DEFAULT_PLANS[1:], custom]
    catalog = await catalogs.with_plans(reordered)

    listed = await catalog.list_active()

    assert [plan.id for plan in listed] == ["student", "basic", "pro", "enterprise", "free"]
    assert listed[0] == custom


async def test_an_empty_catalog(catalogs: Catalogs) -> None:
    catalog = await catalogs.with_plans([])

    assert await catalog.list_active() == []
    assert await catalog.get("free") is None
