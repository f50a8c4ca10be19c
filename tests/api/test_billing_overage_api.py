"""Pay-as-you-go over /v1 and GraphQL, on SQLite and PostgreSQL + Redis: beyond the plan's
monthly units a metered call is paid from the wallet at the accumulated-units price, with
the original's headers, report, charges and events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN, Api, running_app
from tests.api.harness import data_of as gql_data
from tests.api.test_billing_api import data, restore_plans, signed_in  # noqa: F401
from tests.fakes.hibp_server import FakeHibpServer
from tests.support.metered import METERED_ROUTE, MeteredQuery

METER = {"name": "Meter", "priceCents": 100, "qps": 0, "dailyLimit": 0, "monthlyLimit": 3,
         "payAsYouGo": True, "overagePricePer_1k": 100}  # fmt: skip


@pytest_asyncio.fixture(loop_scope="session")
async def metered_api(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Api]:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp, query=MeteredQuery,
                           extra_routes=[METERED_ROUTE]) as (client, _):  # fmt: skip
        yield client


async def test_overage_is_paid_from_the_wallet_at_the_accumulated_price(metered_api: Api) -> None:
    api = metered_api
    browser, user_id = await signed_in(api, "payg@example.com")
    admin = api.fresh()
    admin.http.headers["X-Admin-Key"] = ADMIN_TOKEN
    assert (await admin.request("PUT", "/v1/billing/plans/meter", json=METER)).status_code == 200
    data(await admin.post(f"/v1/admin/users/{user_id}/plan", {"planId": "meter"}))
    data(await admin.post(f"/v1/admin/users/{user_id}/balance",
                          {"operation": "credit", "amountCents": 100}))  # fmt: skip
    assert (await browser.get("/v1/test/metered")).status_code == 200  # the plan's 3 units
    refused = await browser.get("/v1/test/metered")
    assert refused.status_code == 429
    assert refused.json()["message"] == "monthly quota exceeded; enable extra usage to continue"
    assert refused.json()["data"]["extraUsage"]["reason"] == "extra_usage_disabled"
    enable = {"enabled": True, "notifyThresholdPct": 50}
    settings = data(await browser.request("PUT", "/v1/billing/extra-usage", json=enable))
    assert (settings["enabled"], settings["monthlyCapCents"]) == (True, 0)
    charged = []
    for _ in range(10):  # 3 units each: 30 units at 100¢ per 1k = 3¢ in all
        paid = await browser.get("/v1/test/metered")
        assert paid.status_code == 200, paid.text
        assert paid.headers["x-extra-usage"] == "1"
        charged.append(int(paid.headers["x-extra-usage-charged-cents"]))
    assert sum(charged) == 3 and paid.headers["x-extra-usage-used-cents"] == "3"
    balance = data(await browser.get("/v1/billing/balance"))
    assert balance["balanceCents"] == 97
    report = data(await browser.get("/v1/billing/extra-usage/report"))
    assert (report["overageCount"], report["overageWeight"], report["overageCents"]) == (10, 30, 3)
    assert (report["planId"], report["overagePricePer_1k"], report["balanceCents"]) == (
        "meter", 100, 97,
    )  # fmt: skip
    charges = data(await browser.get("/v1/billing/extra-usage/charges"))
    assert charges["total"] == 1 and charges["items"][0]["amountCents"] == 3
    events = data(await browser.get("/v1/billing/extra-usage/events?limit=3"))
    assert events["total"] == 10 and len(events["items"]) == 3
    ledger = data(await browser.get("/v1/billing/balance/transactions"))
    assert sum(e["amountCents"] for e in ledger["items"]) == 97
    capped = data(await browser.request("PUT", "/v1/billing/extra-usage",
                                        json={"monthlyCapCents": 3}))  # fmt: skip
    assert capped["monthlyCapCents"] == 3
    gql: dict[str, Any] = await gql_data(browser, """{ extraUsageReport { nearLimit usedCapPct
        overage { amountMinor } remainingCap { amountMinor } } }""")  # fmt: skip
    assert gql["extraUsageReport"] == {"nearLimit": True, "usedCapPct": 1.0,
                                       "overage": {"amountMinor": 3},
                                       "remainingCap": {"amountMinor": 0}}  # fmt: skip
    for _ in range(3):  # 9 more units still cost 3¢ in all until 40 units: 4¢ > the cap
        last = await browser.get("/v1/test/metered")
    assert last.status_code == 429
    assert last.json()["message"] == "extra usage monthly cap reached"
