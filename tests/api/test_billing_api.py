"""Billing over both edges, on SQLite and on PostgreSQL + Redis: buying a plan and a top-up
with the mock provider's page and callback (the ``make run`` flow), the limits following at
once, idempotency keys, the admin's money movements and plan and currency settings."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio

from domain.quota.plans import DEFAULT_PLANS
from persistence.sql.engine import create_engine
from persistence.sql.tables import plans
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api
from tests.api.harness import data_of as gql_data

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
RATE_LIMIT = "/v1/usage/rate-limit"


@pytest_asyncio.fixture(loop_scope="session", autouse=True)
async def restore_plans(backend: tuple[str, str | None]) -> AsyncIterator[None]:
    """The plan catalog is reference data the PostgreSQL database keeps across tests: put
    the seed back after a test that changed it (each SQLite test has its own copy)."""
    yield
    engine = create_engine(backend[0])
    try:
        now = datetime.now(UTC)
        async with engine.begin() as conn:
            await conn.execute(plans.delete())
            rows = [{**asdict(p), "created_at": now, "updated_at": now} for p in DEFAULT_PLANS]
            await conn.execute(plans.insert(), rows)
    finally:
        await engine.dispose()


async def signed_in(api: Api, email: str) -> tuple[Api, str]:
    browser = api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    response = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    me = (await browser.get("/v1/auth/me")).json()
    return browser, me["id"]


def data(response: Any) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200, body
    return body["data"]


async def pay_on_the_mock_page(browser: Api, pay_url: str, button: str = "Pay") -> str:
    """What a buyer's browser does: open the page, submit the button's form."""
    page = await browser.get(pay_url.removeprefix("http://localhost:8080"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    forms = re.findall(r"<form.*?</form>", page.text, flags=re.S)
    [form] = [f for f in forms if f">{button}</button>" in f]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    action = re.search(r'action="([^"]+)"', form)
    assert action is not None
    # A provider's server posts without the browser's CSRF token: the path is exempt.
    answer = await browser.http.post(action.group(1), data=fields)
    assert answer.status_code == 200, answer.text
    return answer.text


def limits(body: dict[str, Any]) -> dict[str, int]:
    return {entry["name"]: entry["limit"] for entry in data_or_body(body)["limits"]}


def data_or_body(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("data", body)  # type: ignore[no-any-return]


async def test_buying_a_plan_with_the_mock_raises_the_limits_at_once(api: Api) -> None:
    browser, user_id = await signed_in(api, "buyer@example.com")
    assert limits((await browser.get(RATE_LIMIT)).json())["plan_daily"] == 100
    order = data(await browser.post(
        "/v1/billing/orders", {"planId": "pro", "paymentProvider": "mock"}
    ))  # fmt: skip
    assert order["status"] == "paying" and order["amount"] == "29.00"
    assert (order["currency"], order["planName"]) == ("CNY", "Pro")
    assert await pay_on_the_mock_page(browser, order["payUrl"]) == "ok"
    assert limits((await browser.get(RATE_LIMIT)).json())["plan_daily"] == 5000
    mine = data(await browser.get("/v1/billing/me/plan"))
    assert (mine["userId"], mine["planId"], mine["monthlyLimit"]) == (user_id, "pro", 100_000)
    got = data(await browser.get(f"/v1/billing/orders/{order['orderId']}"))
    assert got["status"] == "completed" and got["paidAt"]
    listed = data(await browser.get("/v1/billing/orders"))
    assert [o["id"] for o in listed["items"]] == [order["orderId"]] and listed["total"] == 1
    other, _ = await signed_in(api, "other@example.com")
    assert (await other.get(f"/v1/billing/orders/{order['orderId']}")).status_code == 404


async def test_a_topup_credits_the_wallet_once_and_keeps_the_plan(api: Api) -> None:
    browser, user_id = await signed_in(api, "topup@example.com")
    made = data(await browser.post(
        "/v1/billing/balance/topup", {"amountCents": 5000, "paymentProvider": "mock"}
    ))  # fmt: skip
    assert (made["purpose"], made["amount"], made["amountCents"]) == ("topup", "50.00", 5000)
    assert await pay_on_the_mock_page(browser, made["payUrl"]) == "ok"
    again = await browser.http.post(
        "/v1/billing/callback/mock", data={"order_id": made["orderId"], "amount": "50.00"}
    )
    assert again.text == "ok"
    balance = data(await browser.get("/v1/billing/balance"))
    assert (balance["userId"], balance["balanceCents"], balance["currency"]) == (
        user_id, 5000, "CNY",
    )  # fmt: skip
    ledger = data(await browser.get("/v1/billing/balance/transactions"))
    assert [(e["kind"], e["amountCents"], e["balanceAfterCents"]) for e in ledger["items"]] == [
        ("topup", 5000, 5000)
    ]
    assert data(await browser.get("/v1/billing/me/plan"))["planId"] == "free"
    gql = await gql_data(
        browser,
        """{ balance { balance { amountMinor currency formatted } }
        ledger(first: 5) { totalCount nodes { kind amount { amountMinor } } } }""",
    )
    assert gql["balance"]["balance"] == {"amountMinor": 5000, "currency": "CNY",
                                         "formatted": "50.00"}  # fmt: skip
    assert gql["ledger"]["totalCount"] == 1


async def test_the_fail_button_and_a_wrong_amount(api: Api) -> None:
    browser, _ = await signed_in(api, "fails@example.com")
    order = data(await browser.post(
        "/v1/billing/orders", {"planId": "basic", "paymentProvider": "mock"}
    ))  # fmt: skip
    wrong = await browser.http.get(
        "/v1/billing/callback/mock", params={"order_id": order["orderId"], "amount": "8.99"}
    )
    assert wrong.text == "fail"
    assert await pay_on_the_mock_page(browser, order["payUrl"], "Fail") == "ok"
    assert data(await browser.get(f"/v1/billing/orders/{order['orderId']}"))["status"] == "failed"


async def test_idempotency_keys_on_both_edges(api: Api) -> None:
    browser, _ = await signed_in(api, "idem@example.com")
    body = {"planId": "pro", "paymentProvider": "mock"}
    first = data(await browser.post("/v1/billing/orders", body, headers={"Idempotency-Key": "a1"}))
    again = data(await browser.post("/v1/billing/orders", {**body, "idempotencyKey": "a1"}))
    assert again["orderId"] == first["orderId"]
    reused = await browser.post(
        "/v1/billing/orders", {**body, "planId": "basic"}, headers={"Idempotency-Key": "a1"}
    )
    assert reused.status_code == 422
    assert reused.json()["code"] == 42200
    bad = await browser.post("/v1/billing/orders", body, headers={"Idempotency-Key": "a b"})
    assert bad.status_code == 400
    result = await gql_data(browser, """mutation { orderCreate(input: {planId: "pro",
        paymentProvider: MOCK, idempotencyKey: "a1"}) { order { id status }
        errors { code } } }""")  # fmt: skip
    assert result["orderCreate"]["order"]["status"] == "PAYING"
    node = result["orderCreate"]["order"]["id"]
    assert data(await browser.get(f"/v1/billing/orders/{node}"))["id"] == first["orderId"]
    refused = await gql_data(browser, """mutation { orderCreate(input: {planId: "basic",
        paymentProvider: MOCK}) { order { id } errors { code } } }""",
        headers={"Idempotency-Key": "a1"})  # fmt: skip
    assert refused["orderCreate"]["errors"] == [{"code": "IDEMPOTENCY_KEY_REUSED"}]


async def test_admin_money_movements_are_superadmin_only_and_audited(api: Api) -> None:
    browser, user_id = await signed_in(api, "wallet@example.com")
    admin = api.fresh()
    admin.http.headers.update(ADMIN)
    credited = data(await admin.post(
        f"/v1/admin/users/{user_id}/balance",
        {"operation": "credit", "amountCents": 900, "description": "gift"},
    ))  # fmt: skip
    assert credited["balanceCents"] == 900
    refused = await admin.post(
        f"/v1/admin/users/{user_id}/balance", {"operation": "debit", "amountCents": 901}
    )
    assert refused.status_code == 400 and refused.json()["message"] == "insufficient balance"
    set_to = data(await admin.post(
        f"/v1/admin/users/{user_id}/balance", {"operation": "set", "amountCents": 100}
    ))  # fmt: skip
    assert set_to["transaction"]["amountCents"] == -800
    adjusted = data(await admin.post(
        "/v1/billing/balance/adjust", {"userId": user_id, "amountCents": -100}
    ))  # fmt: skip
    assert adjusted["balanceCents"] == 0
    overdraw = {"userId": user_id, "amountCents": -1}
    assert (await admin.post("/v1/billing/balance/adjust", overdraw)).status_code == 400
    gift = {"userId": user_id, "amountCents": 5}
    assert (await browser.post("/v1/billing/balance/adjust", gift)).status_code == 403
    assert data(await admin.get(f"/v1/admin/users/{user_id}/balance"))["balanceCents"] == 0
    lines = data(await admin.get(f"/v1/admin/users/{user_id}/balance/transactions"))
    assert [e["amountCents"] for e in lines["items"]] == [-100, -800, 900]
    audit = data(await admin.get("/v1/admin/audit?action=billing.balance_adjusted"))
    assert audit["total"] == 3
    gql = await gql_data(admin, """query($u: ID!) { adminUserBalance(userId: $u) {
        balance { amountMinor } } }""", {"u": user_id})  # fmt: skip
    assert gql["adminUserBalance"]["balance"]["amountMinor"] == 0


async def test_plans_and_currency_settings(api: Api) -> None:
    browser, _ = await signed_in(api, "plans@example.com")
    admin = api.fresh()
    admin.http.headers.update(ADMIN)
    offered = data(await browser.get("/v1/billing/plans"))["plans"]
    assert [p["id"] for p in offered] == ["free", "basic", "pro", "enterprise"]
    spec = {"name": "Free", "priceCents": 0, "qps": 5, "dailyLimit": 7, "monthlyLimit": 1000}
    assert (await browser.request("PUT", "/v1/billing/plans/free", json=spec)).status_code == 403
    saved = data(await admin.request("PUT", "/v1/billing/plans/free", json=spec))
    assert (saved["dailyLimit"], saved["period"], saved["isActive"]) == (7, "monthly", True)
    assert limits((await browser.get(RATE_LIMIT)).json())["plan_daily"] == 7  # at once
    deleted = await admin.request("DELETE", "/v1/billing/plans/free")
    assert deleted.status_code == 400 and deleted.json()["message"] == "cannot delete free plan"
    assert data(await admin.request("DELETE", "/v1/billing/plans/basic")) is None
    offered = data(await browser.get("/v1/billing/plans"))["plans"]
    assert [p["id"] for p in offered] == ["free", "pro", "enterprise"]
    bad = await admin.request(
        "PUT", "/v1/admin/settings/currency",
        json={"defaultCurrency": "CNY", "rates": [{"code": "CNY", "rate": "1"}]},
    )  # fmt: skip
    assert bad.status_code == 400
    put = data(await admin.request(
        "PUT", "/v1/admin/settings/currency",
        json={"defaultCurrency": "cny", "rates": [{"code": "ldc", "rate": "7.2"}]},
    ))  # fmt: skip
    assert put["config"]["defaultCurrency"] == "CNY"
    assert put["config"]["rates"] == [{"code": "LDC", "rate": "7.2"}]
    got = data(await admin.get("/v1/admin/settings/currency"))
    assert got == put
    assert (await browser.get("/v1/admin/settings/currency")).status_code == 403


async def test_the_admin_view_of_a_user_lists_keys_plan_counts_and_balance(api: Api) -> None:
    browser, user_id = await signed_in(api, "viewed@example.com")
    admin = api.fresh()
    admin.http.headers.update(ADMIN)
    empty = data(await admin.get(f"/v1/admin/users/{user_id}"))
    assert (empty["apiKeys"], empty["planCounts"], "balance" in empty) == ([], {}, False)
    for name in ("one", "two"):
        assert (await browser.post("/v1/auth/api-keys", {"name": name})).status_code == 200
    keys = data(await admin.get(f"/v1/admin/users/{user_id}/keys"))
    assert keys["total"] == 2
    revoked = keys["items"][0]["id"]
    assert (await browser.delete(f"/v1/auth/api-keys/{revoked}")).status_code == 200
    await admin.post(f"/v1/admin/users/{user_id}/balance",
                     {"operation": "credit", "amountCents": 250})  # fmt: skip
    view = data(await admin.get(f"/v1/admin/users/{user_id}"))
    assert [(k["name"], k["status"], k["planId"]) for k in view["apiKeys"]] == [
        ("two", "revoked", "free"), ("one", "active", "free"),
    ]  # fmt: skip
    assert view["planCounts"] == {"free": 1}
    assert view["balance"]["balanceCents"] == 250
    assert (await browser.get(f"/v1/admin/users/{user_id}/keys")).status_code == 403


async def test_subscription_routes_and_the_admin_grant(api: Api) -> None:
    browser, user_id = await signed_in(api, "subscriber@example.com")
    assert data(await browser.get("/v1/billing/subscription")) is None
    made = (await browser.post(
        "/v1/billing/subscribe", {"planCode": "basic", "paymentProvider": "mock"}
    )).json()  # fmt: skip
    assert await pay_on_the_mock_page(browser, made["redirectUrl"]) == "ok"
    sub = data(await browser.get("/v1/billing/subscription"))
    assert (sub["planId"], sub["status"], sub["autoRenew"], sub["source"]) == (
        "basic", "active", True, "purchase",
    )  # fmt: skip
    assert sub["currentPeriodEnd"] > sub["currentPeriodStart"]
    # issue 11: GraphQL's twin names the plan as an object, and node(id:) finds it.
    mine = (await gql_data(browser, "{ subscription { id planId plan { id name } } }"))[
        "subscription"
    ]
    assert (mine["planId"], mine["plan"]["id"]) == ("basic", "basic") and mine["plan"]["name"]
    found = await gql_data(browser, "query($id: ID!) { node(id: $id) { __typename id } }",
                           {"id": mine["id"]})  # fmt: skip
    assert found["node"] == {"__typename": "BillingSubscription", "id": mine["id"]}
    off = data(await browser.patch("/v1/billing/subscription", {"autoRenew": False}))
    assert off["autoRenew"] is False
    canceled = (await browser.post("/v1/billing/subscription/cancel")).json()
    assert canceled["cancelAtPeriodEnd"] is True and canceled["status"] == "active"
    assert limits((await browser.get(RATE_LIMIT)).json())["plan_daily"] == 1000  # until the end
    for name in ("a", "b"):
        assert (await browser.post("/v1/auth/api-keys", {"name": name})).status_code == 200
    admin = api.fresh()
    admin.http.headers.update(ADMIN)
    granted = data(await admin.post(f"/v1/admin/users/{user_id}/plan", {"planId": "enterprise"}))
    assert granted == {"planId": "enterprise", "updatedKeys": 2, "totalKeys": 2}
    assert limits((await browser.get(RATE_LIMIT)).json())["plan_daily"] == 50_000
    sub = data(await browser.get("/v1/billing/subscription"))
    assert (sub["source"], sub["currentPeriodEnd"]) == ("grant", None)
    assert (await browser.post(f"/v1/admin/users/{user_id}/plan",
                               {"planId": "pro"})).status_code == 403  # fmt: skip
    audit = data(await admin.get("/v1/admin/audit?action=billing.plan_granted"))
    assert audit["total"] == 1


async def test_invoices_and_an_admins_refund(api: Api) -> None:
    browser, _ = await signed_in(api, "invoiced@example.com")
    order = data(await browser.post(
        "/v1/billing/orders", {"planId": "pro", "paymentProvider": "mock"}
    ))  # fmt: skip
    assert await pay_on_the_mock_page(browser, order["payUrl"]) == "ok"
    listed = (await browser.get("/v1/billing/invoices")).json()
    [invoice] = listed["items"]
    assert (invoice["orderId"], invoice["total"], invoice["buyerEmail"]) == (
        order["orderId"], "29.00", "invoiced@example.com",
    )  # fmt: skip
    page = await browser.get(invoice["htmlUrl"])
    assert page.headers["content-type"].startswith("text/html")
    assert invoice["number"] in page.text and "29.00 CNY" in page.text
    other, _ = await signed_in(api, "peeker@example.com")
    assert (await other.get(invoice["htmlUrl"])).status_code == 404
    admin = api.fresh()
    admin.http.headers.update(ADMIN)
    url = f"/v1/billing/orders/{order['orderId']}/refund"
    assert (await browser.post(url, {"reason": "mine"})).status_code == 403
    partial = data(await admin.post(url, {"reason": "late", "refundType": "partial",
                                          "amount": "9.00"}))  # fmt: skip
    assert (partial["refundAmount"], partial["orderStatus"]) == ("9.00", "completed")
    full = data(await admin.post(url, {"reason": "gone"}))
    assert (full["refundAmount"], full["orderStatus"], full["refundType"]) == (
        "20.00", "refunded", "full",
    )  # fmt: skip
    assert limits((await browser.get(RATE_LIMIT)).json())["plan_daily"] == 100  # back to free
    again = await admin.post(url, {"reason": "twice"})
    assert again.status_code == 400


async def test_the_viewer_shows_its_own_billing_only(api: Api) -> None:
    browser, user_id = await signed_in(api, "viewer-billing@example.com")
    made = data(await browser.post(
        "/v1/billing/balance/topup", {"amountCents": 700, "paymentProvider": "mock"}
    ))  # fmt: skip
    assert await pay_on_the_mock_page(browser, made["payUrl"]) == "ok"
    viewer = (await gql_data(browser, """{ viewer { plan { id } subscription { id }
        balance(currency: "CNY") { balance { amountMinor currency formatted } }
        ledger(first: 5) { totalCount nodes { kind amount { amountMinor } } }
        orders(first: 5) { totalCount nodes { purpose status } }
        invoices(first: 5) { totalCount nodes { number total { formatted } } }
        extraUsage { enabled } } }"""))["viewer"]  # fmt: skip
    assert viewer["plan"] == {"id": "free"} and viewer["subscription"] is None
    assert viewer["balance"]["balance"] == {"amountMinor": 700, "currency": "CNY",
                                            "formatted": "7.00"}  # fmt: skip
    assert viewer["ledger"]["nodes"] == [{"kind": "TOPUP", "amount": {"amountMinor": 700}}]
    assert viewer["orders"]["nodes"] == [{"purpose": "TOPUP", "status": "COMPLETED"}]
    assert viewer["invoices"]["nodes"][0]["total"] == {"formatted": "7.00"}
    assert viewer["extraUsage"] == {"enabled": False}
    # issue 11: node(id:) resolves the viewer's order and invoice; a top-up names no plan.
    mine = (await gql_data(browser, """{ viewer { orders(first: 1) { nodes { id plan { id } } }
        invoices(first: 1) { nodes { id } } } }"""))["viewer"]  # fmt: skip
    [order], [invoice] = mine["orders"]["nodes"], mine["invoices"]["nodes"]
    assert order["plan"] is None
    for id, type_name in ((order["id"], "Order"), (invoice["id"], "Invoice")):
        found = await gql_data(browser, "query($id: ID!) { node(id: $id) { __typename id } }",
                               {"id": id})  # fmt: skip
        assert found["node"] == {"__typename": type_name, "id": id}
    admin = api.fresh()
    admin.http.headers.update(ADMIN)
    other = (await gql_data(admin, """query($id: ID!) { adminUser(id: $id) { balance {
        version } orders { totalCount } } }""", {"id": user_id}))["adminUser"]  # fmt: skip
    assert other == {"balance": None, "orders": None}
