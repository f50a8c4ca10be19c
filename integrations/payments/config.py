"""One configuration per payment channel, validated when it is built.

Field errors are ``InvalidInput`` naming the original's settings field (``yipayBaseUrl``,
``ldcMerchantPrivateKey``, …), so an admin settings update can answer 400 on the field.
``repr`` (and so every log line or traceback that prints a config) shows secrets as
``'***'`` when set and ``''`` when not, never their value; ``masking.mask_secret`` is the
admin page's partial view.

Each channel may restrict the networks its callbacks come from (``callback_networks``,
CIDRs); ``allows(ip)`` answers whether a callback from ``ip`` may be processed.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import InvalidInput
from integrations.payments.ed25519_keys import parse_private_key, parse_public_key
from integrations.payments.networks import CallbackNetworks

HUPIJIAO_DEFAULT_BASE_URL = "https://api.xunhupay.com"
LDC_DEFAULT_BASE_URL = "https://credit.linux.do/epay"
YIPAY_PAYMENT_TYPES = ("alipay", "wxpay", "qqpay")
"""The epay V1 types every deployment has; some add usdt, bank, jdpay (also accepted)."""

_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_HUPIJIAO_CREATE_PATH = "/payment/do.html"


def secret_field(default: str = "") -> Any:
    return field(default=default, metadata={"secret": True})


@dataclass(frozen=True, kw_only=True, repr=False)
class ChannelConfig:
    callback_networks: tuple[str, ...] = ()
    """CIDRs (or bare addresses) callbacks may come from; empty: anywhere."""
    _networks: CallbackNetworks = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_networks", CallbackNetworks.parse(self.callback_networks))

    def allows(self, ip: str | None) -> bool:
        """May a callback from ``ip`` be processed? Always, when no networks are set."""
        return self._networks.allows(ip)

    def __repr__(self) -> str:
        shown = []
        for spec in fields(self):
            if spec.name.startswith("_"):
                continue
            value = getattr(self, spec.name)
            if spec.metadata.get("secret"):
                shown.append(f"{spec.name}={'***' if value else ''!r}")
            else:
                shown.append(f"{spec.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__


class YipayCreation(enum.StrEnum):
    PAGE = "page"
    """A signed ``submit.php`` URL the buyer's browser opens (no call from us)."""
    API = "api"
    """A server-side ``mapi.php`` call that answers a pay URL, QR payload or URL scheme."""


@dataclass(frozen=True, kw_only=True, repr=False)
class YipayConfig(ChannelConfig):
    base_url: str
    """The deployment's gateway (no public default: every epay site is its own)."""
    merchant_id: str
    """``pid``."""
    key: str = secret_field()
    """The merchant KEY: signs requests and notifies, and authenticates order queries."""
    payment_type: str = "alipay"
    """epay ``type`` when the order names none: alipay, wxpay or qqpay."""
    creation: YipayCreation = YipayCreation.PAGE
    device: str = "pc"
    """``mapi.php`` ``device``: pc, mobile, qq, wechat or alipay."""
    url_encode_values: bool = False
    """Sign URL-encoded values (some epay clones, e.g. EzPay)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "base_url", _base_url(self.base_url, "yipayBaseUrl"))
        _require(self.merchant_id, "yipayMerchantId")
        _require(self.key, "yipayKey")
        object.__setattr__(self, "payment_type", self.payment_type or "alipay")
        check_token(self.payment_type, "yipayPaymentType")
        check_token(self.device, "yipayDevice")
        object.__setattr__(self, "creation", YipayCreation(self.creation))


@dataclass(frozen=True, kw_only=True, repr=False)
class HupijiaoConfig(ChannelConfig):
    app_id: str
    """``appid``."""
    app_secret: str = secret_field()
    """The APPSECRET that signs requests, answers and notifies."""
    base_url: str = HUPIJIAO_DEFAULT_BASE_URL
    """The API host; the original's full ``…/payment/do.html`` URL is accepted too."""
    payment_type: str = ""
    """Optional ``type``: ``WAP`` for WeChat H5 (then set ``wap_url`` and ``wap_name``)."""
    wap_url: str = ""
    wap_name: str = ""
    plugins: str = "karpov"
    """``plugins``: names the integration to the provider; echoed back in the notify."""

    def __post_init__(self) -> None:
        super().__post_init__()
        base = self.base_url.strip().rstrip("/")
        base = base.removesuffix(_HUPIJIAO_CREATE_PATH) if base else HUPIJIAO_DEFAULT_BASE_URL
        object.__setattr__(self, "base_url", _base_url(base, "hupijiaoBaseUrl"))
        _require(self.app_id, "hupijiaoAppId")
        _require(self.app_secret, "hupijiaoKey")
        if self.payment_type:
            check_token(self.payment_type, "hupijiaoPaymentType")


@dataclass(frozen=True, kw_only=True, repr=False)
class LdcConfig(ChannelConfig):
    client_id: str
    client_secret: str = secret_field()
    """Appended to every signed string, and authenticates order queries (``key``)."""
    merchant_private_key: str = secret_field()
    """Ed25519; its public key is the one uploaded in the LDC app settings."""
    platform_public_key: str = ""
    """Ed25519, for callbacks signed with it (LDC signs its notifies with MD5 today)."""
    base_url: str = LDC_DEFAULT_BASE_URL
    _signing_key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)
    _platform_key: Ed25519PublicKey | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        base = self.base_url.strip() or LDC_DEFAULT_BASE_URL
        object.__setattr__(self, "base_url", _base_url(base, "ldcBaseUrl"))
        _require(self.client_id, "ldcClientId")
        _require(self.client_secret, "ldcClientSecret")
        _require(self.merchant_private_key, "ldcMerchantPrivateKey")
        signing = parse_private_key(self.merchant_private_key, field="ldcMerchantPrivateKey")
        object.__setattr__(self, "_signing_key", signing)
        platform = (
            parse_public_key(self.platform_public_key, field="ldcPlatformPublicKey")
            if self.platform_public_key.strip()
            else None
        )
        object.__setattr__(self, "_platform_key", platform)

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return self._signing_key

    @property
    def platform_key(self) -> Ed25519PublicKey | None:
        return self._platform_key


@dataclass(frozen=True, kw_only=True, repr=False)
class MockConfig(ChannelConfig):
    base_url: str = ""
    """Karpov's public base URL for the mock pay page; empty: a path on the same site."""

    def __post_init__(self) -> None:
        super().__post_init__()
        base = self.base_url.strip().rstrip("/")
        object.__setattr__(self, "base_url", _base_url(base, "mockBaseUrl") if base else "")


def _base_url(value: str, name: str) -> str:
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"{name} must be an http(s) URL", field=name)
    if parts.query or parts.fragment:
        raise InvalidInput(f"{name} must not carry a query or fragment", field=name)
    return url


def _require(value: str, name: str) -> None:
    if not value or not value.strip():
        raise InvalidInput(f"{name} is required", field=name)


def check_token(value: str, name: str) -> None:
    if not _TOKEN.fullmatch(value):
        raise InvalidInput(f"{name} must be a short token such as 'alipay'", field=name)
