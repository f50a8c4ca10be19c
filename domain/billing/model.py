"""Billing's entities and value objects: orders with the original's state machine, the
wallet and its append-only ledger, the currency configuration."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from domain.billing.errors import InvalidOrderTransition
from domain.billing.money import Money

ORDER_TTL = timedelta(minutes=30)
DEFAULT_CURRENCY = "CNY"


class OrderStatus(enum.StrEnum):
    PENDING = "pending"
    PAYING = "paying"
    PAID = "paid"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    REFUNDED = "refunded"


class OrderEvent(enum.StrEnum):
    PAY_START = "pay_start"
    USER_CANCEL = "user_cancel"
    TIMEOUT = "timeout"
    CALLBACK_OK = "callback_ok"
    CALLBACK_FAIL = "callback_fail"
    FULFILL = "fulfill"
    REFUND = "refund"


S, E = OrderStatus, OrderEvent
TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    (S.PENDING, E.PAY_START): S.PAYING,
    (S.PENDING, E.USER_CANCEL): S.CANCELED,
    (S.PENDING, E.TIMEOUT): S.EXPIRED,
    (S.PAYING, E.CALLBACK_OK): S.PAID,
    (S.PAYING, E.CALLBACK_FAIL): S.FAILED,
    (S.PAYING, E.TIMEOUT): S.EXPIRED,
    (S.PAID, E.FULFILL): S.COMPLETED,
    (S.COMPLETED, E.REFUND): S.REFUNDED,
}
"""The original's order state machine (``order.go``), plus ``refunded`` after completion."""

OPEN_STATUSES = frozenset({S.PENDING, S.PAYING})
"""Orders a payment may still complete."""


def next_status(status: OrderStatus, event: OrderEvent) -> OrderStatus:
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidOrderTransition(f"an order that is {status} cannot {event}") from None


class OrderPurpose(enum.StrEnum):
    SUBSCRIPTION = "subscription"
    TOPUP = "topup"


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    user_id: str
    purpose: OrderPurpose
    plan_id: str | None
    """The plan bought (subscription orders); ``None`` for a top-up."""
    amount_minor: int
    """What the provider charges, in ``currency``'s minor unit: the same integer is sent
    to the provider, stored here and compared with the callback's amount."""
    currency: str
    status: OrderStatus
    payment_provider: str
    idempotency_key: str
    fingerprint: str
    """A digest of the parameters the order was made with (same key, other parameters:
    refused)."""
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None = None
    completed_at: datetime | None = None
    pay_url: str = ""
    success_url: str = ""
    provider_order_id: str | None = None
    provider_txn_id: str | None = None
    original_amount_minor: int | None = None
    """Before conversion (FX orders): the plan's price or the top-up, in
    ``original_currency``."""
    original_currency: str | None = None
    fx_rate: str | None = None
    """Units of ``currency`` per unit of ``original_currency`` (a decimal, as text)."""
    refunded_minor: int = 0

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def credited(self) -> Money:
        """What the order is worth in the buyer's own currency (the original amount of an
        FX order): what a top-up credits to the wallet."""
        if self.original_amount_minor is not None and self.original_currency is not None:
            return Money(self.original_amount_minor, self.original_currency)
        return self.amount

    def moved(self, event: OrderEvent, **changes: Any) -> Order:
        return dataclasses.replace(self, status=next_status(self.status, event), **changes)

    def with_changes(self, **changes: Any) -> Order:
        return dataclasses.replace(self, **changes)

    def overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.expires_at <= now


class EntryKind(enum.StrEnum):
    TOPUP = "topup"
    SUBSCRIPTION = "subscription"
    OVERAGE = "overage"
    REFUND = "refund"
    ADJUST = "adjust"


@dataclass(frozen=True, slots=True)
class Wallet:
    """One balance per user and currency; never negative."""

    user_id: str
    currency: str
    balance_minor: int
    version: int
    updated_at: datetime

    @property
    def balance(self) -> Money:
        return Money(self.balance_minor, self.currency)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One append-only line of a wallet's ledger; corrections are new lines."""

    id: str
    user_id: str
    currency: str
    amount_minor: int
    """Signed: credits positive, debits negative."""
    kind: EntryKind
    balance_after_minor: int
    idempotency_key: str
    """Unique across the ledger: posting twice with the same key returns the first line."""
    created_at: datetime
    order_id: str | None = None
    reference: str = ""
    description: str = ""
    actor: str | None = None
    seq: int = 0
    """Assigned by the store: the ledger's order."""

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    code: str
    rate: Decimal
    """1 unit of ``code`` = ``rate`` units of the default currency."""


@dataclass(frozen=True, slots=True)
class CurrencyConfig:
    default_currency: str
    rates: tuple[ExchangeRate, ...]
    updated_at: datetime | None = None

    def rate_of(self, code: str) -> Decimal | None:
        if code == self.default_currency:
            return Decimal(1)
        return next((r.rate for r in self.rates if r.code == code), None)


DEFAULT_CURRENCY_CONFIG = CurrencyConfig(DEFAULT_CURRENCY, ())


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELED = "canceled"
    EXPIRED = "expired"
    PAST_DUE = "past_due"


class SubscriptionSource(enum.StrEnum):
    PURCHASE = "purchase"
    GRANT = "grant"
    """An admin's ``POST /v1/admin/users/:id/plan``: no period end, until changed."""


LIVE_SUBSCRIPTION = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE})
"""The statuses in which the subscription's plan is the user's plan."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's subscription (one per user: the current one)."""

    id: str
    user_id: str
    plan_id: str
    period: str
    status: SubscriptionStatus
    source: SubscriptionSource
    current_period_start: datetime
    current_period_end: datetime | None
    """``None``: it never ends (lifetime plans, admin grants)."""
    anchor_day: int
    cancel_at_period_end: bool
    auto_renew: bool
    created_at: datetime
    updated_at: datetime
    grace_until: datetime | None = None
    """While ``past_due``: when the subscription expires unless a renewal succeeds."""
    last_order_id: str | None = None

    def with_changes(self, **changes: Any) -> Subscription:
        return dataclasses.replace(self, **changes)

    @property
    def live(self) -> bool:
        return self.status in LIVE_SUBSCRIPTION


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: int
    unit_amount_minor: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Invoice:
    """One per paid order, numbered in the order they were issued."""

    id: str
    user_id: str
    order_id: str
    buyer_email: str
    currency: str
    total_minor: int
    lines: tuple[InvoiceLine, ...]
    issued_at: datetime
    paid_at: datetime
    payment_provider: str
    seq: int = 0
    """Assigned by the store; the invoice number is made from it."""

    @property
    def number(self) -> str:
        return f"KRP-{self.issued_at.year}-{self.seq:06d}"

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)


class RefundType(enum.StrEnum):
    FULL = "full"
    PARTIAL = "partial"


@dataclass(frozen=True, slots=True)
class Refund:
    """What Karpov recorded of a refund; returning the money through the payment provider
    is done outside Karpov (the provider's merchant console)."""

    id: str
    order_id: str
    user_id: str
    amount_minor: int
    currency: str
    refund_type: RefundType
    reason: str
    idempotency_key: str
    operator: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ExtraUsageSettings:
    user_id: str
    enabled: bool
    monthly_cap_minor: int
    """0 = no cap."""
    notify_threshold_pct: int
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OverageMonth:
    """A user's pay-as-you-go month so far: the units beyond the plan and what they cost."""

    user_id: str
    year_month: str
    plan_id: str
    count: int
    units: int
    amount_minor: int
    currency: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OverageEvent:
    id: str
    user_id: str
    year_month: str
    operation: str
    plan_id: str
    units: int
    price_minor: int
    """What this call debited (the difference in the month's cost)."""
    currency: str
    occurred_at: datetime
