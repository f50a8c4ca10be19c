"""Each provider over real sockets: the fake gateway and the stand-in callback route each on
loopback, our client on a plain ``httpx.AsyncClient``. The buyer pays through the fake's
HTTP pay action, the fake's notify crosses the network to the receiver, which verifies it
with our provider and answers its acknowledgement; then the order query."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, PaymentRequest
from integrations.payments import (
    CallbackNetworks,
    HupijiaoConfig,
    HupijiaoProvider,
    LdcConfig,
    LdcProvider,
    YipayConfig,
    YipayProvider,
)
from tests.fakes.payments.hupijiao_gateway import FakeHupijiaoGateway
from tests.fakes.payments.ldc_gateway import FakeLdcGateway
from tests.fakes.payments.loopback import LoopbackServer
from tests.fakes.payments.receiver import NotifyReceiver, verifying
from tests.fakes.payments.yipay_gateway import FakeYipayGateway


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def order(receiver: LoopbackServer, name: str, currency: str = "CNY") -> PaymentRequest:
    return PaymentRequest(
        order_id="ord_loop_1",
        amount=Money(990, currency),
        subject="Music Gateway - Basic",
        notify_url=f"{receiver.base_url}/v1/billing/callback/{name}",
        return_url=f"{receiver.base_url}/billing/done",
    )


async def test_yipay_over_loopback(http: httpx.AsyncClient) -> None:
    fake = FakeYipayGateway(merchant_id="1001", key="loop-yipay-key")
    receiver = NotifyReceiver()
    async with LoopbackServer(fake.app) as gateway, LoopbackServer(receiver.app) as karpov:
        config = YipayConfig(
            base_url=gateway.base_url,
            merchant_id="1001",
            key="loop-yipay-key",
            callback_networks=("127.0.0.0/8",),
        )
        provider = YipayProvider(config, http=http)
        receiver.handler, seen = verifying(provider)

        created = await provider.create_payment(order(karpov, "yipay"))
        assert (await http.get(created.pay_url)).status_code == 200  # the buyer's browser
        paid = await http.post(
            f"{gateway.base_url}/_fake/pay", params={"out_trade_no": "ord_loop_1"}
        )
        status = await provider.query_order("ord_loop_1")

    assert paid.json() == {"deliveries": 1}
    [notify] = receiver.received
    assert notify.method == "GET"
    assert config.allows(notify.client_ip)
    assert not CallbackNetworks.parse(["10.0.0.0/8"]).allows(notify.client_ip)
    [verdict] = seen.verdicts
    assert (verdict.order_id, verdict.amount, verdict.outcome) == (
        "ord_loop_1",
        Money(990, "CNY"),
        CallbackOutcome.PAID,
    )
    assert verdict.provider_txn_id == fake.orders["ord_loop_1"].trade_no
    assert status.outcome is CallbackOutcome.PAID
    assert fake.deliveries[0].body == "success"


async def test_hupijiao_over_loopback(http: httpx.AsyncClient) -> None:
    fake = FakeHupijiaoGateway(app_id="2019", app_secret="loop-xh-secret")
    receiver = NotifyReceiver()
    async with LoopbackServer(fake.app) as gateway, LoopbackServer(receiver.app) as karpov:
        gateway_url = gateway.base_url
        provider = HupijiaoProvider(
            HupijiaoConfig(base_url=gateway.base_url, app_id="2019", app_secret="loop-xh-secret"),
            http=http,
        )
        receiver.handler, seen = verifying(provider)

        created = await provider.create_payment(order(karpov, "hupijiao"))
        await http.post(f"{gateway.base_url}/_fake/pay", params={"trade_order_id": "ord_loop_1"})
        status = await provider.query_order("ord_loop_1")

    assert created.pay_url.startswith(gateway_url)
    [notify] = receiver.received
    assert notify.method == "POST"
    [verdict] = seen.verdicts
    assert verdict.outcome is CallbackOutcome.PAID
    assert verdict.amount == Money(990, "CNY")
    assert verdict.provider_txn_id == fake.orders["ord_loop_1"].transaction_id
    assert status.outcome is CallbackOutcome.PAID
    assert fake.deliveries[0].body == "success"


async def test_ldcpay_over_loopback(http: httpx.AsyncClient) -> None:
    merchant = Ed25519PrivateKey.generate()
    pem = merchant.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    fake = FakeLdcGateway(
        client_id="ldc-1",
        client_secret="loop-ldc-secret",
        merchant_public_key=merchant.public_key(),
    )
    receiver = NotifyReceiver()
    async with LoopbackServer(fake.app) as gateway, LoopbackServer(receiver.app) as karpov:
        gateway_url = gateway.base_url
        provider = LdcProvider(
            LdcConfig(
                base_url=f"{gateway.base_url}/epay",
                client_id="ldc-1",
                client_secret="loop-ldc-secret",
                merchant_private_key=pem,
            ),
            http=http,
        )
        receiver.handler, seen = verifying(provider)

        created = await provider.create_payment(order(karpov, "ldcpay", "LDC"))
        await http.post(f"{gateway.base_url}/_fake/pay", params={"out_trade_no": "ord_loop_1"})
        status = await provider.query_order("ord_loop_1")

    # The 302 was not followed: its Location is the pay URL.
    assert created.pay_url.startswith(f"{gateway_url}/paying?order_no=")
    assert [r.path for r in fake.requests][:1] == ["/epay/pay/submit.php"]
    [verdict] = seen.verdicts
    assert verdict.outcome is CallbackOutcome.PAID
    assert verdict.amount == Money(990, "LDC")
    assert status.outcome is CallbackOutcome.PAID
    assert status.amount == Money(990, "LDC")
    assert base64.b64decode(fake.requests[0].params["sign"])  # the Ed25519 signature went out
