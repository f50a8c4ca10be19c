"""Channel configs: validation naming the original's settings fields, secrets never in
``repr``/``str``, the original's masking, and the callback-network allow list."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import InvalidInput
from integrations.payments import (
    CHANNEL_DISPLAYS,
    CallbackNetworks,
    HupijiaoConfig,
    LdcConfig,
    MockConfig,
    YipayConfig,
    YipayCreation,
    is_masked,
    mask_secret,
)

YIPAY_KEY = "yipay-merchant-key-0123456789"
XH_SECRET = "hupijiao-app-secret-0123456789"
LDC_SECRET = "zq-ldc-client-secret-0123456789"
PRIVATE = Ed25519PrivateKey.generate()
PRIVATE_PEM = PRIVATE.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PLATFORM_PUBLIC = base64.b64encode(
    Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
).decode()


def configs() -> list[object]:
    return [
        YipayConfig(base_url="https://pay.test", merchant_id="1001", key=YIPAY_KEY),
        HupijiaoConfig(app_id="2019", app_secret=XH_SECRET),
        LdcConfig(
            client_id="ldc-client",
            client_secret=LDC_SECRET,
            merchant_private_key=PRIVATE_PEM,
            platform_public_key=PLATFORM_PUBLIC,
        ),
        MockConfig(),
    ]


# -- masking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("", ""),
        ("a", "****"),
        ("abcd", "****"),
        ("abcde", "ab****de"),
        ("abcdefgh", "ab****gh"),
        (YIPAY_KEY, "yi****89"),
        ("密钥很长的值", "密钥****的值"),
    ],
)
def test_secrets_are_masked_as_the_original_masked_them(secret: str, masked: str) -> None:
    assert mask_secret(secret) == masked


def test_a_masked_value_is_recognised_and_a_real_secret_is_not() -> None:
    assert is_masked("****")
    assert is_masked(mask_secret(YIPAY_KEY))
    assert not is_masked("")
    assert not is_masked(YIPAY_KEY)
    assert not is_masked("ab***gh")
    assert not is_masked("ab****ghi")


# -- repr --------------------------------------------------------------------------------


@pytest.mark.parametrize("config", configs(), ids=lambda c: type(c).__name__)
def test_repr_and_str_never_show_a_secret(config: object) -> None:
    for text in (repr(config), str(config), f"{config}", f"{config!r}", repr([config])):
        for secret in (YIPAY_KEY, XH_SECRET, LDC_SECRET, PRIVATE_PEM):
            assert secret not in text
            assert secret[:8] not in text
        assert "PRIVATE KEY" not in text


def test_repr_says_whether_a_secret_is_set() -> None:
    text = repr(YipayConfig(base_url="https://pay.test", merchant_id="1001", key=YIPAY_KEY))

    assert "key='***'" in text
    assert "merchant_id='1001'" in text
    assert "base_url='https://pay.test'" in text


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: YipayConfig(base_url="", merchant_id="1", key="k"), "yipayBaseUrl"),
        (lambda: YipayConfig(base_url="ftp://pay.test", merchant_id="1", key="k"), "yipayBaseUrl"),
        (
            lambda: YipayConfig(base_url="https://pay.test?x=1", merchant_id="1", key="k"),
            "yipayBaseUrl",
        ),
        (
            lambda: YipayConfig(base_url="https://pay.test", merchant_id=" ", key="k"),
            "yipayMerchantId",
        ),
        (lambda: YipayConfig(base_url="https://pay.test", merchant_id="1"), "yipayKey"),
        (
            lambda: YipayConfig(
                base_url="https://pay.test", merchant_id="1", key="k", payment_type="ali pay"
            ),
            "yipayPaymentType",
        ),
        (lambda: HupijiaoConfig(app_id="", app_secret="s"), "hupijiaoAppId"),
        (lambda: HupijiaoConfig(app_id="1", app_secret=""), "hupijiaoKey"),
        (
            lambda: HupijiaoConfig(app_id="1", app_secret="s", base_url="api.xunhupay.com"),
            "hupijiaoBaseUrl",
        ),
        (
            lambda: LdcConfig(client_id="", client_secret="s", merchant_private_key=PRIVATE_PEM),
            "ldcClientId",
        ),
        (
            lambda: LdcConfig(client_id="c", client_secret="", merchant_private_key=PRIVATE_PEM),
            "ldcClientSecret",
        ),
        (lambda: LdcConfig(client_id="c", client_secret="s"), "ldcMerchantPrivateKey"),
        (
            lambda: LdcConfig(client_id="c", client_secret="s", merchant_private_key="nonsense"),
            "ldcMerchantPrivateKey",
        ),
        (
            lambda: LdcConfig(
                client_id="c",
                client_secret="s",
                merchant_private_key=PRIVATE_PEM,
                platform_public_key="AAAA",
            ),
            "ldcPlatformPublicKey",
        ),
        (lambda: MockConfig(callback_networks=("10.0.0.0/33",)), "callbackNetworks"),
    ],
)
def test_an_invalid_setting_names_its_field(build, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        build()

    assert refused.value.field == field


def test_defaults_are_the_public_gateways() -> None:
    hupijiao = HupijiaoConfig(app_id="1", app_secret="s")
    ldc = LdcConfig(client_id="c", client_secret="s", merchant_private_key=PRIVATE_PEM)
    yipay = YipayConfig(base_url="https://pay.test/", merchant_id="1", key="k", payment_type="")

    assert hupijiao.base_url == "https://api.xunhupay.com"
    assert ldc.base_url == "https://credit.linux.do/epay"
    assert ldc.platform_key is None
    assert yipay.base_url == "https://pay.test"
    assert yipay.payment_type == "alipay"
    assert yipay.creation is YipayCreation.PAGE


def test_the_originals_full_hupijiao_url_is_accepted_as_the_base() -> None:
    config = HupijiaoConfig(
        app_id="1", app_secret="s", base_url="https://api.xunhupay.com/payment/do.html"
    )

    assert config.base_url == "https://api.xunhupay.com"


def test_a_config_built_from_settings_text_takes_the_creation_mode_by_name() -> None:
    config = YipayConfig(
        base_url="https://pay.test",
        merchant_id="1",
        key="k",
        creation="api",  # type: ignore[arg-type]
    )

    assert config.creation is YipayCreation.API


# -- callback networks -------------------------------------------------------------------


def test_without_networks_every_source_is_allowed() -> None:
    config = MockConfig()

    assert config.allows("203.0.113.9")
    assert config.allows(None)
    assert config.allows("not an address")


def test_with_networks_only_those_sources_are_allowed() -> None:
    config = YipayConfig(
        base_url="https://pay.test",
        merchant_id="1",
        key="k",
        callback_networks=("203.0.113.0/24", "2001:db8::/32", "198.51.100.7"),
    )

    assert config.allows("203.0.113.200")
    assert config.allows("::ffff:203.0.113.5")  # what a dual-stack socket reports
    assert config.allows("2001:db8::1")
    assert config.allows("198.51.100.7")
    assert not config.allows("198.51.100.8")
    assert not config.allows("203.0.114.1")
    assert not config.allows("2001:db9::1")
    assert not config.allows(None)
    assert not config.allows("")
    assert not config.allows("nonsense")


def test_networks_parse_and_refuse_by_field() -> None:
    networks = CallbackNetworks.parse([" 10.0.0.0/8 "])
    assert networks.restricted
    assert networks.allows("10.2.3.4")

    with pytest.raises(InvalidInput) as refused:
        CallbackNetworks.parse(["10.0.0.0/8", "bogus"], field="yipayCallbackNetworks")
    assert refused.value.field == "yipayCallbackNetworks"


def test_every_channel_has_the_originals_display_name_and_icon() -> None:
    assert {name: d.icon for name, d in CHANNEL_DISPLAYS.items()} == {
        "yipay": "alipay",
        "hupijiao": "wechat",
        "ldcpay": "credit",
        "mock": "test",
    }
    assert CHANNEL_DISPLAYS["ldcpay"].display_name == "Linux Credit (LDC)"
    assert CHANNEL_DISPLAYS["yipay"].display_name == "支付宝 / 微信（易支付）"
    assert CHANNEL_DISPLAYS["hupijiao"].display_name == "微信支付（虎皮椒）"
    assert CHANNEL_DISPLAYS["mock"].display_name == "本地测试支付（仅开发）"
