"""Our hupijiao client end to end against the fake XunhuPay API (in process): a server-side
order answers the cashier and QR image, the fake pays (or cancels) and POSTs the notify to
our stand-in callback route; order queries; misbehaviour; secrets kept out of logs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from domain.billing.errors import PaymentProviderFailed
from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, PaymentRequest
from domain.clock import ManualClock
from integrations.payments import HupijiaoConfig, HupijiaoProvider
from tests.fakes.payments.hupijiao_gateway import FakeHupijiaoGateway
from tests.fakes.payments.receiver import NotifyReceiver, Verifications, verifying

GATEWAY = "http://xunhupay.test"
KARPOV = "http://karpov.test"
APP_ID = "201906180967"
SECRET = "xh-appsecret-5b6c7d8e"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Setup:
    fake: FakeHupijiaoGateway
    receiver: NotifyReceiver
    seen: Verifications
    http: httpx.AsyncClient

    def provider(self, timeout: float = 5.0, **config: Any) -> HupijiaoProvider:
        settings: dict[str, Any] = {"base_url": GATEWAY, "app_id": APP_ID, "app_secret": SECRET}
        return HupijiaoProvider(
            HupijiaoConfig(**{**settings, **config}),
            http=self.http,
            clock=ManualClock(NOW),
            timeout=timeout,
        )


def order(order_id: str = "ord_1", minor: int = 1880) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money(minor, "CNY"),
        subject="Music Gateway - Pro",
        notify_url=f"{KARPOV}/v1/billing/callback/hupijiao",
        return_url=f"{KARPOV}/billing/done",
    )


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    fake = FakeHupijiaoGateway(app_id=APP_ID, app_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        receiver = NotifyReceiver()
        handler, seen = verifying(
            HupijiaoProvider(HupijiaoConfig(app_id=APP_ID, app_secret=SECRET), http=http)
        )
        receiver.handler = handler
        fake.notify_transport = httpx.ASGITransport(app=receiver.app)
        yield Setup(fake, receiver, seen, http)


async def test_an_order_is_created_paid_and_the_notify_verifies(setup: Setup) -> None:
    created = await setup.provider().create_payment(order())
    deliveries = await setup.fake.pay("ord_1")

    fake_order = setup.fake.orders["ord_1"]
    assert created.pay_url == f"{GATEWAY}/payment/cashier.html?id={fake_order.open_order_id}"
    assert created.qr_image_url is not None and "qrcode" in created.qr_image_url
    assert created.qr_payload is None
    assert created.provider_order_id == fake_order.open_order_id
    [delivery] = deliveries
    assert delivery.method == "POST" and delivery.body == "success"
    [notify] = setup.receiver.received
    assert notify.method == "POST" and notify.path == "/v1/billing/callback/hupijiao"
    [verdict] = setup.seen.verdicts
    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == fake_order.transaction_id
    assert verdict.amount == Money(1880, "CNY")
    assert verdict.outcome is CallbackOutcome.PAID


async def test_the_request_is_the_sdks_json_with_time_and_nonce(setup: Setup) -> None:
    await setup.provider(
        wap_name="Karpov", payment_type="WAP", wap_url="karpov.test"
    ).create_payment(order())

    [request] = setup.fake.requests
    assert request.headers["content-type"].startswith("application/json")
    sent = request.params
    assert sent["version"] == "1.1"
    assert sent["time"] == str(int(NOW.timestamp()))
    assert len(sent["nonce_str"]) == 32
    assert sent["total_fee"] == "18.80"
    assert sent["callback_url"] == f"{KARPOV}/billing/done"
    assert (sent["type"], sent["wap_url"], sent["wap_name"]) == ("WAP", "karpov.test", "Karpov")
    assert SECRET not in json.dumps(sent)


async def test_a_cancelled_order_notifies_a_failure(setup: Setup) -> None:
    await setup.provider().create_payment(order())

    await setup.fake.fail("ord_1")

    [verdict] = setup.seen.verdicts
    assert verdict.outcome is CallbackOutcome.FAILED
    assert verdict.order_id == "ord_1"


async def test_a_wrong_secret_is_refused_by_the_provider(setup: Setup) -> None:
    with pytest.raises(PaymentProviderFailed):
        await setup.provider(app_secret="not-the-secret").create_payment(order())

    assert setup.fake.rejections == ["hash"]


async def test_an_answer_whose_hash_does_not_verify_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.bad_answer_hash = True

    with pytest.raises(PaymentProviderFailed):
        await setup.provider().create_payment(order())


async def test_a_refusal_with_an_error_code_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.errcode = 40021

    with pytest.raises(PaymentProviderFailed):
        await setup.provider().create_payment(order())


@pytest.mark.parametrize("status", [500, 503])
async def test_an_outage_is_a_provider_failure(setup: Setup, status: int) -> None:
    setup.fake.answer_status = status

    with pytest.raises(PaymentProviderFailed):
        await setup.provider().create_payment(order())
    with pytest.raises(PaymentProviderFailed):
        await setup.provider().query_order("ord_1")


async def test_a_slow_provider_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.delay = 10

    with pytest.raises(PaymentProviderFailed):
        await setup.provider(timeout=0.2).create_payment(order())


async def test_a_badly_signed_notify_is_refused_and_retried(setup: Setup) -> None:
    await setup.provider().create_payment(order())
    setup.fake.bad_signature = True

    deliveries = await setup.fake.pay("ord_1")

    assert [d.body for d in deliveries] == ["fail"] * 5
    assert setup.seen.verdicts == []


async def test_a_notify_amount_with_too_many_decimals_is_refused(setup: Setup) -> None:
    await setup.provider().create_payment(order())
    setup.fake.notify_amount = "18.800"

    await setup.fake.pay("ord_1")

    assert setup.seen.verdicts == []
    assert "total_fee" in setup.seen.refusals[0].reason


async def test_a_notify_with_another_amount_reports_it_exactly(setup: Setup) -> None:
    await setup.provider().create_payment(order())
    setup.fake.notify_amount = "0.1"

    await setup.fake.pay("ord_1")

    assert setup.seen.verdicts[0].amount == Money(10, "CNY")


async def test_duplicate_notifies_each_verify_the_same(setup: Setup) -> None:
    await setup.provider().create_payment(order())
    setup.fake.duplicate_notifies = 2

    await setup.fake.pay("ord_1")

    assert len(setup.seen.verdicts) == 3
    assert len({(v.order_id, v.provider_txn_id) for v in setup.seen.verdicts}) == 1


async def test_a_query_tells_pending_paid_and_cancelled(setup: Setup) -> None:
    provider = setup.provider()
    await provider.create_payment(order("ord_1"))
    await provider.create_payment(order("ord_2"))

    pending = await provider.query_order("ord_1")
    await setup.fake.pay("ord_1")
    await setup.fake.fail("ord_2")
    paid = await provider.query_order("ord_1")
    cancelled = await provider.query_order("ord_2")

    assert pending.outcome is CallbackOutcome.PENDING
    assert pending.amount == Money(1880, "CNY")
    assert paid.outcome is CallbackOutcome.PAID
    assert paid.provider_txn_id == setup.fake.orders["ord_1"].transaction_id
    assert paid.amount == Money(1880, "CNY")
    assert cancelled.outcome is CallbackOutcome.FAILED
    assert setup.fake.requests[-1].params["out_trade_order"] == "ord_2"


async def test_a_query_for_an_unknown_order_is_a_provider_failure(setup: Setup) -> None:
    with pytest.raises(PaymentProviderFailed):
        await setup.provider().query_order("ord_missing")


async def test_no_secret_reaches_a_log_line_or_an_error(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = setup.provider()
    await provider.create_payment(order())
    await setup.fake.pay("ord_1")
    await provider.query_order("ord_1")
    errors: list[Exception] = []
    for misbehave in ("bad_answer_hash", "errcode"):
        setattr(setup.fake, misbehave, True if misbehave == "bad_answer_hash" else 40021)
        try:
            await provider.create_payment(order(f"ord_{misbehave}"))
        except PaymentProviderFailed as exc:
            errors.append(exc)
        setup.fake.reset()

    assert len(errors) == 2
    assert caplog.records
    for record in caplog.records:
        assert SECRET not in f"{record.getMessage()} {vars(record)!r}"
    for error in errors:
        assert SECRET not in f"{error} {error!r}"
