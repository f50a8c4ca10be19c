"""Usage reports over /v1 (the original's shapes) and GraphQL: summary, history and
realtime after metered calls (the metered test operation weighs 3 units); failed and
refused calls are not usage; a superadmin sees everyone's totals. Runs on SQLite and on
PostgreSQL + Redis with a ``ManualClock``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN, Api
from tests.api.harness import data_of as gql_data
from tests.api.test_api_keys import (
    Env,
    create_key,
    gql_error,
    instant,
    signed_in,
    started,
    user_id_of,
    with_key,
)
from tests.fakes.hibp_server import FakeHibpServer

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
METERED = "/v1/test/metered"
WEIGHT = 3
SUMMARY = "{ usageSummary { dayUsed monthUsed dayLimit monthLimit date month } }"
HISTORY = (
    "query($days: Int) { usageHistory(days: $days) { days { date operation count units } total } }"
)
ENTRIES = """query($first: Int, $after: String, $last: Int, $before: String) {
    usageHistory(days: 11) { entries(first: $first, after: $after, last: $last, before: $before)
    { nodes { date units } totalCount pageInfo { hasNextPage hasPreviousPage startCursor
    endCursor } } } }"""
REALTIME = """{ usageRealtime { qpm qps avgLatencyMs maxLatencyMs minLatencyMs totalToday
    totalMonth successRate errorCount dayUsed dayLimit monthUsed monthLimit timestamp } }"""


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    async with started(backend, hibp) as running:
        yield running


async def data_of(caller: Api, path: str, headers: dict[str, str] | None = None) -> Any:
    response = await caller.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (200, "success")
    return body["data"]


async def call_metered(
    env: Env, caller: Api, ok: int, failed: int = 0, headers: dict[str, str] | None = None
) -> None:
    """``ok`` successful and ``failed`` failing calls, alternating /v1 and GraphQL, one
    second apart on the manual clock every few calls (under the plan's 5 per second)."""
    for n in range(ok + failed):
        if n and n % 4 == 0:
            env.clock.advance(1)
        fail = n >= ok
        if n % 2:
            response = await caller.get(METERED + ("?fail=1" if fail else ""), headers=headers)
            assert response.status_code == (502 if fail else 200), response.text
        else:
            result = await caller.gql(f"{{ testMetered(fail: {str(fail).lower()}) }}",
                                      headers=headers)  # fmt: skip
            assert ("errors" in result) is fail, result


async def test_summary_counts_units_of_successful_calls(env: Env) -> None:
    browser = await signed_in(env, "sum@example.com")
    _, key = await create_key(browser, scopes=["quota:read"])
    await call_metered(env, browser, ok=4, failed=2)
    env.clock.advance(1)
    await call_metered(env, env.api.fresh(), ok=3, headers=with_key(key))
    today = env.clock.now().date()
    expected = {
        "dayUsed": 7 * WEIGHT, "monthUsed": 7 * WEIGHT, "dayLimit": 100, "monthLimit": 1000,
        "date": today.isoformat(), "month": today.strftime("%Y-%m"),
    }  # fmt: skip
    assert await data_of(browser, "/v1/usage/summary") == expected
    assert await data_of(env.api.fresh(), "/v1/usage/summary", with_key(key)) == expected
    data = await gql_data(browser, SUMMARY)
    assert data["usageSummary"] == expected
    # Another user's usage is their own.
    other = await signed_in(env, "other@example.com")
    assert (await data_of(other, "/v1/usage/summary"))["dayUsed"] == 0


async def test_history_per_day_and_operation(env: Env) -> None:
    browser = await signed_in(env, "hist@example.com")
    # Keys do not expire with the clock as sessions do: the test spans eleven days.
    _, key = await create_key(browser, scopes=["quota:read"])
    caller, keyed = env.api.fresh(), with_key(key)
    first_day = env.clock.now().date()
    await call_metered(env, caller, ok=2, failed=1, headers=keyed)
    env.clock.advance(timedelta(days=10))
    last_day = env.clock.now().date()
    await call_metered(env, caller, ok=3, headers=keyed)

    history = await data_of(caller, "/v1/usage/history?days=11", keyed)
    assert history == {
        "days": [
            {"date": last_day.isoformat(), "provider": "test", "operation": "test.metered",
             "count": 3, "weightSum": 3 * WEIGHT},
            {"date": first_day.isoformat(), "provider": "test", "operation": "test.metered",
             "count": 2, "weightSum": 2 * WEIGHT},
        ],
        "total": 5,
    }  # fmt: skip
    assert (await data_of(caller, "/v1/usage/history?days=10", keyed))["total"] == 3
    # The original's default and its fallback for anything outside 1..365: 30 days.
    for query in ("", "?days=", "?days=0", "?days=366", "?days=-4"):
        assert await data_of(caller, f"/v1/usage/history{query}", keyed) == history, query
    bad = await caller.get("/v1/usage/history?days=ten", headers=keyed)
    assert (bad.status_code, bad.json()["code"]) == (400, 40000)

    data = await gql_data(caller, HISTORY, {"days": 11}, headers=keyed)
    assert data["usageHistory"] == {
        "days": [
            {"date": last_day.isoformat(), "operation": "test.metered", "count": 3, "units": 9},
            {"date": first_day.isoformat(), "operation": "test.metered", "count": 2, "units": 6},
        ],
        "total": 5,
    }
    assert (await gql_data(caller, HISTORY, {"days": None}, headers=keyed)) == data
    # issue 11: the same days as a connection, paged forward and back by keyset cursors.
    first = await gql_data(caller, ENTRIES, {"first": 1}, headers=keyed)
    page = first["usageHistory"]["entries"]
    assert page["nodes"] == [{"date": last_day.isoformat(), "units": 9}]
    assert page["totalCount"] == 2
    assert page["pageInfo"]["hasNextPage"] and not page["pageInfo"]["hasPreviousPage"]
    after = {"first": 1, "after": page["pageInfo"]["endCursor"]}
    rest = (await gql_data(caller, ENTRIES, after, headers=keyed))["usageHistory"]["entries"]
    assert rest["nodes"] == [{"date": first_day.isoformat(), "units": 6}]
    assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
    back = {"last": 1, "before": rest["pageInfo"]["startCursor"]}
    again = (await gql_data(caller, ENTRIES, back, headers=keyed))["usageHistory"]["entries"]
    assert again["nodes"] == page["nodes"]
    # GraphQL has no legacy clients to humour: out of range is an input error.
    for days in (0, 366, -1):
        error = await gql_error(caller, HISTORY, {"days": days}, headers=keyed)
        assert error["extensions"] == {"code": "INVALID_INPUT", "field": "days"}
        assert error["message"] == "days must be between 1 and 365"


async def test_realtime_is_the_last_minute(env: Env) -> None:
    browser = await signed_in(env, "live@example.com")
    await call_metered(env, browser, ok=6, failed=2)  # 4 calls now, 4 (2 failing) 1 s later
    env.clock.advance(0.5)  # the last second holds only the second four
    live = await data_of(browser, "/v1/usage/realtime")
    assert {k: v for k, v in live.items() if not k.endswith("LatencyMs")} == {
        "qpm": 8, "qps": 4.0, "totalToday": 6, "totalMonth": 6, "successRate": 0.75,
        "errorCount": 2, "dayUsed": 18, "dayLimit": 100, "monthUsed": 18, "monthLimit": 1000,
        "timestamp": live["timestamp"],
    }  # fmt: skip
    assert instant(live["timestamp"]) == env.clock.now()
    # The manual clock does not move during a call, so no latency is measured: the figures
    # are those of the application's clock, never the wall clock's.
    assert 0 <= live["minLatencyMs"] <= live["avgLatencyMs"] <= live["maxLatencyMs"] < 1000
    data = await gql_data(browser, REALTIME)
    gql = data["usageRealtime"]
    assert {k: gql[k] for k in live if k != "timestamp"} == {
        k: v for k, v in live.items() if k != "timestamp"
    }
    assert instant(gql["timestamp"]) == env.clock.now()
    # A minute later the window is empty; the day's totals stay.
    env.clock.advance(60)
    later = await data_of(browser, "/v1/usage/realtime")
    assert (later["qpm"], later["qps"], later["errorCount"], later["successRate"]) == (
        0, 0.0, 0, 1.0,
    )  # fmt: skip
    assert (later["totalToday"], later["dayUsed"]) == (6, 18)


async def test_refused_calls_are_not_usage(env: Env) -> None:
    browser = await signed_in(env, "refused@example.com")
    for _ in range(5):
        assert (await browser.get(METERED)).status_code == 200
    for _ in range(3):
        assert (await browser.get(METERED)).status_code == 429
    assert (await gql_error(browser, "{ testMetered }"))["extensions"]["code"] == "RATE_LIMITED"
    summary = await data_of(browser, "/v1/usage/summary")
    assert summary["dayUsed"] == 5 * WEIGHT
    live = await data_of(browser, "/v1/usage/realtime")
    assert (live["qpm"], live["errorCount"]) == (5, 0)
    assert (await data_of(browser, "/v1/usage/history"))["total"] == 5


async def test_a_superadmin_sees_everyones_totals(env: Env) -> None:
    alice = await signed_in(env, "alice@example.com")
    bob = await signed_in(env, "bob@example.com")
    await call_metered(env, alice, ok=2)
    env.clock.advance(1)
    await call_metered(env, bob, ok=3, failed=1)
    root = await signed_in(env, "root@example.com")
    promoted = await env.api.patch(f"/v1/admin/users/{await user_id_of(root)}",
                                   {"role": "superadmin"}, headers=ADMIN)  # fmt: skip
    assert promoted.status_code == 200, promoted.text

    assert (await data_of(alice, "/v1/usage/summary"))["dayUsed"] == 2 * WEIGHT
    everyone = await data_of(root, "/v1/usage/summary")
    # Everyone's totals are measured against no single plan: the limits read 0.
    assert (everyone["dayUsed"], everyone["monthUsed"]) == (5 * WEIGHT, 5 * WEIGHT)
    assert (everyone["dayLimit"], everyone["monthLimit"]) == (0, 0)
    assert (await gql_data(root, SUMMARY))["usageSummary"] == everyone
    assert (await data_of(root, "/v1/usage/history"))["total"] == 5
    live = await data_of(root, "/v1/usage/realtime")
    assert (live["qpm"], live["errorCount"], live["totalToday"]) == (6, 1, 5)

    # The admin token is a superadmin without a user: everyone's figures too, but it has
    # no plan or key of its own, so it has no rate limits to report.
    assert await data_of(env.api, "/v1/usage/summary", ADMIN) == everyone
    assert (await data_of(env.api, "/v1/usage/history", ADMIN))["total"] == 5
    data = await gql_data(env.api, SUMMARY, headers=ADMIN)
    assert data["usageSummary"] == everyone
    refused = await env.api.get("/v1/usage/rate-limit", headers=ADMIN)
    assert refused.status_code == 401, refused.text
    error = await gql_error(env.api, "{ rateLimit { planId } }", headers=ADMIN)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_usage_needs_a_caller(env: Env) -> None:
    anonymous = env.api.fresh()
    for path in ("summary", "history", "realtime", "rate-limit"):
        response = await anonymous.get(f"/v1/usage/{path}")
        assert (response.status_code, response.json()["code"]) == (401, 40100), path
    for query in (SUMMARY, REALTIME, "{ usageHistory { total } }"):
        assert (await gql_error(anonymous, query))["extensions"]["code"] == "UNAUTHENTICATED"
