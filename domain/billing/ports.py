"""What billing needs from the outside world. The payment-provider port is shared by every
provider client (yipay/epay, hupijiao, ldcpay in ``integrations/payments``; the dev-only
mock)."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from domain import uow
from domain.accounts.ports import UserRepository
from domain.apikeys.ports import ApiKeyRepository
from domain.billing.model import (
    ExtraUsageSettings,
    Invoice,
    LedgerEntry,
    Order,
    OverageEvent,
    OverageMonth,
    Refund,
    Subscription,
    Wallet,
)
from domain.billing.money import Money
from domain.paging import Page
from domain.quota.plans import Plan

if TYPE_CHECKING:  # -- payments (issue 16) --
    from domain.billing.callbacks import CallbackFilter, CallbackRecord
    from domain.billing.channels import Channel, OfferedChannel


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


# -- billing's stores ---------------------------------------------------------------------


class OrderRepository(Protocol):
    """Part of the unit of work (``uow.orders``)."""

    async def add(self, order: Order) -> bool:
        """Insert; ``False`` (and nothing written) when the user already has an order with
        this idempotency key."""

    async def get(self, order_id: str) -> Order | None: ...

    async def get_for_update(self, order_id: str) -> Order | None:
        """Like ``get``, locking the order until the unit of work ends."""

    async def by_idempotency_key(self, user_id: str, key: str) -> Order | None: ...

    async def update(self, order: Order) -> None: ...

    async def list_for_user(self, user_id: str, *, limit: int, offset: int) -> Page[Order]:
        """Newest first."""

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        """Ids of pending or paying orders whose ``expires_at`` has passed."""

    async def paying_since(self, before: datetime, limit: int) -> list[str]:
        """Ids of ``paying`` orders created at or before ``before``, oldest first (payment
        reconciliation, worker issue 17)."""


class WalletRepository(Protocol):
    """Part of the unit of work (``uow.wallets``): balances, one per user and currency."""

    async def get(self, user_id: str, currency: str) -> Wallet | None: ...

    async def lock(self, user_id: str, currency: str, now: datetime) -> Wallet:
        """The wallet, created at zero when missing, locked until the unit of work ends:
        every change of a balance reads it through here."""

    async def save(self, wallet: Wallet) -> None:
        """Store the new balance (never negative: the store refuses it too)."""

    async def list_for_user(self, user_id: str) -> list[Wallet]: ...


class LedgerRepository(Protocol):
    """Part of the unit of work (``uow.ledger``): append-only."""

    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        """Add the line; returns it with its ``seq``."""

    async def by_idempotency_key(self, key: str) -> LedgerEntry | None: ...

    async def list_for_user(
        self, user_id: str, currency: str | None, *, limit: int, offset: int
    ) -> Page[LedgerEntry]:
        """Newest first."""

    async def total(self, user_id: str, currency: str) -> int:
        """The sum of the user's lines in ``currency`` (equals the balance)."""


class BillingSettingsRepository(Protocol):
    """Part of the unit of work (``uow.billing_settings``): JSON documents by key."""

    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def get_for_update(self, key: str) -> dict[str, Any] | None:
        """-- payments (issue 16) -- ``get``, locking the document until the unit of work
        ends (a read-modify-write of the payment channels)."""

    async def put(self, key: str, value: dict[str, Any], now: datetime) -> None: ...


class SubscriptionRepository(Protocol):
    """Part of the unit of work (``uow.subscriptions``): one current subscription per user."""

    async def get(self, user_id: str) -> Subscription | None: ...

    async def get_for_update(self, user_id: str) -> Subscription | None: ...

    async def save(self, subscription: Subscription) -> None:
        """Insert or replace the user's subscription."""

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Users whose live subscription's period (or grace) has ended by ``now``."""


class InvoiceRepository(Protocol):
    """Part of the unit of work (``uow.invoices``)."""

    async def add(self, invoice: Invoice) -> Invoice:
        """Insert; returns it with its ``seq`` (its number)."""

    async def get(self, invoice_id: str) -> Invoice | None: ...

    async def by_order(self, order_id: str) -> Invoice | None: ...

    async def list_for_user(self, user_id: str, *, limit: int, offset: int) -> Page[Invoice]:
        """Newest first."""


class RefundRepository(Protocol):
    """Part of the unit of work (``uow.refunds``)."""

    async def add(self, refund: Refund) -> None: ...

    async def by_key(self, order_id: str, key: str) -> Refund | None: ...

    async def list_for_order(self, order_id: str) -> list[Refund]: ...


class OverageRepository(Protocol):
    """Part of the unit of work (``uow.overage``): extra-usage settings and months."""

    async def settings(self, user_id: str) -> ExtraUsageSettings | None: ...

    async def save_settings(self, settings: ExtraUsageSettings) -> None: ...

    async def month(self, user_id: str, year_month: str) -> OverageMonth | None: ...

    async def save_month(self, month: OverageMonth) -> None: ...

    async def add_event(self, event: OverageEvent) -> None: ...

    async def months(self, user_id: str, *, limit: int, offset: int) -> Page[OverageMonth]:
        """Newest first."""

    async def events(self, user_id: str, *, limit: int, offset: int) -> Page[OverageEvent]:
        """Newest first."""


class UnitOfWork(uow.UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def overage(self) -> OverageRepository: ...

    @property
    def invoices(self) -> InvoiceRepository: ...

    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def subscriptions(self) -> SubscriptionRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def orders(self) -> OrderRepository: ...

    @property
    def wallets(self) -> WalletRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def billing_settings(self) -> BillingSettingsRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]


class AdminViewUnitOfWork(uow.UnitOfWork, Protocol):
    """What an admin's view of a user reads: the user, their keys, their wallets."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def wallets(self) -> WalletRepository: ...


AdminViewUnitOfWorkFactory = uow.UnitOfWorkFactory[AdminViewUnitOfWork]


class PlanStore(Protocol):
    """The plan catalog's writes (the quota gate reads it through ``PlanCatalog``)."""

    async def get(self, plan_id: str) -> Plan | None: ...

    async def list_all(self) -> list[Plan]:
        """Every plan, deleted (inactive) ones included, by ``sort_order``."""

    async def save(self, plan: Plan, now: datetime) -> None:
        """Insert or replace the plan."""


class Broadcast(Protocol):
    """Tells every process that something changed (Redis pub/sub, or this process)."""

    async def publish(self, item: str) -> None: ...


class Subscribable(Protocol):
    def subscribe(self) -> AsyncIterator[str]: ...


# -- payments (issue 16) -------------------------------------------------------------------


class CallbackStore(Protocol):
    """Raw callbacks with their verdicts (``payment_callbacks``)."""

    async def add(self, record: CallbackRecord) -> None: ...

    async def update(self, record: CallbackRecord) -> None:
        """Store the verdict fields of ``record`` (matched by id)."""

    async def get(self, record_id: str) -> CallbackRecord | None: ...

    async def list(self, flt: CallbackFilter, *, limit: int, offset: int) -> Page[CallbackRecord]:
        """Newest first."""


class ChannelGuard(Protocol):
    """What the callback path needs to know of a configured channel."""

    def allows(self, provider: str, ip: str | None) -> bool:
        """May a callback of ``provider`` from ``ip`` be processed (its allow list)?"""

    def secrets(self, provider: str) -> Collection[str]:
        """The channel's configured secret values (to keep them out of stored bodies)."""


class BuiltChannel(Protocol):
    @property
    def provider(self) -> PaymentProvider: ...

    def allows(self, ip: str | None) -> bool: ...


class ChannelFactory(Protocol):
    """Builds a provider client from a channel's fields (``integrations.payments``);
    raises ``InvalidInput`` naming the field that is missing or malformed."""

    def build(self, channel: Channel) -> BuiltChannel: ...

    def display(self, provider: str) -> OfferedChannel: ...
