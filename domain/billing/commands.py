"""What callers ask of billing (both edges build these)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class CreateOrder:
    plan_id: str
    payment_provider: str
    success_url: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class CreateTopup:
    amount_cents: int
    payment_provider: str
    success_url: str | None = None
    idempotency_key: str | None = None
    currency: str | None = None
    """Default: the configured default currency."""


class BalanceOperation(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"
    SET = "set"


@dataclass(frozen=True, slots=True)
class AdjustBalance:
    """A superadmin's movement of a user's money (``credit``/``debit`` by ``amount_cents``,
    or ``set`` the balance to it)."""

    user_id: str
    operation: BalanceOperation
    amount_cents: int
    description: str = ""
    reference: str = ""
    currency: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class PlanChanges:
    """A plan as ``PUT /v1/billing/plans/:id`` gives it (the original's DynamicPlan)."""

    plan_id: str
    name: str
    description: str = ""
    price_cents: int = 0
    currency: str = "CNY"
    period: str = "monthly"
    qps: int = 0
    daily_limit: int = 0
    monthly_limit: int = 0
    soft_limit_pct: int = 80
    pay_as_you_go: bool = False
    overage_price_per_1k: int = 0
    sort_order: int = 0


@dataclass(frozen=True, slots=True)
class CurrencySettings:
    default_currency: object
    rates: tuple[tuple[object, object], ...]


@dataclass(frozen=True, slots=True)
class RefundOrder:
    order_id: str
    reason: str
    refund_type: str = "full"
    amount: str | None = None
    """Partial refunds: how much, in the order currency's major units (``"10.00"``)."""
    idempotency_key: str | None = None
