"""Each real provider end to end through the running app, against its fake gateway (issue
16): a buyer's order, the fake's payment and its asynchronous notify to OUR callback route
(the real HTTP path: CSRF exemption, form or query parsing, the callback table), the order
completed and the wallet or the plan updated, exactly once. Then what must be refused and
kept: a tampered signature, a wrong amount, an unknown order; a replay; a paid callback for
an expired order; 50 simultaneous copies of one notify on PostgreSQL; the allow list of
source networks; the admin views and reconciliation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.billing.model import OrderStatus
from integrations.payments import (
    HupijiaoConfig,
    LdcConfig,
    YipayConfig,
)
from integrations.payments.config import ChannelConfig
from integrations.payments.factory import ProviderFactory
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.fakes.payments.gateway import Delivery
from tests.fakes.payments.hupijiao_gateway import FakeHupijiaoGateway
from tests.fakes.payments.ldc_gateway import FakeLdcGateway
from tests.fakes.payments.signatures import epay_sign
from tests.fakes.payments.yipay_gateway import EpayOrder, FakeYipayGateway

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
PROVIDER_IP = "198.51.100.9"
YIPAY_KEY = "yipay-merchant-key-0123456789"
XUNHU_SECRET = "xunhu-app-secret-0123456789"
LDC_SECRET = "ldc-client-secret-0123456789"
LDC_MERCHANT = Ed25519PrivateKey.generate()
SECRETS = (YIPAY_KEY, XUNHU_SECRET, LDC_SECRET)
PROVIDERS = ("yipay", "hupijiao", "ldcpay")


@dataclass
class Channel:
    name: str
    fake: Any
    """The provider's fake gateway (a ``FakeGateway`` with its ``app``)."""
    config: ChannelConfig
    http: httpx.AsyncClient
    """Our client to the fake (the provider's) and the buyer's browser."""

    async def pay(self, order_id: str, pay_url: str) -> list[Delivery]:
        if self.name == "yipay":  # the page jump: the fake learns the order from the buyer
            assert (await self.http.get(pay_url)).status_code == 200
        fake: Any = self.fake
        return await fake.pay(order_id)  # type: ignore[no-any-return]

    @property
    def ack(self) -> str:
        return "success"


@dataclass
class World:
    api: Api
    app: Any
    channels: dict[str, Channel]

    @property
    def services(self) -> Any:
        return self.app.state.container.services

    def guard(self, allow: Callable[[str, str | None], bool]) -> None:
        class Guard:
            def allows(self, provider: str, ip: str | None) -> bool:
                return allow(provider, ip)

            def secrets(self, provider: str) -> tuple[str, ...]:
                return SECRETS

        self.services.payment_callbacks.use_guard(Guard())


def _channels(app: Any) -> dict[str, Channel]:
    yipay = FakeYipayGateway(merchant_id="1001", key=YIPAY_KEY)
    xunhu = FakeHupijiaoGateway(app_id="201906120001", app_secret=XUNHU_SECRET)
    ldc = FakeLdcGateway(
        client_id="ldc-client-42", client_secret=LDC_SECRET,
        merchant_public_key=LDC_MERCHANT.public_key(),
    )  # fmt: skip
    pem = ldc_pem()
    configs: dict[str, tuple[Any, ChannelConfig]] = {
        "yipay": (yipay, YipayConfig(base_url="http://yipay.test", merchant_id="1001",
                                     key=YIPAY_KEY)),
        "hupijiao": (xunhu, HupijiaoConfig(app_id="201906120001", app_secret=XUNHU_SECRET,
                                           base_url="http://xunhu.test")),
        "ldcpay": (ldc, LdcConfig(client_id="ldc-client-42", client_secret=LDC_SECRET,
                                  merchant_private_key=pem,
                                  base_url="http://credit.test/epay")),
    }  # fmt: skip
    channels: dict[str, Channel] = {}
    for name, (fake, config) in configs.items():
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), timeout=10)
        fake.notify_transport = httpx.ASGITransport(app=app, client=(PROVIDER_IP, 443))
        channels[name] = Channel(name, fake, config, http)
    return channels


class HostRouter(httpx.AsyncBaseTransport):
    """Our provider clients' requests, to the fake gateway of the URL's host."""

    def __init__(self, fakes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self._fakes = fakes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._fakes[request.url.host].handle_async_request(request)


def channel_settings(pem: str) -> dict[str, Any]:
    return {"channels": [
        {"provider": "yipay", "enabled": True, "yipayBaseUrl": "http://yipay.test",
         "yipayMerchantId": "1001", "yipayKey": YIPAY_KEY},
        {"provider": "hupijiao", "enabled": True, "hupijiaoBaseUrl": "http://xunhu.test",
         "hupijiaoAppId": "201906120001", "hupijiaoKey": XUNHU_SECRET},
        {"provider": "ldcpay", "enabled": True, "ldcBaseUrl": "http://credit.test/epay",
         "ldcClientId": "ldc-client-42", "ldcClientSecret": LDC_SECRET,
         "ldcMerchantPrivateKey": pem},
    ]}  # fmt: skip


def ldc_pem() -> str:
    return LDC_MERCHANT.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip


@pytest_asyncio.fixture(loop_scope="session")
async def world(backend: tuple[str, str | None]) -> AsyncIterator[World]:
    """The app with the three channels configured by a superadmin through
    ``PUT /v1/admin/settings/payment``; their clients reach the fakes."""
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url) as (api, app):
        channels = _channels(app)
        router = HostRouter({
            "yipay.test": httpx.ASGITransport(app=channels["yipay"].fake.app),
            "xunhu.test": httpx.ASGITransport(app=channels["hupijiao"].fake.app),
            "credit.test": httpx.ASGITransport(app=channels["ldcpay"].fake.app),
        })  # fmt: skip
        http = httpx.AsyncClient(transport=router, timeout=10)
        app.state.container.services.payment_channels.use_factory(ProviderFactory(http))
        admin = api.fresh()
        answer = await admin.request("PUT", "/v1/admin/settings/payment",
                                     json=channel_settings(ldc_pem()), headers=ADMIN)  # fmt: skip
        assert answer.status_code == 200, answer.text
        rates = {"defaultCurrency": "CNY", "rates": [{"code": "LDC", "rate": "1"}]}
        answer = await admin.request("PUT", "/v1/admin/settings/currency", json=rates,
                                     headers=ADMIN)  # fmt: skip
        assert answer.status_code == 200, answer.text
        try:
            yield World(api, app, channels)
        finally:
            await http.aclose()
            for channel in channels.values():
                await channel.http.aclose()


def data(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200, body
    return body["data"]


async def buyer(world: World, email: str) -> Api:
    browser = world.api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    answer = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert answer.status_code == 200, answer.text
    return browser


async def topup(browser: Api, provider: str, cents: int = 1990) -> dict[str, Any]:
    body = {"amountCents": cents, "paymentProvider": provider}
    made = data(await browser.post("/v1/billing/balance/topup", body))
    assert made["status"] == "paying" and made["payUrl"], made
    return made  # type: ignore[no-any-return]


async def balance(browser: Api, currency: str = "CNY") -> int:
    return int(data(await browser.get(f"/v1/billing/balance?currency={currency}"))["balanceCents"])


async def callbacks(world: World, order_id: str) -> list[dict[str, Any]]:
    admin = world.api.fresh()
    page = data(await admin.get(f"/v1/admin/billing/orders/{order_id}/callbacks", headers=ADMIN))
    return page["items"]  # type: ignore[no-any-return]


def currency_of(provider: str) -> str:
    return "LDC" if provider == "ldcpay" else "CNY"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_topup_paid_at_the_provider_credits_the_wallet_once(
    world: World, provider: str
) -> None:
    channel = world.channels[provider]
    browser = await buyer(world, f"topup-{provider}@example.com")
    made = await topup(browser, provider)
    deliveries = await channel.pay(made["orderId"], made["payUrl"])

    assert [d.body for d in deliveries] == [channel.ack]
    order = data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))
    assert order["status"] == "completed"
    assert await balance(browser) == 1990  # the wallet is credited in the order's currency
    [record] = await callbacks(world, made["orderId"])
    assert record["provider"] == provider and record["clientIp"] == PROVIDER_IP
    assert record["signatureOk"] and record["processed"] and record["result"] == "fulfilled"
    assert record["error"] is None and record["providerTxnId"]
    assert record["amountMinor"] == order["amountMinor"]
    assert not any(secret in str(record["params"]) for secret in SECRETS)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_buying_a_plan_moves_the_buyer_to_it(world: World, provider: str) -> None:
    channel = world.channels[provider]
    browser = await buyer(world, f"plan-{provider}@example.com")
    made = data(await browser.post("/v1/billing/orders",
                                   {"planId": "basic", "paymentProvider": provider}))  # fmt: skip
    order = data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))
    await channel.pay(made["orderId"], order["payUrl"])

    assert data(await browser.get("/v1/billing/me/plan"))["planId"] == "basic"
    subscription = data(await browser.get("/v1/billing/subscription"))
    assert subscription["planId"] == "basic" and subscription["status"] == "active"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_tampered_signature_is_refused_and_kept(world: World, provider: str) -> None:
    channel = world.channels[provider]
    browser = await buyer(world, f"tampered-{provider}@example.com")
    made = await topup(browser, provider)
    channel.fake.bad_signature = True
    channel.fake.notify_attempts = 2
    try:
        deliveries = await channel.pay(made["orderId"], made["payUrl"])
    finally:
        channel.fake.reset()

    assert len(deliveries) == 2 and all(d.body != channel.ack for d in deliveries)
    assert data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))["status"] == "paying"
    assert await balance(browser) == 0
    admin = world.api.fresh()
    page = data(await admin.get(f"/v1/admin/billing/callbacks?provider={provider}&refused=true",
                                headers=ADMIN))  # fmt: skip
    refused = [r for r in page["items"] if r["params"].get(_order_field(provider))
               == made["orderId"]]  # fmt: skip
    assert len(refused) == 2
    assert all(not r["signatureOk"] and not r["processed"] for r in refused)
    assert all(r["result"] == "refused" and "invalid callback" in r["error"] for r in refused)


def _order_field(provider: str) -> str:
    return "trade_order_id" if provider == "hupijiao" else "out_trade_no"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_wrong_amount_is_refused_and_visible_to_admins(world: World, provider: str) -> None:
    channel = world.channels[provider]
    browser = await buyer(world, f"amount-{provider}@example.com")
    made = await topup(browser, provider)
    channel.fake.notify_amount = "19.89"  # one cent short, correctly signed
    channel.fake.notify_attempts = 1
    try:
        deliveries = await channel.pay(made["orderId"], made["payUrl"])
    finally:
        channel.fake.reset()

    assert [d.body for d in deliveries] != [channel.ack]
    assert data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))["status"] == "paying"
    assert await balance(browser) == 0
    [record] = await callbacks(world, made["orderId"])
    assert record["signatureOk"] and not record["processed"] and record["result"] == "refused"
    assert record["amountMinor"] == 1989 and "differs" in record["error"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_replayed_notify_is_acknowledged_and_counted_once(
    world: World, provider: str
) -> None:
    channel = world.channels[provider]
    browser = await buyer(world, f"replay-{provider}@example.com")
    made = await topup(browser, provider)
    channel.fake.duplicate_notifies = 2
    try:
        deliveries = await channel.pay(made["orderId"], made["payUrl"])
    finally:
        channel.fake.reset()
    [first] = deliveries[:1]
    replayed = await _send(world, provider, first)

    assert [d.body for d in deliveries] == [channel.ack] * 3 and replayed == channel.ack
    assert await balance(browser) == 1990
    results = sorted(r["result"] for r in await callbacks(world, made["orderId"]))
    assert results == ["duplicate", "duplicate", "duplicate", "fulfilled"]


async def _send(world: World, provider: str, delivery: Delivery) -> str:
    transport = httpx.ASGITransport(app=world.app, client=(PROVIDER_IP, 443))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        path = f"/v1/billing/callback/{provider}"
        if delivery.method == "GET":
            answer = await client.get(path, params=delivery.params)
        else:
            answer = await client.post(path, data=delivery.params)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_a_callback_for_an_unknown_order_is_refused_and_kept(world: World) -> None:
    fake: Any = world.channels["yipay"].fake
    fake.orders["0123456789abcdef0123456789abcdef"] = EpayOrder(
        out_trade_no="0123456789abcdef0123456789abcdef", trade_no="2026120299", type="alipay",
        name="nothing we sold", money="5.00",
        notify_url="http://localhost:8080/v1/billing/callback/yipay", return_url="",
    )  # fmt: skip
    fake.notify_attempts = 1
    try:
        [delivery] = await fake.pay("0123456789abcdef0123456789abcdef")
    finally:
        fake.reset()

    assert delivery.body == "fail"
    [record] = await callbacks(world, "0123456789abcdef0123456789abcdef")
    assert record["signatureOk"] and record["result"] == "refused"
    assert record["error"] == "unknown order"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_paid_callback_for_an_expired_order_is_honoured_and_audited(
    world: World, provider: str
) -> None:
    channel = world.channels[provider]
    browser = await buyer(world, f"late-{provider}@example.com")
    made = await topup(browser, provider)
    uow = world.app.state.container.adapters.uow
    async with uow() as work:
        order = await work.orders.get_for_update(made["orderId"])
        past = order.created_at - timedelta(hours=1)
        await work.orders.update(replace(order, expires_at=past))
        await work.commit()
    assert await world.services.orders.expire_overdue() >= 1
    assert data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))["status"] == "expired"

    deliveries = await channel.pay(made["orderId"], made["payUrl"])

    assert [d.body for d in deliveries] == [channel.ack]
    assert data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))["status"] == "completed"
    assert await balance(browser) == 1990
    [record] = await callbacks(world, made["orderId"])
    assert record["result"] == "fulfilled" and record["late"] is True
    admin = world.api.fresh()
    audit = data(await admin.get("/v1/admin/audit?action=billing.late_payment_honoured",
                                 headers=ADMIN))  # fmt: skip
    assert any(e["details"].get("order_id") == made["orderId"] for e in audit["items"]), audit


async def test_the_allow_list_refuses_other_sources_and_keeps_them(world: World) -> None:
    channel = world.channels["hupijiao"]
    allowed = {"hupijiao": channel.config}
    world.guard(lambda p, ip: p not in allowed or allowed[p].allows(ip))
    browser = await buyer(world, "allow-list@example.com")
    made = await topup(browser, "hupijiao")
    try:
        world.channels["hupijiao"].config = replace_networks(channel.config, ("10.0.0.0/8",))
        allowed["hupijiao"] = world.channels["hupijiao"].config
        channel.fake.notify_attempts = 1
        [refused] = await channel.pay(made["orderId"], made["payUrl"])
        allowed["hupijiao"] = replace_networks(channel.config, ("198.51.100.0/24",))
        [accepted] = await channel.pay(made["orderId"], made["payUrl"])
    finally:
        channel.fake.reset()
        world.guard(lambda p, ip: True)

    assert refused.body != "success" and accepted.body == "success"
    records = await callbacks(world, made["orderId"]) + [
        r for r in data(await world.api.fresh().get(
            "/v1/admin/billing/callbacks?provider=hupijiao&refused=true", headers=ADMIN))["items"]
        if r["params"].get("trade_order_id") == made["orderId"]
    ]  # fmt: skip
    assert any("allow list" in (r["error"] or "") for r in records)
    assert await balance(browser) == 1990


def replace_networks(config: ChannelConfig, networks: tuple[str, ...]) -> ChannelConfig:
    return replace(config, callback_networks=networks)


async def test_a_query_carrying_a_secret_is_stored_redacted(world: World) -> None:
    params = {
        "out_trade_no": "feedfacefeedfacefeedfacefeedface",
        "money": "1.00",
        "key": YIPAY_KEY,
        "note": f"x{YIPAY_KEY}y",
        "trade_status": "TRADE_SUCCESS",
    }
    params["sign"] = epay_sign(params, "guess")
    world.guard(lambda p, ip: True)
    delivery = Delivery("GET", "", params, 0, "")
    assert await _send(world, "yipay", delivery) == "fail"
    page = data(await world.api.fresh().get(
        "/v1/admin/billing/callbacks?provider=yipay&refused=true", headers=ADMIN))  # fmt: skip
    [record] = [
        r
        for r in page["items"]
        if r["params"].get("out_trade_no") == "feedfacefeedfacefeedfacefeedface"
    ]
    assert not record["signatureOk"] and record["orderId"] is None
    assert record["params"]["key"] == "****" and record["params"]["note"] == "****"
    assert YIPAY_KEY not in str(record)


async def test_reconciliation_fulfils_a_paid_order_whose_notify_was_lost(world: World) -> None:
    channel = world.channels["ldcpay"]
    browser = await buyer(world, "reconcile@example.com")
    made = await topup(browser, "ldcpay")
    channel.fake.notify_attempts = 1
    channel.fake.notify_transport = httpx.MockTransport(lambda r: httpx.Response(502))
    try:
        await channel.pay(made["orderId"], made["payUrl"])  # the notify never arrives
    finally:
        channel.fake.reset()
        channel.fake.notify_transport = httpx.ASGITransport(app=world.app,
                                                            client=(PROVIDER_IP, 443))  # fmt: skip
    assert await balance(browser) == 0
    admin = world.api.fresh()
    path = f"/v1/admin/billing/orders/{made['orderId']}/reconcile"
    assert (await browser.post(path)).status_code == 403
    first = data(await admin.post(path, headers=ADMIN))
    again = data(await admin.post(path, headers=ADMIN))

    assert first["status"] == again["status"] == "completed"
    assert await balance(browser) == 1990
    results = sorted(r["result"] for r in await callbacks(world, made["orderId"]))
    assert results == ["duplicate", "fulfilled"]


async def test_the_scheduled_reconciliation_fulfils_a_lost_notify_once(world: World) -> None:
    """Worker (issue 17): the ``payment_reconciliation`` job's operation over a real
    provider client and its fake gateway: the paid order whose notify was lost is
    fulfilled once; the provider's late notify is then a duplicate."""
    channel = world.channels["yipay"]
    browser = await buyer(world, "scheduled-reconcile@example.com")
    made = await topup(browser, "yipay")
    channel.fake.notify_attempts = 1
    channel.fake.notify_transport = httpx.MockTransport(lambda r: httpx.Response(502))
    try:
        [lost] = await channel.pay(made["orderId"], made["payUrl"])
    finally:
        channel.fake.reset()
        channel.fake.notify_transport = httpx.ASGITransport(app=world.app,
                                                            client=(PROVIDER_IP, 443))  # fmt: skip
    callbacks_service = world.services.payment_callbacks
    fresh = await callbacks_service.reconcile_paying()  # made seconds ago: not asked yet
    assert await callbacks(world, made["orderId"]) == []
    assert fresh.fulfilled == 0 and await balance(browser) == 0

    sweep = await callbacks_service.reconcile_paying(older_than=timedelta(0))
    again = await callbacks_service.reconcile_paying(older_than=timedelta(0))
    assert sweep.fulfilled == 1 and sweep.errors == 0 and again.fulfilled == 0
    assert await balance(browser) == 1990
    order = data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))
    assert order["status"] == "completed"
    assert await _send(world, "yipay", lost) == "success"  # the late notify: acknowledged
    assert await balance(browser) == 1990
    results = sorted(r["result"] for r in await callbacks(world, made["orderId"]))
    assert results == ["duplicate", "fulfilled"]


@pytest.mark.parametrize("backend", ["postgres+redis"], indirect=True)
async def test_fifty_simultaneous_copies_fulfil_once_and_all_get_the_ack(world: World) -> None:
    channel = world.channels["yipay"]
    browser = await buyer(world, "fifty@example.com")
    made = await topup(browser, "yipay")
    channel.fake.notify_transport = httpx.MockTransport(
        lambda r: httpx.Response(200, text="success")
    )
    try:
        [delivery] = await channel.pay(made["orderId"], made["payUrl"])  # captured, not sent
    finally:
        channel.fake.notify_transport = httpx.ASGITransport(app=world.app,
                                                            client=(PROVIDER_IP, 443))  # fmt: skip
    sends: list[Awaitable[str]] = [_send(world, "yipay", delivery) for _ in range(50)]
    answers = await asyncio.gather(*sends)

    assert answers == ["success"] * 50
    assert await balance(browser) == 1990
    ledger = data(await browser.get("/v1/billing/balance/transactions"))
    assert ledger["total"] == 1
    records = await callbacks(world, made["orderId"])
    assert len(records) == 50
    assert sorted({r["result"] for r in records}) == ["duplicate", "fulfilled"]
    assert sum(r["result"] == "fulfilled" for r in records) == 1
    order = data(await browser.get(f"/v1/billing/orders/{made['orderId']}"))
    assert order["status"] == OrderStatus.COMPLETED.value
