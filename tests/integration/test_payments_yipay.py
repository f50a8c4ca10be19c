"""Our yipay client end to end against the fake epay deployment (in process, over
``httpx.ASGITransport``): the buyer opens the pay URL, the fake pays and notifies our
stand-in callback route, which verifies and acknowledges; order queries; misbehaviour."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from domain.billing.errors import PaymentProviderFailed
from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, PaymentRequest
from integrations.payments import YipayConfig, YipayCreation, YipayProvider
from tests.fakes.payments.receiver import NotifyReceiver, Verifications, verifying
from tests.fakes.payments.yipay_gateway import FakeYipayGateway

GATEWAY = "http://yipay.test"
KARPOV = "http://karpov.test"
PID = "1001"
KEY = "yipay-secret-key-7c1d2e"


@dataclass
class Setup:
    fake: FakeYipayGateway
    receiver: NotifyReceiver
    seen: Verifications
    http: httpx.AsyncClient

    def provider(self, **config: Any) -> YipayProvider:
        settings: dict[str, Any] = {"base_url": GATEWAY, "merchant_id": PID, "key": KEY}
        return YipayProvider(YipayConfig(**{**settings, **config}), http=self.http)


def order(order_id: str = "ord_1", minor: int = 1389) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money(minor, "CNY"),
        subject="Music Gateway - Pro",
        notify_url=f"{KARPOV}/v1/billing/callback/yipay",
        return_url=f"{KARPOV}/billing/done",
        client_ip="198.51.100.20",
    )


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    fake = FakeYipayGateway(merchant_id=PID, key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        receiver = NotifyReceiver()
        verifier = YipayProvider(YipayConfig(base_url=GATEWAY, merchant_id=PID, key=KEY), http=http)
        handler, seen = verifying(verifier)
        receiver.handler = handler
        fake.notify_transport = httpx.ASGITransport(app=receiver.app)
        yield Setup(fake, receiver, seen, http)


# -- page jump ---------------------------------------------------------------------------


async def test_a_page_jump_order_is_paid_and_the_notify_verifies(setup: Setup) -> None:
    provider = setup.provider()

    created = await provider.create_payment(order())
    cashier = await setup.http.get(created.pay_url)  # the buyer's browser opens it
    deliveries = await setup.fake.pay("ord_1")

    assert cashier.status_code == 200 and "收银台" in cashier.text
    assert setup.fake.rejections == []
    [delivery] = deliveries
    assert delivery.method == "GET" and delivery.body == "success"
    [notify] = setup.receiver.received
    assert notify.path == "/v1/billing/callback/yipay"
    [verdict] = setup.seen.verdicts
    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == setup.fake.orders["ord_1"].trade_no
    assert verdict.amount == Money(1389, "CNY")
    assert verdict.outcome is CallbackOutcome.PAID


async def test_the_pay_url_carries_the_signed_fields_and_no_key(setup: Setup) -> None:
    created = await setup.provider().create_payment(order())

    parts = urlsplit(created.pay_url)
    fields = dict(parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{GATEWAY}/submit.php"
    assert fields["type"] == "alipay"
    assert fields["money"] == "13.89"
    assert fields["out_trade_no"] == "ord_1"
    assert KEY not in created.pay_url


async def test_the_post_form_is_accepted_as_the_get_url_is(setup: Setup) -> None:
    form = setup.provider().submit_form(order())

    page = await setup.http.post(form.action, data=form.fields)

    assert page.status_code == 200
    assert "ord_1" in setup.fake.orders
    assert setup.fake.requests[-1].method == "POST"


async def test_the_orders_method_chooses_the_epay_type(setup: Setup) -> None:
    wx = replace(order(), method="wxpay")

    created = await setup.provider(payment_type="qqpay").create_payment(wx)
    await setup.http.get(created.pay_url)

    assert setup.fake.orders["ord_1"].type == "wxpay"


async def test_a_wrong_key_is_refused_by_the_provider(setup: Setup) -> None:
    created = await setup.provider(key="not-the-key").create_payment(order())

    await setup.http.get(created.pay_url)

    assert setup.fake.rejections == ["signature"]
    assert setup.fake.orders == {}


# -- mapi.php ----------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["payurl", "qrcode", "urlscheme"])
async def test_server_side_creation_answers_what_the_provider_returned(
    setup: Setup, answer: str
) -> None:
    setup.fake.mapi_answer = answer

    created = await setup.provider(creation=YipayCreation.API).create_payment(order())

    fake_order = setup.fake.orders["ord_1"]
    sent = setup.fake.requests[-1].params
    assert sent["clientip"] == "198.51.100.20" and sent["device"] == "pc"
    assert created.provider_order_id == fake_order.trade_no
    assert fake_order.trade_no in created.pay_url
    assert (created.qr_payload is not None) == (answer == "qrcode")


async def test_server_side_creation_needs_the_buyers_address(setup: Setup) -> None:
    no_ip = replace(order(), client_ip=None)

    with pytest.raises(ValueError, match="client_ip"):
        await setup.provider(creation=YipayCreation.API).create_payment(no_ip)


async def test_a_refused_server_side_order_is_a_provider_failure(setup: Setup) -> None:
    with pytest.raises(PaymentProviderFailed):
        await setup.provider(creation=YipayCreation.API, key="wrong").create_payment(order())

    assert setup.fake.rejections == ["signature"]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_an_outage_is_a_provider_failure(setup: Setup, status: int) -> None:
    setup.fake.answer_status = status

    with pytest.raises(PaymentProviderFailed):
        await setup.provider(creation=YipayCreation.API).create_payment(order())
    with pytest.raises(PaymentProviderFailed):
        await setup.provider().query_order("ord_1")


async def test_a_slow_provider_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.delay = 10
    provider = YipayProvider(
        YipayConfig(base_url=GATEWAY, merchant_id=PID, key=KEY, creation=YipayCreation.API),
        http=setup.http,
        timeout=0.2,
    )

    with pytest.raises(PaymentProviderFailed):
        await provider.create_payment(order())
    with pytest.raises(PaymentProviderFailed):
        await provider.query_order("ord_1")


# -- notify misbehaviour -----------------------------------------------------------------


async def test_a_badly_signed_notify_is_refused_and_retried_by_the_provider(setup: Setup) -> None:
    await setup.http.get((await setup.provider().create_payment(order())).pay_url)
    setup.fake.bad_signature = True

    deliveries = await setup.fake.pay("ord_1")

    assert [d.body for d in deliveries] == ["fail"] * 5  # the provider's five tries
    assert setup.seen.verdicts == []
    assert all("signature" in r.reason for r in setup.seen.refusals)


@pytest.mark.parametrize(("amount", "accepted"), [("0.01", True), ("13.891", False)])
async def test_a_notify_with_another_amount_reports_that_amount_or_is_refused(
    setup: Setup, amount: str, accepted: bool
) -> None:
    await setup.http.get((await setup.provider().create_payment(order())).pay_url)
    setup.fake.notify_amount = amount

    await setup.fake.pay("ord_1")

    if accepted:
        # Comparing it with the order's amount is billing's job: report it exactly.
        assert setup.seen.verdicts[0].amount == Money(1, "CNY")
    else:
        assert setup.seen.verdicts == []
        assert "money" in setup.seen.refusals[0].reason


async def test_duplicate_notifies_each_verify_the_same(setup: Setup) -> None:
    await setup.http.get((await setup.provider().create_payment(order())).pay_url)
    setup.fake.duplicate_notifies = 3

    deliveries = await setup.fake.pay("ord_1")

    assert [d.body for d in deliveries] == ["success"] * 4
    assert len({(v.order_id, v.provider_txn_id, v.amount) for v in setup.seen.verdicts}) == 1
    assert len(setup.seen.verdicts) == 4


# -- queries -----------------------------------------------------------------------------


async def test_a_query_tells_pending_from_paid(setup: Setup) -> None:
    provider = setup.provider()
    await setup.http.get((await provider.create_payment(order())).pay_url)

    pending = await provider.query_order("ord_1")
    await setup.fake.pay("ord_1")
    paid = await provider.query_order("ord_1")

    assert pending.outcome is CallbackOutcome.PENDING
    assert paid.outcome is CallbackOutcome.PAID
    assert paid.provider_txn_id == setup.fake.orders["ord_1"].trade_no
    assert paid.amount == Money(1389, "CNY")
    sent = setup.fake.requests[-1].params
    assert sent == {"act": "order", "pid": PID, "key": KEY, "out_trade_no": "ord_1"}


async def test_a_closed_order_is_not_paid(setup: Setup) -> None:
    provider = setup.provider()
    await setup.http.get((await provider.create_payment(order())).pay_url)
    setup.fake.fail("ord_1")

    assert (await provider.query_order("ord_1")).outcome is CallbackOutcome.PENDING
    assert setup.receiver.received == []  # epay sends no notify for a closed order


@pytest.mark.parametrize("key", [KEY, "wrong-key"])
async def test_an_unknown_order_or_a_wrong_key_is_a_provider_failure(
    setup: Setup, key: str
) -> None:
    with pytest.raises(PaymentProviderFailed):
        await setup.provider(key=key).query_order("ord_missing")


# -- secrets -----------------------------------------------------------------------------


async def test_no_secret_reaches_a_log_line_or_an_error(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    provider = setup.provider(creation=YipayCreation.API)
    errors: list[Exception] = []

    await provider.create_payment(order())
    await setup.fake.pay("ord_1")
    await provider.query_order("ord_1")
    setup.fake.answer_status = 500
    for call in (provider.query_order("ord_1"), provider.create_payment(order("ord_2"))):
        try:
            await call
        except PaymentProviderFailed as exc:
            errors.append(exc)
    setup.fake.answer_status = None
    try:
        await setup.provider(key="another-secret-k").query_order("ord_1")
    except PaymentProviderFailed as exc:
        errors.append(exc)

    assert len(errors) == 3
    assert any(r.name == "httpx" and "api.php" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = f"{record.getMessage()} {vars(record)!r}"
        assert KEY not in text
        assert "another-secret-k" not in text
    for error in errors:
        assert KEY not in f"{error} {error!r} {error.args!r}"
