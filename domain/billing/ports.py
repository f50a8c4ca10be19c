"""What billing needs from the outside world. The payment-provider port is shared by every
provider client (yipay/epay, hupijiao, ldcpay in ``integrations/payments``; the dev-only
mock)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.billing.money import Money


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    order_id: str
    """Our order id: the provider's ``out_trade_no`` / ``trade_order_id``."""
    amount: Money
    """Already in the provider's currency (``PaymentProvider.currency``)."""
    subject: str
    notify_url: str
    return_url: str
    client_ip: str | None = None
    method: str | None = None
    """A provider-specific payment method (epay ``type``: alipay, wxpay, qqpay)."""


@dataclass(frozen=True, slots=True)
class PaymentCreated:
    pay_url: str
    """Where to send the buyer (a cashier page or a signed jump URL)."""
    qr_payload: str | None = None
    provider_order_id: str | None = None
    qr_image_url: str | None = None
    """A QR code the provider renders itself (hupijiao ``url_qrcode``): show it as an image;
    it is not a payload to encode (``qr_payload`` is)."""


class CallbackOutcome(enum.StrEnum):
    PAID = "paid"
    FAILED = "failed"
    PENDING = "pending"
    """A notification that is not (yet) a payment, e.g. hupijiao ``WP``."""


@dataclass(frozen=True, slots=True)
class CallbackVerdict:
    """A callback whose signature checked out, read into our terms."""

    order_id: str
    provider_txn_id: str
    amount: Money
    outcome: CallbackOutcome


class InvalidCallback(Exception):
    """The callback is not authentic or not readable (bad signature, missing fields).
    ``reason`` is stored with the raw callback; it is never sent to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ProviderOrderStatus:
    """An order as the provider sees it (reconciliation)."""

    outcome: CallbackOutcome
    provider_txn_id: str | None = None
    amount: Money | None = None


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    body: str
    media_type: str = "text/plain"


class PaymentProvider(Protocol):
    name: str
    """``yipay``, ``hupijiao``, ``ldcpay``, ``mock``: the callback path segment too."""
    currency: str
    """The currency the provider charges in (CNY; LDC for Linux Credit)."""

    async def create_payment(self, request: PaymentRequest) -> PaymentCreated:
        """Raises ``PaymentProviderFailed`` (a ``DomainError``, 502/50200) when the
        provider refuses or cannot be reached."""

    def verify_callback(self, params: Mapping[str, str]) -> CallbackVerdict:
        """Check the signature (constant time) and read the fields; raises
        ``InvalidCallback``. ``params`` is the form merged with the query string."""

    def acknowledgement(self, accepted: bool) -> Acknowledgement:
        """The body the provider expects so that it stops retrying (or retries)."""

    async def query_order(self, order_id: str) -> ProviderOrderStatus:
        """Ask the provider about one of our orders; raises ``PaymentProviderFailed``."""
