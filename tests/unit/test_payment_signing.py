"""The shared sorted-parameters signer against vectors computed here, by hand: the canonical
string is written out literally and hashed with ``hashlib``, never with our signer."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.billing.money import Money
from domain.billing.ports import PaymentRequest
from domain.clock import ManualClock
from integrations.payments import (
    HupijiaoConfig,
    HupijiaoProvider,
    LdcConfig,
    LdcProvider,
    SortedParamsSigner,
    YipayConfig,
    YipayProvider,
    signatures_match,
)
from integrations.payments.signing import php_urlencode

EPAY = SortedParamsSigner.excluding("sign", "sign_type")
XH = SortedParamsSigner.excluding("hash")


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# -- the canonical string ----------------------------------------------------------------


def test_an_epay_request_signs_the_sorted_non_empty_parameters_with_the_key_appended() -> None:
    # The shape of the worked example in epay-compatible merchant docs.
    params = {
        "pid": "1001001276912812",
        "type": "alipay",
        "out_trade_no": "TEST123456",
        "notify_url": "http://example.com/notify",
        "return_url": "http://example.com/return",
        "name": "测试商品",
        "money": "0.01",
        "param": "",
        "sign": "ignored",
        "sign_type": "MD5",
    }
    key = "f872e1c662d41cf218b5dfa8328ae455"
    canonical = (
        "money=0.01&name=测试商品&notify_url=http://example.com/notify&out_trade_no=TEST123456"
        "&pid=1001001276912812&return_url=http://example.com/return&type=alipay"
    )

    assert EPAY.canonical(params) == canonical
    assert EPAY.md5(params, key) == md5(canonical + key)


def test_keys_sort_by_byte_value_and_values_stay_raw() -> None:
    params = {"b": "x y", "B": "1&2=3", "a_": "%41", "a": "é"}

    assert EPAY.canonical(params) == "B=1&2=3&a=é&a_=%41&b=x y"


def test_a_whitespace_value_is_not_empty() -> None:
    assert EPAY.canonical({"a": " ", "b": ""}) == "a= "


def test_the_url_encode_flag_encodes_values_as_php_urlencode_does() -> None:
    clone = SortedParamsSigner.excluding("sign", "sign_type", url_encode=True)
    params = {"name": "a b~ü/+", "money": "1.00", "sign": "x"}

    assert clone.canonical(params) == "money=1.00&name=a+b%7E%C3%BC%2F%2B"
    assert clone.md5(params, "K") == md5("money=1.00&name=a+b%7E%C3%BC%2F%2BK")
    assert php_urlencode("-_.AZaz09") == "-_.AZaz09"


def test_hupijiao_appends_the_bare_appsecret_as_its_sdk_does() -> None:
    # appid/appsecret: the public test account printed in hupijiao's PHP SDK sample.
    secret = "6D7B025B8DD098C485F0805193136FB9"
    params = {
        "version": "1.1",
        "appid": "20146123713",
        "trade_order_id": "1700000000",
        "total_fee": "0.1",
        "title": "耐克球鞋",
        "time": "1700000000",
        "notify_url": "http://www.xx.com/notify.php",
        "nonce_str": "0017000000",
        "hash": "",
    }
    canonical = (
        "appid=20146123713&nonce_str=0017000000&notify_url=http://www.xx.com/notify.php"
        "&time=1700000000&title=耐克球鞋&total_fee=0.1&trade_order_id=1700000000&version=1.1"
    )

    assert XH.md5(params, secret) == md5(canonical + secret)
    # The original gateway's rule, which the provider never accepted:
    assert XH.md5(params, secret) != md5(canonical + "&appsecret=" + secret)


# -- verification ------------------------------------------------------------------------


def test_verification_ignores_case_and_refuses_any_other_digest() -> None:
    params = {"a": "1", "b": "2"}
    good = md5("a=1&b=2K")

    assert EPAY.verify_md5(params, "K", good)
    assert EPAY.verify_md5(params, "K", good.upper())
    assert not EPAY.verify_md5(params, "K", good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert not EPAY.verify_md5(params, "K", good[:-1])
    assert not EPAY.verify_md5(params, "other", good)
    assert not EPAY.verify_md5({**params, "c": "3"}, "K", good)


def test_signatures_match_handles_non_ascii_input() -> None:
    assert not signatures_match("abc", "äbc")
    assert signatures_match("abc", "ABC")


# -- what each provider signs ------------------------------------------------------------

REQUEST = PaymentRequest(
    order_id="ord_1",
    amount=Money(1389, "CNY"),
    subject="Music Gateway - Pro",
    notify_url="https://karpov.test/v1/billing/callback/yipay",
    return_url="https://karpov.test/billing/done",
)


def test_a_yipay_order_is_signed_over_exactly_the_fields_sent() -> None:
    provider = YipayProvider(
        YipayConfig(base_url="https://pay.test", merchant_id="1001", key="merchantkey"),
        http=httpx.AsyncClient(),
    )

    form = provider.submit_form(REQUEST)

    canonical = (
        "money=13.89&name=Music Gateway - Pro&notify_url=https://karpov.test/v1/billing/callback/"
        "yipay&out_trade_no=ord_1&pid=1001&return_url=https://karpov.test/billing/done&type=alipay"
    )
    assert form.fields["sign"] == md5(canonical + "merchantkey")
    assert form.fields["sign_type"] == "MD5"
    assert form.action == "https://pay.test/submit.php"


def test_a_hupijiao_order_carries_time_and_nonce_and_is_signed_over_them() -> None:
    provider = HupijiaoProvider(
        HupijiaoConfig(app_id="2019", app_secret="appsecret", wap_name="Karpov"),
        http=httpx.AsyncClient(),
        clock=ManualClock(datetime.fromtimestamp(1_700_000_000, UTC)),
        nonce=lambda: "n" * 32,
    )

    fields = provider.order_fields(REQUEST)

    canonical = (
        "appid=2019&attach=ord_1&callback_url=https://karpov.test/billing/done"
        f"&nonce_str={'n' * 32}&notify_url=https://karpov.test/v1/billing/callback/yipay"
        "&plugins=karpov&return_url=https://karpov.test/billing/done&time=1700000000"
        "&title=Music Gateway - Pro&total_fee=13.89&trade_order_id=ord_1&version=1.1"
        "&wap_name=Karpov"
    )
    assert fields["hash"] == md5(canonical + "appsecret")


def test_ldc_signs_its_documented_string_with_ed25519() -> None:
    # LDC's API docs (§1.3.1) give the string for this request, the client secret appended.
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    provider = LdcProvider(
        LdcConfig(
            client_id="1",
            client_secret="SECRET",
            merchant_private_key=base64.b64encode(seed).decode(),
        ),
        http=httpx.AsyncClient(),
    )
    request = PaymentRequest(
        order_id="M1", amount=Money(1000, "LDC"), subject="Test", notify_url="", return_url=""
    )

    fields = provider.order_fields(request)

    expected = b"client_id=1&money=10.00&order_name=Test&out_trade_no=M1&type=ldcpaySECRET"
    assert provider.canonical(fields).encode() == expected
    key.public_key().verify(base64.b64decode(fields["sign"], validate=True), expected)
    # Ed25519 is deterministic: the same key signs the same string to the same bytes.
    assert base64.b64decode(fields["sign"]) == key.sign(expected)


@pytest.mark.parametrize("amount", [Money(1, "CNY"), Money(100, "CNY"), Money(123456, "CNY")])
def test_money_is_sent_with_exactly_two_decimals(amount: Money) -> None:
    provider = YipayProvider(
        YipayConfig(base_url="https://pay.test", merchant_id="1", key="k"),
        http=httpx.AsyncClient(),
    )
    request = PaymentRequest(
        order_id="o", amount=amount, subject="s", notify_url="https://n", return_url="https://r"
    )

    assert provider.submit_form(request).fields["money"] == amount.formatted()
    assert len(amount.formatted().split(".")[1]) == 2
