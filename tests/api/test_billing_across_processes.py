"""Two application instances on one PostgreSQL and one Redis: a plan change (its limits,
or the user's plan after a purchase) takes effect on the other instance's limits at once
(Redis pub/sub, not a cache's expiry: both caches are set to ten minutes here)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.quota.plans import DEFAULT_PLANS
from persistence.sql.tables import plans
from tests.api.harness import ADMIN_TOKEN, Api, running_app
from tests.api.test_api_keys import create_key, with_key
from tests.fakes.hibp_server import FakeHibpServer

BOUND = 1.0


@pytest_asyncio.fixture(loop_scope="session")
async def two_processes(
    pg_url: str, pg_engine: AsyncEngine, redis_client: object
) -> AsyncIterator[tuple[Api, Api]]:
    redis_url = os.environ["KARPOV_TEST_REDIS_URL"]
    hibp = FakeHibpServer({})
    options: dict[str, Any] = {"api_key_cache_ttl": "600", "auth_cache_ttl": "600"}
    try:
        async with (
            running_app(pg_url, redis_url=redis_url, hibp=hibp, **options) as (first, _),
            running_app(pg_url, redis_url=redis_url, hibp=hibp, **options) as (second, _),
        ):
            yield first, second
    finally:  # the plan catalog is reference data: put the seed back
        now = datetime.now(UTC)
        async with pg_engine.begin() as conn:
            await conn.execute(plans.delete())
            rows = [{**asdict(p), "created_at": now, "updated_at": now} for p in DEFAULT_PLANS]
            await conn.execute(plans.insert(), rows)


async def _within(predicate: Callable[[], Awaitable[bool]], bound: float) -> None:
    start = time.monotonic()
    while not await predicate():
        if time.monotonic() - start > bound:
            pytest.fail(f"not within {bound} s")
        await asyncio.sleep(0.02)


async def _key_holder(first: Api, email: str) -> tuple[Api, str]:
    browser = first.fresh()
    body = {"email": email, "password": "Correct-Horse-42-Battery"}
    assert (await browser.post("/v1/auth/register", body)).status_code == 200
    assert (await browser.post("/v1/auth/login", body)).status_code == 200
    _, key = await create_key(browser, scopes=["quota:read"])
    return browser, key


async def _daily_limit(api: Api, key: str) -> int:
    body = (await api.get("/v1/usage/rate-limit", headers=with_key(key))).json()["data"]
    return next(int(e["limit"]) for e in body["limits"] if e["name"] == "plan_daily")


async def test_a_plans_new_limits_reach_the_other_process_at_once(
    two_processes: tuple[Api, Api],
) -> None:
    first, second = two_processes
    _, key = await _key_holder(first, "limits@example.com")
    assert await _daily_limit(second, key) == 100  # cached by the second instance now
    admin = first.fresh()
    admin.http.headers["X-Admin-Key"] = ADMIN_TOKEN
    spec = {"name": "Free", "qps": 5, "dailyLimit": 42, "monthlyLimit": 1000}
    assert (await admin.request("PUT", "/v1/billing/plans/free", json=spec)).status_code == 200

    async def seen() -> bool:
        return await _daily_limit(second, key) == 42

    await _within(seen, BOUND)


async def test_a_purchase_reaches_the_other_process_at_once(
    two_processes: tuple[Api, Api],
) -> None:
    first, second = two_processes
    browser, key = await _key_holder(first, "upgrade@example.com")
    assert await _daily_limit(second, key) == 100
    order = (
        await browser.post("/v1/billing/orders", {"planId": "pro", "paymentProvider": "mock"})
    ).json()["data"]
    paid = await browser.http.post(
        "/v1/billing/callback/mock", data={"order_id": order["orderId"], "amount": "29.00"}
    )
    assert paid.text == "ok"

    async def seen() -> bool:
        return await _daily_limit(second, key) == 5000

    await _within(seen, BOUND)
