"""Two application instances on one PostgreSQL and one Redis, as two server processes
would be: a change to a key made through one reaches the other within 1 s (Redis pub/sub,
not the cache's expiry), and usage figures are shared."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.api.harness import Api, running_app
from tests.api.test_api_keys import create_key, with_key
from tests.fakes.hibp_server import FakeHibpServer
from tests.support.metered import METERED_ROUTE, MeteredQuery

PROPAGATION_BOUND = 1.0  # seconds; the bound


@pytest_asyncio.fixture(loop_scope="session")
async def two_processes(pg_url: str, pg_engine: object, redis_client: object
                        ) -> AsyncIterator[tuple[Api, Api]]:  # fmt: skip
    redis_url = os.environ["KARPOV_TEST_REDIS_URL"]
    hibp = FakeHibpServer({})
    # A long key cache: only the broadcast can make the second instance notice in time.
    options: dict[str, Any] = {
        "api_key_cache_ttl": "600", "query": MeteredQuery, "extra_routes": [METERED_ROUTE],
    }  # fmt: skip
    async with (
        running_app(pg_url, redis_url=redis_url, hibp=hibp, **options) as (first, _),
        running_app(pg_url, redis_url=redis_url, hibp=hibp, **options) as (second, _),
    ):
        yield first, second


async def _until(predicate: object, bound: float) -> float:
    """Seconds until ``predicate()`` (an async callable) is true; fails past ``bound``."""
    start = time.monotonic()
    while True:
        if await predicate():  # type: ignore[operator]
            return time.monotonic() - start
        if time.monotonic() - start > bound:
            pytest.fail(f"not within {bound} s")
        await asyncio.sleep(0.02)


async def _signed_in(api: Api, email: str) -> Api:
    browser = api.fresh()
    body = {"email": email, "password": "Correct-Horse-42-Battery"}
    assert (await browser.post("/v1/auth/register", body)).status_code == 200
    assert (await browser.post("/v1/auth/login", body)).status_code == 200
    return browser


@pytest.mark.parametrize("change", ["revoke", "disable", "narrow scopes", "rotate without grace"])
async def test_a_key_change_reaches_the_other_process_within_a_second(
    two_processes: tuple[Api, Api], change: str
) -> None:
    first, second = two_processes
    browser = await _signed_in(first, f"{change.replace(' ', '-')}@example.com")
    key_id, key = await create_key(browser, scopes=["quota:read"])
    # The second instance verifies (and caches) the key.
    assert (await second.get("/v1/usage/summary", headers=with_key(key))).status_code == 200

    if change == "revoke":
        response = await browser.delete(f"/v1/auth/api-keys/{key_id}")
    elif change == "disable":
        response = await browser.post(f"/v1/auth/api-keys/{key_id}/enabled", {"enabled": False})
    elif change == "narrow scopes":
        response = await browser.patch(f"/v1/auth/api-keys/{key_id}", {"scopes": ["music:read"]})
    else:
        response = await browser.post(f"/v1/auth/api-keys/{key_id}/rotate", {"graceSeconds": 0})
    assert response.status_code == 200, response.text

    async def refused() -> bool:
        answer = await second.get("/v1/usage/summary", headers=with_key(key))
        return answer.status_code in (401, 403)

    await _until(refused, PROPAGATION_BOUND)


async def test_usage_is_shared_between_processes(two_processes: tuple[Api, Api]) -> None:
    first, second = two_processes
    browser = await _signed_in(first, "shared@example.com")
    _, key = await create_key(browser, scopes=["quota:read"])
    for api in (first, second, first):
        assert (await api.get("/v1/test/metered", headers=with_key(key))).status_code == 200

    async def both_see_everything() -> bool:
        seen = []
        for api in (first, second):
            realtime = (await api.get("/v1/usage/realtime", headers=with_key(key))).json()
            summary = (await api.get("/v1/usage/summary", headers=with_key(key))).json()
            seen.append((realtime["data"]["qpm"], summary["data"]["dayUsed"]))
        return seen == [(3, 9), (3, 9)]

    # Each process writes its buffered events once a second.
    await _until(both_see_everything, 3.0)
