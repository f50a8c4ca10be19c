"""The quota gate over /v1 and GraphQL: per-key requests per minute and per UTC day on
every API-key request; the plan's QPS and daily units on metered operations (the metered
test operation weighs 3, like a song URL), for API keys and sessions alike; refunds of
failed calls; the original's 429 envelopes and headers plus the IETF ones; what happens
when Redis is unreachable. Time is a ``ManualClock``: no test waits for a window to pass.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.quota.coalescing import CoalescingGate
from persistence.redis.quota import RedisQuotaGate
from tests.api.harness import Api, running_app
from tests.api.harness import data_of as gql_data
from tests.api.test_api_keys import (
    Env,
    bearer,
    create_key,
    gql_error,
    gql_raw,
    signed_in,
    started,
    with_key,
)
from tests.conftest import REDIS_URL_VAR
from tests.fakes.hibp_server import FakeHibpServer

METERED = "/v1/test/metered"
QPS, DAILY, WEIGHT = 5, 100, 3  # the free plan; the metered test operation's weight
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
RATE_LIMIT = """{ rateLimit { planId planName limits { name limit remaining resetAfter
    windowSeconds } } }"""


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    async with started(backend, hibp) as running:
        yield running


def epoch(when: datetime) -> int:
    return math.ceil(when.timestamp())


def limits_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"].lower(): entry for entry in body["limits"]}


async def rate_limit(
    caller: Api, headers: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    response = await caller.get("/v1/usage/rate-limit", headers=headers)
    assert response.status_code == 200, response.text
    return limits_of(response.json()["data"])


# -- per-key limits (every API-key request) ---------------------------------------------


async def test_per_key_requests_per_minute(env: Env) -> None:
    browser = await signed_in(env, "rpm@example.com")
    _, key = await create_key(browser, rateLimitRpm=3)
    caller = env.api.fresh()
    t0 = env.clock.now()
    for remaining in (2, 1, 0):
        ok = await caller.get("/v1/auth/me", headers=with_key(key))
        assert ok.status_code == 200, ok.text
        used = 3 - remaining
        # GCRA over 60 s: each request holds 20 s of the window.
        assert ok.headers["RateLimit-Policy"] == '"key-rpm";q=3;w=60'
        assert ok.headers["RateLimit"] == f'"key-rpm";r={remaining};t={20 * used}'
        # The original's X-RateLimit-* come with refusals only (as the original sent them).
        assert "X-RateLimit-Remaining" not in ok.headers
        assert "Retry-After" not in ok.headers

    refused = await caller.get("/v1/auth/me", headers=with_key(key))
    assert refused.status_code == 429, refused.text
    assert refused.json() == {
        "code": 42900, "message": "rate limit exceeded", "data": {"limitRpm": 3, "retryAfter": 20},
    }  # fmt: skip
    assert refused.headers["Retry-After"] == "20"
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == str(epoch(t0) + 60)
    assert refused.headers["RateLimit-Policy"] == '"key-rpm";q=3;w=60'
    assert refused.headers["RateLimit"] == '"key-rpm";r=0;t=60'

    # GraphQL is the same allowance.
    error = await gql_error(caller, "{ viewer { email } }", headers=bearer(key))
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 20}
    assert error["message"] == "rate limit exceeded"
    response = await gql_raw(caller, "{ viewer { email } }", headers=with_key(key))
    assert (response.status_code, response.headers["Retry-After"]) == (200, "20")
    assert response.headers["X-RateLimit-Remaining"] == "0"

    env.clock.advance(19)
    assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 429
    env.clock.advance(1)  # a sliding window: one request's worth has come back
    again = await caller.get("/v1/auth/me", headers=with_key(key))
    assert again.status_code == 200, again.text
    assert again.headers["RateLimit"] == '"key-rpm";r=0;t=60'
    assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 429
    env.clock.advance(60)
    data = await gql_data(caller, "{ viewer { email } }", headers=with_key(key))
    assert data["viewer"]["email"] == "rpm@example.com"


async def test_keys_have_their_own_allowance_and_sessions_none(env: Env) -> None:
    browser = await signed_in(env, "two@example.com")
    _, first = await create_key(browser, rateLimitRpm=1)
    _, second = await create_key(browser, rateLimitRpm=1)
    caller = env.api.fresh()
    for key in (first, second):
        assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 200
        assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 429
    for _ in range(5):
        response = await browser.get("/v1/auth/me")  # the owner's session is not a key
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


async def test_per_key_daily_limit_is_per_utc_day(env: Env) -> None:
    browser = await signed_in(env, "daily@example.com")
    _, key = await create_key(browser, rateLimitDaily=2)
    caller = env.api.fresh()
    for _ in range(2):
        ok = await caller.get("/v1/auth/me", headers=with_key(key))
        assert ok.status_code == 200, ok.text
        assert '"key-daily";q=2;w=86400' in ok.headers["RateLimit-Policy"]
    to_midnight = 12 * 3600  # the clock starts at noon UTC
    refused = await caller.get("/v1/auth/me", headers=with_key(key))
    assert refused.status_code == 429, refused.text
    assert refused.json() == {
        "code": 42900, "message": "daily limit exceeded",
        "data": {"limitDaily": 2, "retryAfter": to_midnight},
    }  # fmt: skip
    assert refused.headers["Retry-After"] == str(to_midnight)
    assert f'"key-daily";r=0;t={to_midnight}' in refused.headers["RateLimit"]
    error = await gql_error(caller, "{ viewer { email } }", headers=with_key(key))
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": to_midnight}
    env.clock.advance(to_midnight - 1)
    assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 429
    env.clock.advance(1)
    assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 200


# -- the plan's limits on metered operations ---------------------------------------------


async def test_plan_qps_for_sessions_and_keys(env: Env) -> None:
    browser = await signed_in(env, "qps@example.com")
    _, key = await create_key(browser)
    for caller, headers in ((browser, None), (env.api.fresh(), with_key(key))):
        for i in range(QPS):
            if i % 2:
                ok = await caller.get(METERED, headers=headers)
                assert ok.status_code == 200, ok.text
                assert ok.json()["data"] == {"units": WEIGHT}
            else:
                data = await gql_data(caller, "{ testMetered }", headers=headers)
                assert data == {"testMetered": WEIGHT}
        refused = await caller.get(METERED, headers=headers)
        assert refused.status_code == 429, refused.text
        assert refused.json() == {
            "code": 42900, "message": "QPS limit exceeded", "data": {"limit": QPS, "retryAfter": 1},
        }  # fmt: skip
        assert refused.headers["Retry-After"] == "1"
        assert '"plan-qps";q=5;w=1' in refused.headers["RateLimit-Policy"]
        response = await gql_raw(caller, "{ testMetered }", headers=headers)
        assert response.headers["Retry-After"] == "1"
        [error] = response.json()["errors"]
        assert error["message"] == "QPS limit exceeded"
        assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 1}
        # Unmetered requests are not held back by the plan's QPS.
        assert (await caller.get("/v1/auth/me", headers=headers)).status_code == 200
    # The session and the key each had their own QPS; the next second has room again.
    env.clock.advance(1)
    assert (await browser.get(METERED)).status_code == 200
    summary = (await browser.get("/v1/usage/summary")).json()["data"]
    assert summary["dayUsed"] == (2 * QPS + 1) * WEIGHT  # refusals are not usage


async def test_plan_daily_units_in_the_local_calendar(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    async with started(backend, hibp, timezone="Asia/Shanghai") as env:
        browser = await signed_in(env, "units@example.com")
        _, key = await create_key(browser)
        keyed = env.api.fresh()
        local_midnight = datetime.combine(
            env.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1),
            datetime.min.time(), ZoneInfo("Asia/Shanghai"),
        )  # fmt: skip
        calls = DAILY // WEIGHT  # 33 calls use 99 units
        for n in range(1, calls + 1):
            if n % QPS == 0:
                env.clock.advance(1)  # stay under the plan's QPS
            caller, headers = (browser, None) if n % 3 else (keyed, with_key(key))
            if n % 2:
                ok = await caller.get(METERED, headers=headers)
                assert ok.status_code == 200, (n, ok.text)
            else:
                ok = await gql_raw(caller, "{ testMetered }", headers=headers)
                assert ok.json()["data"] == {"testMetered": WEIGHT}, (n, ok.text)
            live = ok.headers["RateLimit"]
            until_midnight = epoch(local_midnight) - epoch(env.clock.now())
            assert f'"plan-daily";r={DAILY - WEIGHT * n};t={until_midnight}' in live
            assert f'"plan-monthly";r={1000 - WEIGHT * n};' in live
            assert "X-Quota-Daily-Remaining" not in ok.headers  # refusals only
        env.clock.advance(1)
        retry = epoch(local_midnight) - epoch(env.clock.now())
        assert 0 < retry < 12 * 3600  # Shanghai's midnight, not UTC's
        for caller, headers in ((browser, None), (keyed, with_key(key))):
            refused = await caller.get(METERED, headers=headers)
            assert refused.status_code == 429, refused.text
            body = refused.json()
            assert (body["code"], body["message"]) == (42901, "daily quota exceeded")
            # dailyUsed: see test_a_daily_quota_refusal_reports_the_units_used.
            assert body["data"] == {**body["data"], "dailyLimit": DAILY, "retryAfter": retry}
            assert set(body["data"]) == {"dailyLimit", "dailyUsed", "retryAfter"}
            assert refused.headers["Retry-After"] == str(retry)
            assert refused.headers["X-Quota-Daily-Limit"] == str(DAILY)
            assert int(refused.headers["X-Quota-Daily-Remaining"]) < WEIGHT
            assert refused.headers["X-Quota-Daily-Reset"] == str(epoch(local_midnight))
            assert re.search(rf'"plan-daily";r=[0-2];t={retry}\b', refused.headers["RateLimit"])
            response = await gql_raw(caller, "{ testMetered }", headers=headers)
            [error] = response.json()["errors"]
            assert error["message"] == "daily quota exceeded"
            assert error["extensions"] == {"code": "QUOTA_EXCEEDED", "retryAfter": retry}
            assert response.headers["Retry-After"] == str(retry)
        assert (await rate_limit(browser))["plan_daily"]["remaining"] == 1
        env.clock.set(local_midnight - timedelta(seconds=1))
        assert (await browser.get(METERED)).status_code == 429
        env.clock.set(local_midnight)  # a new local day
        ok = await browser.get(METERED)
        assert ok.status_code == 200, ok.text
        assert f'"plan-daily";r={DAILY - WEIGHT};' in ok.headers["RateLimit"]
        new_month = local_midnight.day == 1  # on the last day of a month, both reset
        month_calls = 1 if new_month else calls + 1
        assert f'"plan-monthly";r={1000 - WEIGHT * month_calls};' in ok.headers["RateLimit"]


async def test_a_daily_quota_refusal_reports_the_units_used(env: Env) -> None:
    browser = await signed_in(env, "used@example.com")
    for n in range(1, DAILY // WEIGHT + 1):
        if n % QPS == 0:
            env.clock.advance(1)
        assert (await browser.get(METERED)).status_code == 200
    env.clock.advance(1)
    refused = await browser.get(METERED)
    assert refused.status_code == 429, refused.text
    # The original: SUM of today's usage (99 units), not the limit.
    assert refused.json()["data"]["dailyUsed"] == 99


async def test_failed_calls_give_their_units_back(env: Env) -> None:
    browser = await signed_in(env, "refund@example.com")
    ok = await browser.get(METERED)
    assert ok.status_code == 200
    failed = await browser.get(f"{METERED}?fail=1")
    assert failed.status_code == 502, failed.text
    assert failed.json() == {
        "code": 50200,
        "message": "the upstream provider failed, try again later",
    }
    limits = await rate_limit(browser)
    assert limits["plan_daily"]["remaining"] == DAILY - WEIGHT
    assert limits["plan_monthly"]["remaining"] == 1000 - WEIGHT
    assert limits["plan_qps"]["remaining"] == QPS - 2  # a rate is not refunded
    result = await browser.gql("{ testMetered(fail: true) }")
    [error] = result["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_FAILED"
    data = await gql_data(browser, RATE_LIMIT)
    daily = limits_of(data["rateLimit"])["plan_daily"]
    assert (data["rateLimit"]["planId"], daily["remaining"]) == ("free", DAILY - WEIGHT)
    # Two metered fields in one request: reserved together, only the failed one refunded.
    env.clock.advance(1)
    result = await browser.gql("{ good: testMetered bad: testMetered(fail: true) }")
    assert result["data"] is None or result["data"].get("good") == WEIGHT
    assert [e["path"] for e in result["errors"]] == [["bad"]]
    data = await gql_data(browser, RATE_LIMIT)
    assert limits_of(data["rateLimit"])["plan_daily"]["remaining"] == DAILY - 2 * WEIGHT
    summary = (await browser.get("/v1/usage/summary")).json()["data"]
    assert summary["dayUsed"] == 2 * WEIGHT  # failures are not usage either


async def test_rate_limit_reports_a_keys_limits(env: Env) -> None:
    browser = await signed_in(env, "status@example.com")
    _, key = await create_key(browser, rateLimitRpm=10, rateLimitDaily=50)
    caller = env.api.fresh()
    assert (await caller.get(METERED, headers=with_key(key))).status_code == 200
    limits = await rate_limit(caller, with_key(key))
    assert set(limits) == {"key_rpm", "key_daily", "plan_qps", "plan_daily", "plan_monthly"}
    # Asking is a key request too: the metered call and the first question were charged.
    assert (limits["key_rpm"]["limit"], limits["key_rpm"]["remaining"]) == (10, 8)
    assert limits["key_rpm"]["windowSeconds"] == 60
    assert (limits["key_daily"]["limit"], limits["key_daily"]["remaining"]) == (50, 48)
    assert limits["key_daily"]["windowSeconds"] is None
    assert (limits["plan_daily"]["limit"], limits["plan_daily"]["remaining"]) == (100, 97)
    assert limits["plan_qps"] == {
        "name": "plan_qps", "limit": 5, "remaining": 4, "resetAfter": 0.2, "windowSeconds": 1,
    }  # fmt: skip
    data = await gql_data(caller, RATE_LIMIT, headers=with_key(key))
    gql = limits_of(data["rateLimit"])
    assert gql["key_rpm"]["remaining"] == 7 and gql["plan_daily"]["remaining"] == 97
    # A session sees the plan's limits only.
    assert set(await rate_limit(browser)) == {"plan_qps", "plan_daily", "plan_monthly"}


# -- Redis unreachable -------------------------------------------------------------------


def break_the_gates_redis(app: Any) -> Redis:
    """Point the running quota gate at a Redis that refuses connections. This reaches into
    the composition root on purpose (container → API access → request gate → quota
    service → its store): no setting makes only the gate's Redis unreachable while the
    sessions' Redis keeps working. Returns the client, to be closed by the caller."""
    unreachable: Redis = Redis.from_url(UNREACHABLE_REDIS)
    quota = app.state.container.services.gate.quota
    # The deployment's gate: the Redis gate behind the tick coalescing (perf, issue 18).
    assert isinstance(quota._gate, CoalescingGate)
    assert isinstance(quota._gate._inner, RedisQuotaGate)
    quota._gate = CoalescingGate(RedisQuotaGate(unreachable))
    return unreachable


@pytest.mark.parametrize("policy", ["deny", "allow"])
async def test_redis_unreachable_follows_the_policy(
    pg_engine: AsyncEngine, pg_url: str, redis_client: Redis, hibp: FakeHibpServer, policy: str
) -> None:
    backend = (pg_url, os.environ[REDIS_URL_VAR])
    async with started(backend, hibp, quota_on_redis_error=policy) as env:
        browser = await signed_in(env, "down@example.com")
        _, limited = await create_key(browser, rateLimitRpm=100)
        _, unlimited = await create_key(browser)
        broken = break_the_gates_redis(env.app)
        try:
            caller = env.api.fresh()
            rest = [
                await browser.get(METERED),
                await caller.get(METERED, headers=with_key(unlimited)),
                await caller.get("/v1/auth/me", headers=with_key(limited)),
            ]
            gql = [
                await gql_raw(browser, "{ testMetered }"),
                await gql_raw(caller, "{ viewer { email } }", headers=bearer(limited)),
            ]
            if policy == "deny":
                message = "the quota service is unavailable, try again later"
                for response in rest:
                    assert response.status_code == 503, response.text
                    assert response.json()["message"] == message
                # Each route answers in its own dialect: gin, or grpc-gateway for /me.
                assert [r.json()["code"] for r in rest] == [50300, 50300, 14]
                for response in gql:
                    assert response.json()["errors"][0]["extensions"]["code"] == (
                        "QUOTA_UNAVAILABLE"
                    )
            else:
                for response in rest:
                    assert response.status_code == 200, response.text
                    assert "RateLimit" not in response.headers
                assert gql[0].json()["data"] == {"testMetered": WEIGHT}
                assert gql[1].json() == {"data": {"viewer": {"email": "down@example.com"}}}
            # A key without limits calling an unmetered operation needs no gate at all.
            assert (await caller.get("/v1/auth/me", headers=with_key(unlimited))).status_code == 200
        finally:
            await broken.aclose()


@pytest.mark.parametrize("policy", ["deny", "allow"])
async def test_readyz_names_redis_and_the_quota_policy(sqlite_url: str, policy: str) -> None:
    async with running_app(
        sqlite_url, redis_url=UNREACHABLE_REDIS, quota_on_redis_error=policy
    ) as (api, _):
        response = await api.get("/readyz")
    assert response.status_code == 503
    assert response.text == f"not ready: redis down (quota gate: {policy})"
