"""Our Linux Credit client end to end against the fake LDC merchant API (in process): an
Ed25519-signed form POST answered by a 302 whose Location is the pay URL, with the merchant
key in every accepted encoding; the GET notify signed with MD5 (or Ed25519 with the
platform key in every encoding); order queries; misbehaviour; secrets kept out of logs."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.billing.errors import PaymentProviderFailed
from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, PaymentRequest
from integrations.payments import LdcConfig, LdcProvider
from tests.fakes.payments.ldc_gateway import FakeLdcGateway
from tests.fakes.payments.receiver import NotifyReceiver, Verifications, verifying

GATEWAY = "http://credit.test/epay"
KARPOV = "http://karpov.test"
CLIENT_ID = "ldc-client-0042"
CLIENT_SECRET = "ldc-secret-9a8b7c6d"
MERCHANT = Ed25519PrivateKey.generate()
PLATFORM = Ed25519PrivateKey.generate()


def seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def pkcs8(key: Ed25519PrivateKey, encoding: serialization.Encoding) -> bytes:
    return key.private_bytes(
        encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def spki(key: Ed25519PrivateKey, encoding: serialization.Encoding) -> bytes:
    return key.public_key().public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def wrapped(text: str) -> str:
    """Broken across lines, as pasted from a PEM body."""
    return "\n".join(text[i : i + 20] for i in range(0, len(text), 20))


PRIVATE_FORMATS: dict[str, Callable[[Ed25519PrivateKey], str]] = {
    "PEM PKCS#8": lambda k: pkcs8(k, serialization.Encoding.PEM).decode(),
    "bare DER PKCS#8": lambda k: b64(pkcs8(k, serialization.Encoding.DER)),
    "base64 seed": lambda k: b64(seed(k)),
    "unpadded base64 seed": lambda k: b64(seed(k)).rstrip("="),
    "url-safe base64 seed": lambda k: base64.urlsafe_b64encode(seed(k)).decode(),
    "unpadded url-safe seed": lambda k: base64.urlsafe_b64encode(seed(k)).decode().rstrip("="),
    "base64 64-byte key": lambda k: b64(seed(k) + raw_public(k)),
    "wrapped bare DER": lambda k: wrapped(b64(pkcs8(k, serialization.Encoding.DER))),
}
PUBLIC_FORMATS: dict[str, Callable[[Ed25519PrivateKey], str]] = {
    "PEM SPKI": lambda k: spki(k, serialization.Encoding.PEM).decode(),
    "bare DER SPKI": lambda k: b64(spki(k, serialization.Encoding.DER)),
    "base64 32 bytes": lambda k: b64(raw_public(k)),
    "unpadded url-safe 32 bytes": lambda k: (
        base64.urlsafe_b64encode(raw_public(k)).decode().rstrip("=")
    ),
}


@dataclass
class Setup:
    fake: FakeLdcGateway
    receiver: NotifyReceiver
    seen: Verifications
    http: httpx.AsyncClient

    def provider(self, timeout: float = 5.0, **config: Any) -> LdcProvider:
        settings: dict[str, Any] = {
            "base_url": GATEWAY,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "merchant_private_key": PRIVATE_FORMATS["PEM PKCS#8"](MERCHANT),
            "platform_public_key": PUBLIC_FORMATS["base64 32 bytes"](PLATFORM),
        }
        return LdcProvider(LdcConfig(**{**settings, **config}), http=self.http, timeout=timeout)

    def verify_with(self, provider: LdcProvider) -> None:
        handler, self.seen = verifying(provider)
        self.receiver.handler = handler


def order(order_id: str = "ord_1", minor: int = 1000) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money(minor, "LDC"),
        subject="Music Gateway - Pro",
        notify_url=f"{KARPOV}/v1/billing/callback/ldcpay",
        return_url=f"{KARPOV}/billing/done",
    )


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    fake = FakeLdcGateway(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, merchant_public_key=MERCHANT.public_key()
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        receiver = NotifyReceiver()
        fake.notify_transport = httpx.ASGITransport(app=receiver.app)
        ready = Setup(fake, receiver, Verifications(), http)
        ready.verify_with(ready.provider())
        yield ready


@pytest.mark.parametrize("key_format", sorted(PRIVATE_FORMATS))
async def test_an_order_signed_with_every_key_format_is_accepted_and_paid(
    setup: Setup, key_format: str
) -> None:
    provider = setup.provider(merchant_private_key=PRIVATE_FORMATS[key_format](MERCHANT))

    created = await provider.create_payment(order())
    deliveries = await setup.fake.pay("ord_1")

    fake_order = setup.fake.orders["ord_1"]
    assert setup.fake.rejections == []
    assert created.pay_url == f"http://credit.test/paying?order_no=enc{fake_order.trade_no}"
    [delivery] = deliveries
    assert delivery.method == "GET" and delivery.body == "success"
    [notify] = setup.receiver.received
    assert notify.headers["user-agent"] == "LinuxDo-Credit/1.0"
    assert "sign_type" not in notify.params
    [verdict] = setup.seen.verdicts
    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == fake_order.trade_no
    assert verdict.amount == Money(1000, "LDC")
    assert verdict.outcome is CallbackOutcome.PAID


async def test_the_submit_is_a_form_post_with_exactly_ldcs_fields(setup: Setup) -> None:
    await setup.provider().create_payment(order())

    [request] = setup.fake.requests
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sorted(request.params) == [
        "client_id",
        "money",
        "notify_url",
        "order_name",
        "out_trade_no",
        "return_url",
        "sign",
        "type",
    ]
    assert request.params["type"] == "ldcpay"
    assert request.params["money"] == "10.00"


async def test_a_key_the_platform_does_not_know_is_refused(setup: Setup) -> None:
    stranger = Ed25519PrivateKey.generate()

    with pytest.raises(PaymentProviderFailed):
        await setup.provider(merchant_private_key=b64(seed(stranger))).create_payment(order())

    assert setup.fake.rejections == ["签名验证失败"]


async def test_a_refusal_answered_with_status_200_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.refuse_with_200 = True

    with pytest.raises(PaymentProviderFailed):
        await setup.provider(client_secret="wrong-secret").create_payment(order())


async def test_a_redirect_without_location_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.redirect_without_location = True

    with pytest.raises(PaymentProviderFailed):
        await setup.provider().create_payment(order())


async def test_a_notify_url_longer_than_ldc_allows_is_refused_by_the_platform(setup: Setup) -> None:
    long_url = replace(order(), notify_url=f"{KARPOV}/{'x' * 100}")

    with pytest.raises(PaymentProviderFailed):
        await setup.provider().create_payment(long_url)

    assert setup.fake.rejections == ["notify_url"]


@pytest.mark.parametrize("status", [500, 502])
async def test_an_outage_is_a_provider_failure(setup: Setup, status: int) -> None:
    setup.fake.answer_status = status

    with pytest.raises(PaymentProviderFailed):
        await setup.provider().create_payment(order())
    with pytest.raises(PaymentProviderFailed):
        await setup.provider().query_order("ord_1")


async def test_a_slow_platform_is_a_provider_failure(setup: Setup) -> None:
    setup.fake.delay = 10

    with pytest.raises(PaymentProviderFailed):
        await setup.provider(timeout=0.2).create_payment(order())


@pytest.mark.parametrize("key_format", sorted(PUBLIC_FORMATS))
async def test_an_ed25519_notify_verifies_with_the_platform_key_in_every_format(
    setup: Setup, key_format: str
) -> None:
    provider = setup.provider(platform_public_key=PUBLIC_FORMATS[key_format](PLATFORM))
    setup.verify_with(provider)
    await provider.create_payment(order())
    setup.fake.sign_notifies_with = PLATFORM

    await setup.fake.pay("ord_1")

    [verdict] = setup.seen.verdicts
    assert verdict.outcome is CallbackOutcome.PAID
    assert len(setup.receiver.received[0].params["sign"]) == 88  # base64 of 64 bytes


async def test_an_ed25519_notify_without_a_platform_key_is_refused(setup: Setup) -> None:
    provider = setup.provider(platform_public_key="")
    setup.verify_with(provider)
    await provider.create_payment(order())
    setup.fake.sign_notifies_with = PLATFORM

    deliveries = await setup.fake.pay("ord_1")

    assert [d.body for d in deliveries] == ["fail"] * 5
    assert "not configured" in setup.seen.refusals[0].reason


async def test_an_md5_notify_is_accepted_without_a_platform_key(setup: Setup) -> None:
    provider = setup.provider(platform_public_key="")
    setup.verify_with(provider)
    await provider.create_payment(order())

    await setup.fake.pay("ord_1")

    assert setup.seen.verdicts[0].outcome is CallbackOutcome.PAID


async def test_a_badly_signed_notify_is_refused_and_retried(setup: Setup) -> None:
    await setup.provider().create_payment(order())
    setup.fake.bad_signature = True

    deliveries = await setup.fake.pay("ord_1")

    assert len(deliveries) == 5
    assert setup.seen.verdicts == []


@pytest.mark.parametrize(("money", "accepted"), [("9.99", True), ("10.001", False)])
async def test_a_notify_with_another_amount(setup: Setup, money: str, accepted: bool) -> None:
    await setup.provider().create_payment(order())
    setup.fake.notify_amount = money

    await setup.fake.pay("ord_1")

    if accepted:
        assert setup.seen.verdicts[0].amount == Money(999, "LDC")
    else:
        assert "money" in setup.seen.refusals[0].reason


async def test_duplicate_notifies_each_verify_the_same(setup: Setup) -> None:
    await setup.provider().create_payment(order())
    setup.fake.duplicate_notifies = 4

    await setup.fake.pay("ord_1")

    assert len(setup.seen.verdicts) == 5
    assert len({v.provider_txn_id for v in setup.seen.verdicts}) == 1


async def test_a_query_tells_pending_from_paid(setup: Setup) -> None:
    provider = setup.provider()
    await provider.create_payment(order())

    pending = await provider.query_order("ord_1")
    await setup.fake.pay("ord_1")
    paid = await provider.query_order("ord_1")

    assert pending.outcome is CallbackOutcome.PENDING
    assert paid.outcome is CallbackOutcome.PAID
    assert paid.provider_txn_id == setup.fake.orders["ord_1"].trade_no
    assert paid.amount == Money(1000, "LDC")
    assert setup.fake.requests[-1].params == {
        "act": "order",
        "pid": CLIENT_ID,
        "key": CLIENT_SECRET,
        "out_trade_no": "ord_1",
    }


async def test_a_failed_order_is_not_paid_and_sends_no_notify(setup: Setup) -> None:
    provider = setup.provider()
    await provider.create_payment(order())
    setup.fake.fail("ord_1")

    assert (await provider.query_order("ord_1")).outcome is CallbackOutcome.PENDING
    assert setup.receiver.received == []


async def test_an_unknown_order_is_pending_and_a_wrong_key_is_a_failure(setup: Setup) -> None:
    unknown = await setup.provider().query_order("ord_never_created")

    assert unknown.outcome is CallbackOutcome.PENDING
    assert unknown.provider_txn_id is None
    with pytest.raises(PaymentProviderFailed):
        await setup.provider(client_secret="wrong").query_order("ord_1")


async def test_no_secret_reaches_a_log_line_or_an_error(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    private_text = PRIVATE_FORMATS["base64 seed"](MERCHANT)
    provider = setup.provider(merchant_private_key=private_text)
    errors: list[Exception] = []
    await provider.create_payment(order())
    await setup.fake.pay("ord_1")
    await provider.query_order("ord_1")
    for misbehaviour in ("refuse", "no location", "outage"):
        setup.fake.reset()
        setup.fake.refuse_with_200 = misbehaviour == "refuse"
        setup.fake.redirect_without_location = misbehaviour == "no location"
        setup.fake.answer_status = 503 if misbehaviour == "outage" else None
        bad = (
            setup.provider(client_secret="other-secret-x") if misbehaviour == "refuse" else provider
        )
        try:
            await bad.create_payment(order(f"ord_{len(errors)}"))
        except PaymentProviderFailed as exc:
            errors.append(exc)
    setup.fake.reset()
    try:
        await setup.provider(client_secret="other-secret-x").query_order("ord_1")
    except PaymentProviderFailed as exc:
        errors.append(exc)

    assert len(errors) == 4
    assert any(r.name == "httpx" and "api.php" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        text = f"{record.getMessage()} {vars(record)!r}"
        for secret in (CLIENT_SECRET, "other-secret-x", private_text, private_text[:24]):
            assert secret not in text
    for error in errors:
        assert CLIENT_SECRET not in f"{error} {error!r}"
