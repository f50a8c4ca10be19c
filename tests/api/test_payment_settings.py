"""Payment channel settings over /v1 (issue 16): secrets sealed at rest with the key ring
(and re-encrypted by ``karpov keys rotate``), masked on read, a masked value in a PUT keeps
the stored secret; field errors name the field; disabled or unknown providers cannot be
ordered from; the buyer's list of channels; a change reaching another process at once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import select

from persistence.sql.engine import create_engine
from persistence.sql.tables import billing_settings
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
KEY = "yipay-merchant-key-abcdefgh"
XUNHU = "xunhu-app-secret-12345678"
YIPAY = {"provider": "yipay", "enabled": True, "yipayBaseUrl": "https://pay.example.com",
         "yipayMerchantId": "1001", "yipayKey": KEY}  # fmt: skip


def data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200, body
    return body["data"]


def channel(body: dict[str, Any], provider: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in body["channels"] if c["provider"] == provider]
    [one] = found
    return one


async def stored_document(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            query = select(billing_settings.c.value).where(
                billing_settings.c.key == "payment_channels"
            )
            return json.dumps((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def buyer(api: Api, email: str) -> Api:
    browser = api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    answer = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert answer.status_code == 200, answer.text
    return browser


async def test_secrets_are_sealed_masked_and_kept_when_sent_back_masked(
    backend: tuple[str, str | None],
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url) as (api, app):
        boss = api.fresh()
        empty = data(await boss.get("/v1/admin/settings/payment", headers=ADMIN))
        assert [c["provider"] for c in empty["channels"]] == ["yipay", "hupijiao", "ldcpay"]
        assert not any(c["enabled"] for c in empty["channels"])

        saved = data(await boss.request("PUT", "/v1/admin/settings/payment",
                                        json={"channels": [YIPAY]}, headers=ADMIN))  # fmt: skip
        assert channel(saved, "yipay")["yipayKey"] == "yi****gh"
        read = data(await boss.get("/v1/admin/settings/payment", headers=ADMIN))
        assert channel(read, "yipay")["yipayKey"] == "yi****gh"
        assert KEY not in json.dumps(read)
        at_rest = await stored_document(database_url)
        assert KEY not in at_rest and "sealed" in at_rest

        # What the admin page sends back: the masked value keeps the stored key.
        again = {**YIPAY, "yipayKey": "yi****gh", "yipayPaymentType": "wxpay"}
        data(await boss.request("PUT", "/v1/admin/settings/payment",
                                json={"channels": [again]}, headers=ADMIN))  # fmt: skip
        provider = app.state.container.services.orders.provider("yipay")
        assert provider.config.key == KEY and provider.config.payment_type == "wxpay"

        rotation = app.state.container.services.key_rotation
        before = await stored_document(database_url)
        report = await rotation.rotate()
        assert report.reencrypted >= 1 and report.remaining == 0
        assert await stored_document(database_url) != before
        read = data(await boss.get("/v1/admin/settings/payment", headers=ADMIN))
        assert channel(read, "yipay")["yipayKey"] == "yi****gh"


async def test_bad_fields_are_400_naming_the_field_and_change_nothing(
    backend: tuple[str, str | None],
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url) as (api, _):
        boss = api.fresh()
        cases = [
            ({**YIPAY, "yipayBaseUrl": "ftp://nope"}, "yipayBaseUrl"),
            ({**YIPAY, "yipayKey": ""}, "yipayKey"),
            ({"provider": "hupijiao", "enabled": True, "hupijiaoAppId": "1"}, "hupijiaoKey"),
            ({"provider": "stripe", "enabled": True}, "provider"),
            ({**YIPAY, "callbackNetworks": ["not a network"]}, "callbackNetworks"),
        ]
        for body, field in cases:
            answer = await boss.request("PUT", "/v1/admin/settings/payment",
                                        json={"channels": [body]}, headers=ADMIN)  # fmt: skip
            assert answer.status_code == 400, (field, answer.text)
            assert answer.json().get("field", field) == field, answer.text
        read = data(await boss.get("/v1/admin/settings/payment", headers=ADMIN))
        assert not any(c["enabled"] for c in read["channels"])
        viewer = await buyer(api, "not-admin@example.com")
        refused = await viewer.request("PUT", "/v1/admin/settings/payment",
                                       json={"channels": [YIPAY]})  # fmt: skip
        assert refused.status_code == 403


async def test_buyers_see_enabled_channels_and_cannot_order_from_others(
    backend: tuple[str, str | None],
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url) as (api, _):
        boss = api.fresh()
        shopper = await buyer(api, "shopper@example.com")
        listed = data(await shopper.get("/v1/billing/payment-channels"))
        assert [c["provider"] for c in listed["channels"]] == ["mock"]  # dev: mock only
        data(await boss.request("PUT", "/v1/admin/settings/payment",
                                json={"channels": [YIPAY]}, headers=ADMIN))  # fmt: skip
        listed = data(await shopper.get("/v1/billing/payment-channels"))
        assert {
            "provider": "yipay",
            "displayName": "支付宝 / 微信（易支付）",
            "description": "支持支付宝、微信、QQ 钱包",
            "icon": "alipay",
        } in listed["channels"]
        order = {"planId": "basic", "paymentProvider": "hupijiao"}
        refused = await shopper.post("/v1/billing/orders", order)
        assert refused.status_code == 400 and "unknown payment provider" in refused.text
        made = data(await shopper.post("/v1/billing/orders", {**order, "paymentProvider": "yipay"}))
        assert made["payUrl"].startswith("https://pay.example.com/submit.php?")
        data(await boss.request("PUT", "/v1/admin/settings/payment",
                                json={"channels": [{**YIPAY, "enabled": False}]},
                                headers=ADMIN))  # fmt: skip
        again = await shopper.post(
            "/v1/billing/orders", {"planId": "pro", "paymentProvider": "yipay"}
        )
        assert again.status_code == 400
        listed = data(await shopper.get("/v1/billing/payment-channels"))
        assert [c["provider"] for c in listed["channels"]] == ["mock"]
        unknown = await shopper.post("/v1/billing/orders", {**order, "paymentProvider": "paypal"})
        assert unknown.status_code == 400


async def test_a_change_reaches_another_process_without_a_restart(
    backend: tuple[str, str | None],
) -> None:
    database_url, redis_url = backend
    async with (
        running_app(database_url, redis_url=redis_url) as (one, _),
        running_app(database_url, redis_url=redis_url) as (two, _),
    ):
        shopper = await buyer(two, "other-process@example.com")
        before = data(await shopper.get("/v1/billing/payment-channels"))
        assert "yipay" not in [c["provider"] for c in before["channels"]]
        data(await one.fresh().request("PUT", "/v1/admin/settings/payment",
                                       json={"channels": [YIPAY]}, headers=ADMIN))  # fmt: skip
        after = data(await shopper.get("/v1/billing/payment-channels"))
        assert "yipay" in [c["provider"] for c in after["channels"]]
        order = {"planId": "basic", "paymentProvider": "yipay"}
        made = data(await shopper.post("/v1/billing/orders", order))
        assert made["payUrl"].startswith("https://pay.example.com/")


async def test_concurrent_updates_and_a_rotation_lose_nothing(
    backend: tuple[str, str | None],
) -> None:
    database_url, redis_url = backend
    xunhu = {"provider": "hupijiao", "enabled": True, "hupijiaoAppId": "2019",
             "hupijiaoKey": XUNHU}  # fmt: skip
    async with running_app(database_url, redis_url=redis_url) as (api, app):
        boss = api.fresh()
        data(await boss.request("PUT", "/v1/admin/settings/payment",
                                json={"channels": [{**YIPAY, "enabled": False}]},
                                headers=ADMIN))  # fmt: skip

        async def put(channel: dict[str, Any]) -> None:
            data(await boss.request("PUT", "/v1/admin/settings/payment",
                                    json={"channels": [channel]}, headers=ADMIN))  # fmt: skip

        rotation = app.state.container.services.key_rotation
        await asyncio.gather(put(YIPAY), put(xunhu), rotation.rotate())
        read = data(await boss.get("/v1/admin/settings/payment", headers=ADMIN))
        assert channel(read, "yipay")["enabled"] and channel(read, "hupijiao")["enabled"]
        orders = app.state.container.services.orders
        await app.state.container.services.payment_channels.refresh()
        assert orders.provider("yipay").config.key == KEY
        assert orders.provider("hupijiao").config.app_secret == XUNHU


ORDER_GQL = """mutation($i: OrderCreateInput!) { orderCreate(input: $i) {
    order { paymentProvider } errors { code field message } } }"""
SETTINGS_GQL = """mutation($i: AdminPaymentSettingsUpdateInput!) {
    adminPaymentSettingsUpdate(input: $i) { channels { provider enabled }
    errors { code field message } } }"""


async def test_graphql_names_providers_by_enum_and_refuses_one_not_offered(
    backend: tuple[str, str | None],
) -> None:
    """Over GraphQL a provider is a ``PaymentProviderName``: a name outside the set fails
    validation; one in it that this server does not offer (MOCK with the mock off, a
    channel not enabled) is the UNKNOWN_PAYMENT_PROVIDER /v1 answers, never a 500."""
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, billing_mock_payments=False) as (
        api,
        _,
    ):
        boss, shopper = api.fresh(), await buyer(api, "enum-shopper@example.com")
        offered = await shopper.gql("{ paymentChannels { provider } }")
        assert offered == {"data": {"paymentChannels": []}}
        for name in ("MOCK", "HUPIJIAO"):
            body = {"planId": "basic", "paymentProvider": name}
            result = await shopper.gql(ORDER_GQL, {"i": body})
            assert result == {"data": {"orderCreate": {"order": None, "errors": [{
                "code": "UNKNOWN_PAYMENT_PROVIDER", "field": "paymentProvider",
                "message": "unknown payment provider"}]}}}  # fmt: skip
            rest = await shopper.post(
                "/v1/billing/orders", {**body, "paymentProvider": name.lower()}
            )
            assert rest.status_code == 400 and rest.json()["message"] == "unknown payment provider"
        invalid = await shopper.gql(
            ORDER_GQL, {"i": {"planId": "basic", "paymentProvider": "mock"}}
        )
        assert [e["extensions"]["code"] for e in invalid["errors"]] == ["BAD_USER_INPUT"]
        assert "data" not in invalid or invalid["data"] is None

        mock = await boss.gql(SETTINGS_GQL, {"i": {"channels": [{"provider": "MOCK"}]}}, ADMIN)
        [error] = mock["data"]["adminPaymentSettingsUpdate"]["errors"]
        assert (error["field"], error["message"]) == ("provider", "unknown payment provider 'mock'")
        fields = [{"name": k, "value": v} for k, v in YIPAY.items() if k.startswith("yipay")]
        channel = {"provider": "YIPAY", "enabled": True, "fields": fields}
        saved = await boss.gql(SETTINGS_GQL, {"i": {"channels": [channel]}}, ADMIN)
        assert saved["data"]["adminPaymentSettingsUpdate"] == {"errors": [], "channels": [
            {"provider": "YIPAY", "enabled": True}, {"provider": "HUPIJIAO", "enabled": False},
            {"provider": "LDCPAY", "enabled": False}]}  # fmt: skip
        offered = await shopper.gql("{ paymentChannels { provider } }")
        assert offered == {"data": {"paymentChannels": [{"provider": "YIPAY"}]}}
        made = await shopper.gql(ORDER_GQL, {"i": {"planId": "basic", "paymentProvider": "YIPAY"}})
        assert made["data"]["orderCreate"] == {"order": {"paymentProvider": "YIPAY"}, "errors": []}
