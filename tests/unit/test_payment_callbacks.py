"""``verify_callback`` of every provider on notifies built here, signed with ``hashlib`` (or
``cryptography`` for Ed25519) over literally written strings, never by our signer."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, InvalidCallback, PaymentProvider
from integrations.payments import (
    HupijiaoConfig,
    HupijiaoProvider,
    LdcConfig,
    LdcProvider,
    YipayConfig,
    YipayProvider,
)

KEY = "epay-merchant-key-9f8e7d"
APP_SECRET = "xh-app-secret-1a2b3c"
CLIENT_SECRET = "ldc-client-secret-4d5e6f"
MERCHANT_KEY = Ed25519PrivateKey.generate()
PLATFORM_KEY = Ed25519PrivateKey.generate()


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def raw_b64(key: Ed25519PrivateKey) -> str:
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(seed).decode()


def public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


HTTP = httpx.AsyncClient()
YIPAY = YipayProvider(
    YipayConfig(base_url="https://pay.test", merchant_id="1001", key=KEY), http=HTTP
)
HUPIJIAO = HupijiaoProvider(HupijiaoConfig(app_id="201906", app_secret=APP_SECRET), http=HTTP)
LDC = LdcProvider(
    LdcConfig(
        client_id="ldc-app",
        client_secret=CLIENT_SECRET,
        merchant_private_key=raw_b64(MERCHANT_KEY),
        platform_public_key=public_b64(PLATFORM_KEY),
    ),
    http=HTTP,
)
LDC_WITHOUT_PLATFORM_KEY = LdcProvider(
    LdcConfig(
        client_id="ldc-app", client_secret=CLIENT_SECRET, merchant_private_key=raw_b64(MERCHANT_KEY)
    ),
    http=HTTP,
)


def refused(provider: PaymentProvider, params: Mapping[str, str]) -> str:
    with pytest.raises(InvalidCallback) as refusal:
        provider.verify_callback(params)
    return refusal.value.reason


# -- yipay -------------------------------------------------------------------------------

YIPAY_STRING = (
    "money=13.89&name=Music Gateway - Pro&out_trade_no=ord_1&pid=1001"
    "&trade_no=2026000000000001&trade_status=TRADE_SUCCESS&type=alipay"
)
YIPAY_NOTIFY = {
    "pid": "1001",
    "trade_no": "2026000000000001",
    "out_trade_no": "ord_1",
    "type": "alipay",
    "name": "Music Gateway - Pro",
    "money": "13.89",
    "trade_status": "TRADE_SUCCESS",
    "param": "",
    "sign": md5(YIPAY_STRING + KEY),
    "sign_type": "MD5",
}


def yipay_notify(**changes: str) -> dict[str, str]:
    """The notify with ``changes``, signed again over its new literal string."""
    params = {k: v for k, v in {**YIPAY_NOTIFY, **changes}.items()}
    signed = sorted((k, v) for k, v in params.items() if v and k not in ("sign", "sign_type"))
    params["sign"] = md5("&".join(f"{k}={v}" for k, v in signed) + KEY)
    return params


def test_a_yipay_payment_notify_is_read_into_our_terms() -> None:
    verdict = YIPAY.verify_callback(YIPAY_NOTIFY)

    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == "2026000000000001"
    assert verdict.amount == Money(1389, "CNY")
    assert verdict.outcome is CallbackOutcome.PAID


def test_a_replayed_yipay_notify_verifies_again() -> None:
    # Stateless by design: processing a payment once is the billing service's job.
    assert YIPAY.verify_callback(dict(YIPAY_NOTIFY)) == YIPAY.verify_callback(dict(YIPAY_NOTIFY))


def test_an_upper_case_yipay_signature_is_accepted() -> None:
    params = {**YIPAY_NOTIFY, "sign": YIPAY_NOTIFY["sign"].upper()}

    assert YIPAY.verify_callback(params).outcome is CallbackOutcome.PAID


def test_unknown_extra_fields_are_covered_by_the_signature() -> None:
    extended = yipay_notify(api_trade_no="4200000001", buyer="alice")

    assert YIPAY.verify_callback(extended).outcome is CallbackOutcome.PAID
    assert "signature" in refused(YIPAY, {**YIPAY_NOTIFY, "buyer": "mallory"})


@pytest.mark.parametrize(
    "changes",
    [
        {"money": "0.01"},
        {"out_trade_no": "ord_2"},
        {"trade_no": "2026000000000002"},
        {"trade_status": "TRADE_CLOSED"},
        {"sign": "0" * 32},
        {"sign": YIPAY_NOTIFY["sign"][:-1]},
    ],
)
def test_a_tampered_yipay_notify_is_refused(changes: dict[str, str]) -> None:
    assert "signature" in refused(YIPAY, {**YIPAY_NOTIFY, **changes})


def test_a_notify_signed_with_another_key_is_refused() -> None:
    params = {**YIPAY_NOTIFY, "sign": md5(YIPAY_STRING + "another-key")}

    assert "signature" in refused(YIPAY, params)


@pytest.mark.parametrize("missing", ["out_trade_no", "trade_no", "money", "trade_status", "sign"])
def test_a_yipay_notify_without_a_required_field_is_refused(missing: str) -> None:
    params = yipay_notify(**{missing: ""})
    if missing == "sign":
        params["sign"] = ""

    assert missing in refused(YIPAY, params)


@pytest.mark.parametrize(
    "money", ["13.891", "13.890", "1e3", "-13.89", " 13.89", "13,89", "0.00", "１３"]
)
def test_a_yipay_amount_that_is_not_two_decimals_is_refused_never_rounded(money: str) -> None:
    assert "money" in refused(YIPAY, yipay_notify(money=money))


@pytest.mark.parametrize(("money", "minor"), [("13.8", 1380), ("13", 1300), ("0.01", 1)])
def test_shorter_yipay_amounts_are_exact(money: str, minor: int) -> None:
    assert YIPAY.verify_callback(yipay_notify(money=money)).amount == Money(minor, "CNY")


def test_a_notify_for_another_merchant_is_refused() -> None:
    assert "pid" in refused(YIPAY, yipay_notify(pid="2002"))


def test_a_yipay_notify_signed_with_rsa_is_refused() -> None:
    assert "sign_type" in refused(YIPAY, {**YIPAY_NOTIFY, "sign_type": "RSA"})


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("TRADE_SUCCESS", CallbackOutcome.PAID),
        ("TRADE_CLOSED", CallbackOutcome.FAILED),
        ("WAIT_BUYER_PAY", CallbackOutcome.PENDING),
        ("TRADE_FINISHED", CallbackOutcome.PENDING),
    ],
)
def test_only_trade_success_is_a_yipay_payment(status: str, outcome: CallbackOutcome) -> None:
    assert YIPAY.verify_callback(yipay_notify(trade_status=status)).outcome is outcome


def test_a_url_encoding_clone_verifies_its_own_encoding() -> None:
    clone = YipayProvider(
        YipayConfig(
            base_url="https://pay.test", merchant_id="1001", key=KEY, url_encode_values=True
        ),
        http=HTTP,
    )
    encoded = (
        "money=13.89&name=Music+Gateway+-+Pro&out_trade_no=ord_1&pid=1001"
        "&trade_no=2026000000000001&trade_status=TRADE_SUCCESS&type=alipay"
    )
    params = {**YIPAY_NOTIFY, "sign": md5(encoded + KEY)}

    assert clone.verify_callback(params).order_id == "ord_1"
    assert "signature" in refused(clone, YIPAY_NOTIFY)


def test_yipay_acknowledges_with_success() -> None:
    assert YIPAY.acknowledgement(True).body == "success"
    assert YIPAY.acknowledgement(False).body == "fail"


# -- hupijiao ----------------------------------------------------------------------------


def xh_notify(**changes: str) -> dict[str, str]:
    params = {
        "trade_order_id": "ord_1",
        "total_fee": "13.89",
        "transaction_id": "4200001232202111037855405793",
        "open_order_id": "20201558372",
        "order_title": "Music Gateway - Pro",
        "status": "OD",
        "plugins": "karpov",
        "attach": "ord_1",
        "appid": "201906",
        "time": "1700000000",
        "nonce_str": "abc123",
        **changes,
    }
    signed = sorted((k, v) for k, v in params.items() if v and k != "hash")
    params["hash"] = md5("&".join(f"{k}={v}" for k, v in signed) + APP_SECRET)
    return params


def test_a_hupijiao_payment_notify_is_read_into_our_terms() -> None:
    literal = (
        "appid=201906&attach=ord_1&nonce_str=abc123&open_order_id=20201558372"
        "&order_title=Music Gateway - Pro&plugins=karpov&status=OD&time=1700000000"
        "&total_fee=13.89&trade_order_id=ord_1&transaction_id=4200001232202111037855405793"
    )
    params = xh_notify()
    assert params["hash"] == md5(literal + APP_SECRET)

    verdict = HUPIJIAO.verify_callback(params)

    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == "4200001232202111037855405793"
    assert verdict.amount == Money(1389, "CNY")
    assert verdict.outcome is CallbackOutcome.PAID


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("OD", CallbackOutcome.PAID),
        ("WP", CallbackOutcome.PENDING),
        ("CD", CallbackOutcome.FAILED),
        ("RD", CallbackOutcome.PENDING),
    ],
)
def test_hupijiao_statuses(status: str, outcome: CallbackOutcome) -> None:
    assert HUPIJIAO.verify_callback(xh_notify(status=status)).outcome is outcome


def test_a_hupijiao_notify_without_a_channel_transaction_uses_the_open_order_id() -> None:
    verdict = HUPIJIAO.verify_callback(xh_notify(transaction_id=""))

    assert verdict.provider_txn_id == "20201558372"


def test_an_unpaid_hupijiao_notify_may_carry_no_transaction_at_all() -> None:
    verdict = HUPIJIAO.verify_callback(xh_notify(status="WP", transaction_id="", open_order_id=""))

    assert verdict.outcome is CallbackOutcome.PENDING
    assert verdict.provider_txn_id == ""


def test_a_paid_hupijiao_notify_without_any_transaction_is_refused() -> None:
    assert "transaction" in refused(HUPIJIAO, xh_notify(transaction_id="", open_order_id=""))


def test_a_hupijiao_hash_made_the_originals_way_is_refused() -> None:
    params = xh_notify()
    signed = sorted((k, v) for k, v in params.items() if v and k != "hash")
    params["hash"] = md5("&".join(f"{k}={v}" for k, v in signed) + "&appsecret=" + APP_SECRET)

    assert "hash" in refused(HUPIJIAO, params)


@pytest.mark.parametrize(
    "changes",
    [{"total_fee": "0.01"}, {"status": "OD", "trade_order_id": "ord_2"}, {"hash": "f" * 32}],
)
def test_a_tampered_hupijiao_notify_is_refused(changes: dict[str, str]) -> None:
    assert "hash" in refused(HUPIJIAO, {**xh_notify(), **changes})


@pytest.mark.parametrize("missing", ["trade_order_id", "total_fee", "status", "hash"])
def test_a_hupijiao_notify_without_a_required_field_is_refused(missing: str) -> None:
    params = xh_notify(**{missing: ""}) if missing != "hash" else {**xh_notify(), "hash": ""}

    assert missing in refused(HUPIJIAO, params)


def test_a_hupijiao_amount_with_three_decimals_is_refused() -> None:
    assert "total_fee" in refused(HUPIJIAO, xh_notify(total_fee="13.899"))


def test_a_hupijiao_notify_for_another_app_is_refused() -> None:
    assert "appid" in refused(HUPIJIAO, xh_notify(appid="999"))


def test_hupijiao_acknowledges_with_the_body_success_not_the_originals_json() -> None:
    assert HUPIJIAO.acknowledgement(True).body == "success"
    assert HUPIJIAO.acknowledgement(True).media_type == "text/plain"
    assert HUPIJIAO.acknowledgement(False).body == "fail"


# -- Linux Credit ------------------------------------------------------------------------

LDC_STRING = (
    "money=10.00&name=Music Gateway - Pro&out_trade_no=ord_1&pid=ldc-app"
    "&trade_no=100001&trade_status=TRADE_SUCCESS&type=epay"
)
LDC_FIELDS = {
    "pid": "ldc-app",
    "trade_no": "100001",
    "out_trade_no": "ord_1",
    "type": "epay",
    "name": "Music Gateway - Pro",
    "money": "10.00",
    "trade_status": "TRADE_SUCCESS",
}


def test_an_md5_ldc_notify_is_read_into_our_terms() -> None:
    params = {**LDC_FIELDS, "sign": md5(LDC_STRING + CLIENT_SECRET)}

    verdict = LDC.verify_callback(params)

    assert verdict.order_id == "ord_1"
    assert verdict.provider_txn_id == "100001"
    assert verdict.amount == Money(1000, "LDC")
    assert verdict.outcome is CallbackOutcome.PAID
    assert LDC_WITHOUT_PLATFORM_KEY.verify_callback(params).amount == Money(1000, "LDC")


def test_an_ed25519_ldc_notify_is_checked_with_the_platform_key() -> None:
    signature = PLATFORM_KEY.sign((LDC_STRING + CLIENT_SECRET).encode())
    params = {**LDC_FIELDS, "sign": base64.b64encode(signature).decode()}

    assert LDC.verify_callback(params).outcome is CallbackOutcome.PAID
    assert "not configured" in refused(LDC_WITHOUT_PLATFORM_KEY, params)


def test_an_ed25519_ldc_notify_signed_by_anyone_else_is_refused() -> None:
    forged = MERCHANT_KEY.sign((LDC_STRING + CLIENT_SECRET).encode())
    params = {**LDC_FIELDS, "sign": base64.b64encode(forged).decode()}

    assert "Ed25519" in refused(LDC, params)
    tampered = {**LDC_FIELDS, "money": "99.00"}
    genuine = PLATFORM_KEY.sign((LDC_STRING + CLIENT_SECRET).encode())
    assert "Ed25519" in refused(LDC, {**tampered, "sign": base64.b64encode(genuine).decode()})


@pytest.mark.parametrize("sign", ["not base64 at all!", base64.b64encode(b"short").decode()])
def test_a_sign_that_is_neither_md5_nor_ed25519_is_refused(sign: str) -> None:
    assert "sign" in refused(LDC, {**LDC_FIELDS, "sign": sign})


def test_a_tampered_md5_ldc_notify_is_refused() -> None:
    params = {**LDC_FIELDS, "money": "1.00", "sign": md5(LDC_STRING + CLIENT_SECRET)}

    assert "MD5" in refused(LDC, params)


@pytest.mark.parametrize("missing", ["out_trade_no", "trade_no", "money", "trade_status"])
def test_an_ldc_notify_without_a_required_field_is_refused(missing: str) -> None:
    fields = {k: v for k, v in LDC_FIELDS.items() if k != missing}
    literal = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
    params = {**fields, "sign": md5(literal + CLIENT_SECRET)}

    assert missing in refused(LDC, params)


def test_an_ldc_amount_with_three_decimals_is_refused() -> None:
    fields = {**LDC_FIELDS, "money": "10.001"}
    literal = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))

    assert "money" in refused(LDC, {**fields, "sign": md5(literal + CLIENT_SECRET)})


def test_ldc_acknowledges_with_success() -> None:
    assert LDC.acknowledgement(True).body == "success"
