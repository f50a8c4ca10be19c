"""GraphQL types of billing: every amount is ``Money {amountMinor, currency, formatted}``
(integer minor units, never a float); lists are connections."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, NewType

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.scalar import ScalarDefinition

from domain.billing import commands, model, refunds, subscriptions
from domain.billing import money as money_model
from domain.billing import overage as overage_model
from domain.quota.plans import Plan
from resolvers import billing as billing_resolvers
from resolvers import ids
from resolvers.context import Context
from schema.describe import describe_values
from schema.errors import UserError
from schema.pagination import connection, page_window
from schema.types.node import Node, PageInfo

if TYPE_CHECKING:
    BigInt = int
else:
    BigInt = NewType("BigInt", int)
    """An integer that may exceed 32 bits; its scalar is in ``SCALAR_MAP``."""


def _big_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("BigInt must be an integer")
    return value


SCALAR_MAP: dict[object, ScalarDefinition] = {
    BigInt: strawberry.scalar(
        name="BigInt",
        serialize=int,
        parse_value=_big_int,
        description="An integer that may exceed 32 bits (minor units of money, large limits); "
        "a JSON number.",
    )
}
"""The schema's custom scalars (``StrawberryConfig.scalar_map``)."""


@strawberry.type(description="An amount of money: an integer count of the currency's minor "
                 "unit (fen for CNY), and the same in major units as text.")  # fmt: skip
class Money:
    amount_minor: BigInt = strawberry.field(
        description="The amount in the currency's minor units (cents, fen)."
    )
    currency: str = strawberry.field(description="The ISO 4217 currency code (e.g. `CNY`).")
    formatted: str = strawberry.field(description='Major units, the currency\'s decimals: "13.89".')

    @classmethod
    def from_domain(cls, amount: money_model.Money, ctx: Context | None = None) -> Money:
        return cls(amount_minor=amount.amount_minor, currency=amount.currency,
                   formatted=amount.formatted())  # fmt: skip


@strawberry.type(description="A plan: its price and the limits it gives every key of its users.")
class BillingPlan:
    id: str = strawberry.field(description="The plan's id (e.g. `free`, `pro`).")
    name: str = strawberry.field(description="The plan's name for people.")
    description: str = strawberry.field(description="What the plan is, for people.")
    price: Money = strawberry.field(description="What one period costs.")
    period: str = strawberry.field(description="monthly, yearly or lifetime.")
    qps: int = strawberry.field(description="Requests per second for each key; 0 = unlimited.")
    daily_limit: BigInt = strawberry.field(description="Units per day; 0 = unlimited.")
    monthly_limit: BigInt = strawberry.field(description="Units per month; 0 = unlimited.")
    soft_limit_pct: int = strawberry.field(
        description="The share of a limit (percent) past which the user is warned."
    )
    pay_as_you_go: bool = strawberry.field(
        description=(
            "Whether calls past the monthly limit are charged to the wallet instead of refused."
        )
    )
    overage_price_per_1k: Money = strawberry.field(
        description="The price of 1,000 units beyond the monthly limit (pay-as-you-go plans)."
    )
    sort_order: int = strawberry.field(description="Where the plan is listed (lowest first).")
    is_active: bool = strawberry.field(description="Whether the plan is still offered.")

    @classmethod
    def from_domain(cls, plan: Plan, ctx: Context | None = None) -> BillingPlan:
        return cls(
            id=plan.id, name=plan.name, description=plan.description,
            price=Money.from_domain(money_model.Money(plan.price_cents, plan.currency)),
            period=plan.period, qps=plan.qps, daily_limit=plan.daily_limit,
            monthly_limit=plan.monthly_limit, soft_limit_pct=plan.soft_limit_pct,
            pay_as_you_go=plan.pay_as_you_go,
            overage_price_per_1k=Money.from_domain(
                money_model.Money(plan.overage_price_per_1k, plan.currency)
            ),
            sort_order=plan.sort_order, is_active=plan.is_active,
        )  # fmt: skip


# -- plan references (issue 11): a `plan` object beside each `planId` string ------------

PLAN_ID_DEPRECATED = "Use `plan` (the BillingPlan itself) instead of its id."


def plan_loader(ctx: Context) -> DataLoader[str, Plan | None]:
    """Plans reached through other objects, each read once per request."""
    found = ctx.loaders.get("plans")
    if found is None:

        async def load(plan_ids: list[str]) -> list[Plan | None]:
            return [await billing_resolvers.billing_plan(ctx, p) for p in plan_ids]

        found = ctx.loaders["plans"] = DataLoader(load_fn=load)
    return found


@strawberry.type
class PlanRef:
    """The ``plan`` field of a type that names a plan by ``plan_id``."""

    @strawberry.field(description="The plan (null when its id names no plan any more).")
    async def plan(self, info: strawberry.Info) -> BillingPlan | None:
        plan_id: str | None = getattr(self, "plan_id", None)
        if plan_id is None:
            return None
        found = await plan_loader(info.context).load(plan_id)
        return None if found is None else BillingPlan.from_domain(found)


@strawberry.enum(description="Where an order is in its life.")
class OrderStatus(Enum):
    PENDING = "pending"
    PAYING = "paying"
    PAID = "paid"
    COMPLETED = "completed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    REFUNDED = "refunded"


describe_values(
    OrderStatus,
    {
        "PENDING": "Created, not yet sent to the provider.",
        "PAYING": "Waiting for the buyer to pay.",
        "PAID": "Paid; delivery is under way.",
        "COMPLETED": "Paid and delivered.",
        "FAILED": "The payment failed.",
        "EXPIRED": "Not paid in time.",
        "CANCELED": "Canceled before payment.",
        "REFUNDED": "Refunded after completion.",
    },
)


@strawberry.enum(description="What an order buys.")
class OrderPurpose(Enum):
    SUBSCRIPTION = "subscription"
    TOPUP = "topup"


describe_values(
    OrderPurpose,
    {
        "SUBSCRIPTION": "A plan.",
        "TOPUP": "Money for the wallet.",
    },
)


@strawberry.enum(
    description="A payment provider. `paymentChannels` lists the ones a buyer may pay with "
    "on this server."
)
class PaymentProviderName(Enum):
    YIPAY = "yipay"
    HUPIJIAO = "hupijiao"
    LDCPAY = "ldcpay"
    MOCK = "mock"


describe_values(
    PaymentProviderName,
    {
        "YIPAY": "yipay: an epay (易支付) gateway; Alipay, WeChat Pay, QQ Wallet.",
        "HUPIJIAO": "hupijiao (虎皮椒, XunhuPay): WeChat Pay or Alipay.",
        "LDCPAY": "ldcpay: Linux Credit (credit.linux.do), charged in LDC.",
        "MOCK": "mock: the development-only cashier; refused where it is not enabled.",
    },
)


def payment_provider_name(name: str) -> PaymentProviderName:
    """The enum value of a stored provider name. Every stored name is one of them: orders,
    invoices and callbacks take the name of a registered provider (the channels of
    ``domain.billing.channels.CHANNEL_FIELDS`` and the mock), never the caller's text."""
    return PaymentProviderName(name)


@strawberry.type(description="An order: a plan or a top-up bought through a payment provider.")
class Order(PlanRef, Node):
    raw_id: strawberry.Private[str]
    plan_id: str | None = strawberry.field(
        description="The plan bought (null for a top-up).", deprecation_reason=PLAN_ID_DEPRECATED
    )
    purpose: OrderPurpose = strawberry.field(description="What the order buys.")
    amount: Money = strawberry.field(description="What the provider charges.")
    original_amount: Money | None = strawberry.field(
        description="Before conversion to the provider's currency (FX orders)."
    )
    fx_rate: str | None = strawberry.field(description="Provider currency per original unit.")
    status: OrderStatus = strawberry.field(description="Where the order is in its life.")
    payment_provider: PaymentProviderName = strawberry.field(
        description="The payment provider it is paid through."
    )
    pay_url: str = strawberry.field(description="Where to send the buyer to pay.")
    created_at: datetime = strawberry.field(description="When it was created.")
    expires_at: datetime = strawberry.field(description="When an unpaid order expires.")
    paid_at: datetime | None = strawberry.field(description="When the provider reported it paid.")
    completed_at: datetime | None = strawberry.field(
        description="When what it bought was delivered."
    )

    @classmethod
    def from_domain(cls, order: model.Order, ctx: Context | None = None) -> Order:
        original = order.credited if order.original_amount_minor is not None else None
        return cls(
            id=strawberry.ID(ids.to_global_id("Order", order.id)), raw_id=order.id,
            plan_id=order.plan_id, purpose=OrderPurpose(order.purpose.value),
            amount=Money.from_domain(order.amount),
            original_amount=Money.from_domain(original) if original is not None else None,
            fx_rate=order.fx_rate, status=OrderStatus(order.status.value),
            payment_provider=payment_provider_name(order.payment_provider), pay_url=order.pay_url,
            created_at=order.created_at, expires_at=order.expires_at, paid_at=order.paid_at,
            completed_at=order.completed_at,
        )  # fmt: skip


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    nodes: list[Order]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="A wallet: one balance per user and currency.")
class Wallet:
    user_id: strawberry.ID = strawberry.field(description="The wallet's owner.")
    balance: Money = strawberry.field(description="What is in it.")
    version: int = strawberry.field(
        description="Bumped on every movement (for optimistic concurrency)."
    )
    updated_at: datetime = strawberry.field(description="When it last moved.")

    @classmethod
    def from_domain(cls, wallet: model.Wallet, ctx: Context | None = None) -> Wallet:
        return cls(
            user_id=strawberry.ID(ids.to_global_id("User", wallet.user_id)),
            balance=Money.from_domain(wallet.balance), version=wallet.version,
            updated_at=wallet.updated_at,
        )  # fmt: skip


@strawberry.enum(description="What moved money in a wallet.")
class LedgerEntryKind(Enum):
    TOPUP = "topup"
    SUBSCRIPTION = "subscription"
    OVERAGE = "overage"
    REFUND = "refund"
    ADJUST = "adjust"


describe_values(
    LedgerEntryKind,
    {
        "TOPUP": "A paid top-up.",
        "SUBSCRIPTION": "A plan paid from the wallet.",
        "OVERAGE": "Pay-as-you-go calls past the monthly limit.",
        "REFUND": "A refund.",
        "ADJUST": "An admin's adjustment.",
    },
)


@strawberry.type(description="One line of a wallet's append-only ledger.")
class LedgerEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    kind: LedgerEntryKind = strawberry.field(description="What moved the money.")
    amount: Money = strawberry.field(description="Signed: credits positive, debits negative.")
    balance_after: Money = strawberry.field(description="The balance just after it.")
    order_id: str | None = strawberry.field(
        description="The order it belongs to, when there is one."
    )
    reference: str = strawberry.field(
        description="An outside reference (e.g. a provider transaction)."
    )
    description: str = strawberry.field(description="What it was, for people.")
    created_at: datetime = strawberry.field(description="When it was posted.")

    @classmethod
    def from_domain(cls, entry: model.LedgerEntry, ctx: Context | None = None) -> LedgerEntry:
        return cls(
            id=strawberry.ID(entry.id), kind=LedgerEntryKind(entry.kind.value),
            amount=Money.from_domain(entry.amount),
            balance_after=Money.from_domain(
                money_model.Money(entry.balance_after_minor, entry.currency)
            ),
            order_id=entry.order_id, reference=entry.reference, description=entry.description,
            created_at=entry.created_at,
        )  # fmt: skip


@strawberry.type
class LedgerEntryEdge:
    cursor: str
    node: LedgerEntry


@strawberry.type
class LedgerEntryConnection:
    edges: list[LedgerEntryEdge]
    nodes: list[LedgerEntry]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="How much of a currency one unit of the default currency buys.")
class ExchangeRate:
    code: str = strawberry.field(description="The currency (ISO 4217).")
    rate: str = strawberry.field(description="1 unit of code = rate units of the default.")


@strawberry.type(description="The default currency and the exchange rates.")
class CurrencySettings:
    default_currency: str = strawberry.field(
        description="The currency prices are in and wallets default to."
    )
    rates: list[ExchangeRate] = strawberry.field(
        description="Exchange rates to the default currency."
    )
    updated_at: datetime | None = strawberry.field(description="When they last changed.")

    @classmethod
    def from_domain(
        cls, config: model.CurrencyConfig, ctx: Context | None = None
    ) -> CurrencySettings:
        return cls(
            default_currency=config.default_currency,
            rates=[ExchangeRate(code=r.code, rate=str(r.rate)) for r in config.rates],
            updated_at=config.updated_at,
        )


@strawberry.type(description="The viewer's plan.")
class MyPlan:
    user_id: strawberry.ID = strawberry.field(description="The viewer.")
    plan: BillingPlan = strawberry.field(description="The plan (the free plan when none is set).")

    @classmethod
    def from_domain(cls, value: tuple[str, Plan], ctx: Context | None = None) -> MyPlan:
        user_id, plan = value
        return cls(
            user_id=strawberry.ID(ids.to_global_id("User", user_id)),
            plan=BillingPlan.from_domain(plan),
        )


# -- inputs ----------------------------------------------------------------------------


@strawberry.input
class OrderCreateInput:
    plan_id: str = strawberry.field(description="The plan to buy (`BillingPlan.id`).")
    payment_provider: PaymentProviderName = strawberry.field(
        description="The payment provider (see `paymentChannels`)."
    )
    success_url: str | None = strawberry.field(
        default=None, description="Where the provider sends the buyer after paying."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Or the Idempotency-Key header (which wins)."
    )

    def to_command(self) -> commands.CreateOrder:
        return commands.CreateOrder(self.plan_id, self.payment_provider.value,
                                    self.success_url, self.idempotency_key)  # fmt: skip


@strawberry.input
class TopupCreateInput:
    amount_cents: BigInt = strawberry.field(description="100 to 100,000,000 minor units.")
    payment_provider: PaymentProviderName = strawberry.field(
        description="The payment provider (see `paymentChannels`)."
    )
    success_url: str | None = strawberry.field(
        default=None, description="Where the provider sends the buyer after paying."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key returns the same order instead of a second one."
    )
    currency: str | None = strawberry.field(
        default=None, description="The currency of the amount; default: the default currency."
    )

    def to_command(self) -> commands.CreateTopup:
        return commands.CreateTopup(
            self.amount_cents, self.payment_provider.value, self.success_url,
            self.idempotency_key, self.currency,
        )  # fmt: skip


@strawberry.input
class BillingPlanInput:
    id: str = strawberry.field(description="The plan's id; an existing id replaces that plan.")
    name: str = strawberry.field(description="The plan's name for people.")
    description: str = strawberry.field(default="", description="What the plan is.")
    price_cents: BigInt = strawberry.field(
        default=0, description="The price of one period in minor units."
    )
    currency: str = strawberry.field(default="CNY", description="The price's currency (ISO 4217).")
    period: str = strawberry.field(default="monthly", description="monthly, yearly or lifetime.")
    qps: int = strawberry.field(
        default=0, description="Requests per second for each key; 0 = unlimited."
    )
    daily_limit: BigInt = strawberry.field(default=0, description="Units per day; 0 = unlimited.")
    monthly_limit: BigInt = strawberry.field(
        default=0, description="Units per month; 0 = unlimited."
    )
    soft_limit_pct: int = strawberry.field(
        default=80, description="The share of a limit (percent) past which to warn."
    )
    pay_as_you_go: bool = strawberry.field(
        default=False,
        description="Whether calls past the monthly limit are charged instead of refused.",
    )
    overage_price_per_1k: BigInt = strawberry.field(
        default=0, description="The price of 1,000 units past the monthly limit, in minor units."
    )
    sort_order: int = strawberry.field(
        default=0, description="Where the plan is listed (lowest first)."
    )

    def to_command(self) -> commands.PlanChanges:
        return commands.PlanChanges(
            plan_id=self.id, name=self.name, description=self.description,
            price_cents=self.price_cents, currency=self.currency, period=self.period,
            qps=self.qps, daily_limit=self.daily_limit, monthly_limit=self.monthly_limit,
            soft_limit_pct=self.soft_limit_pct, pay_as_you_go=self.pay_as_you_go,
            overage_price_per_1k=self.overage_price_per_1k, sort_order=self.sort_order,
        )  # fmt: skip


@strawberry.input
class BillingPlanDeleteInput:
    id: str = strawberry.field(description="The plan's id.")


@strawberry.input(description="How much of a currency one unit of the default currency buys.")
class ExchangeRateInput:
    code: str = strawberry.field(description="The currency (ISO 4217).")
    rate: str = strawberry.field(description="The rate, as a decimal string (e.g. `0.1389`).")


@strawberry.input
class CurrencySettingsInput:
    default_currency: str = strawberry.field(description="The currency prices are in (ISO 4217).")
    rates: list[ExchangeRateInput] = strawberry.field(
        default_factory=list, description="Every exchange rate (replaces them all)."
    )

    def to_command(self) -> commands.CurrencySettings:
        return commands.CurrencySettings(
            self.default_currency, tuple((r.code, r.rate) for r in self.rates)
        )


@strawberry.input
class BalanceAdjustInput:
    user_id: strawberry.ID = strawberry.field(description="Whose wallet.")
    amount_cents: BigInt = strawberry.field(description="Positive credits, negative debits.")
    description: str = strawberry.field(default="", description="Why, for the ledger.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key does the adjustment once."
    )


@strawberry.enum(description="How an admin changes a wallet.")
class BalanceOperation(Enum):
    CREDIT = "credit"
    DEBIT = "debit"
    SET = "set"


describe_values(
    BalanceOperation,
    {
        "CREDIT": "Add the amount.",
        "DEBIT": "Take the amount away.",
        "SET": "Make the balance the amount.",
    },
)


@strawberry.input
class AdminUserBalanceUpdateInput:
    user_id: strawberry.ID = strawberry.field(description="Whose wallet.")
    operation: BalanceOperation = strawberry.field(description="Credit, debit or set.")
    amount_cents: BigInt = strawberry.field(
        description="The amount in minor units (the new balance for SET)."
    )
    description: str = strawberry.field(default="", description="Why, for the ledger.")
    reference: str = strawberry.field(
        default="", description="An outside reference, for the ledger."
    )
    currency: str | None = strawberry.field(
        default=None, description="The wallet's currency; default: the default currency."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key does the update once."
    )

    def to_command(self) -> commands.AdjustBalance:
        return commands.AdjustBalance(
            user_id=str(self.user_id),
            operation=commands.BalanceOperation(self.operation.value),
            amount_cents=self.amount_cents, description=self.description,
            reference=self.reference, currency=self.currency,
            idempotency_key=self.idempotency_key,
        )  # fmt: skip


# -- payloads --------------------------------------------------------------------------


@strawberry.interface(
    description="What "
    "`orderCreate`, `topupCreate`, `orderReconcile` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class OrderPayload:
    order: Order | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; OrderPayload was shared.
@strawberry.type(description="The result of `orderCreate`.")
class OrderCreatePayload(OrderPayload):
    pass


@strawberry.type(description="The result of `topupCreate`.")
class TopupCreatePayload(OrderPayload):
    pass


@strawberry.type(description="The result of `orderReconcile`.")
class OrderReconcilePayload(OrderPayload):
    pass


@strawberry.interface(
    description="What "
    "`billingPlanSave`, `billingPlanDelete` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class BillingPlanPayload:
    plan: BillingPlan | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; BillingPlanPayload was shared.
@strawberry.type(description="The result of `billingPlanSave`.")
class BillingPlanSavePayload(BillingPlanPayload):
    pass


@strawberry.type(description="The result of `billingPlanDelete`.")
class BillingPlanDeletePayload(BillingPlanPayload):
    pass


@strawberry.type
class CurrencySettingsPayload:
    settings: CurrencySettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.interface(
    description="What "
    "`balanceAdjust`, `adminUserBalanceUpdate` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class BalanceMovementPayload:
    wallet: Wallet | None = None
    entry: LedgerEntry | None = strawberry.field(
        default=None, description="The ledger line posted (none for a set to the same value)."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; BalanceMovementPayload was shared.
@strawberry.type(description="The result of `balanceAdjust`.")
class BalanceAdjustPayload(BalanceMovementPayload):
    pass


@strawberry.type(description="The result of `adminUserBalanceUpdate`.")
class AdminUserBalanceUpdatePayload(BalanceMovementPayload):
    pass


@strawberry.enum(description="Whether a subscription is in force.")
class SubscriptionStatus(Enum):
    ACTIVE = "active"
    CANCELED = "canceled"
    EXPIRED = "expired"
    PAST_DUE = "past_due"


describe_values(
    SubscriptionStatus,
    {
        "ACTIVE": "In force.",
        "CANCELED": "Canceled: in force until its period ends.",
        "EXPIRED": "Ended.",
        "PAST_DUE": "A renewal failed: in force until its grace period ends.",
    },
)


@strawberry.enum(description="How a subscription came about.")
class SubscriptionSource(Enum):
    PURCHASE = "purchase"
    GRANT = "grant"


describe_values(
    SubscriptionSource,
    {
        "PURCHASE": "A paid order.",
        "GRANT": "An admin's grant.",
    },
)


@strawberry.type(description="My subscription: the plan I pay for, and its current period.")
class BillingSubscription(PlanRef, Node):
    raw_id: strawberry.Private[str]
    plan_id: str = strawberry.field(
        description="The plan subscribed to.", deprecation_reason=PLAN_ID_DEPRECATED
    )
    period: str = strawberry.field(description="The billing period: monthly, yearly or lifetime.")
    status: SubscriptionStatus = strawberry.field(
        description="Whether the subscription is in force."
    )
    source: SubscriptionSource = strawberry.field(description="How it came about.")
    current_period_start: datetime = strawberry.field(description="When the current period began.")
    current_period_end: datetime | None = strawberry.field(
        description="Null: it never ends (lifetime plans, admin grants)."
    )
    cancel_at_period_end: bool = strawberry.field(
        description="Whether it ends at the period end instead of renewing."
    )
    auto_renew: bool = strawberry.field(description="Renew from the wallet at the period end.")
    grace_until: datetime | None = strawberry.field(
        description="While past due: when it expires unless a renewal succeeds."
    )

    @classmethod
    def from_domain(
        cls, sub: model.Subscription, ctx: Context | None = None
    ) -> BillingSubscription:
        return cls(
            id=strawberry.ID(ids.to_global_id("Subscription", sub.id)), raw_id=sub.id,
            plan_id=sub.plan_id, period=sub.period, status=SubscriptionStatus(sub.status.value),
            source=SubscriptionSource(sub.source.value),
            current_period_start=sub.current_period_start,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end, auto_renew=sub.auto_renew,
            grace_until=sub.grace_until,
        )  # fmt: skip


@strawberry.type(description="A plan an admin put a user on.")
class PlanGrant(PlanRef):
    plan_id: str = strawberry.field(
        description="The plan granted.", deprecation_reason=PLAN_ID_DEPRECATED
    )
    updated_keys: int = strawberry.field(description="Keys that follow the plan (not revoked).")
    total_keys: int = strawberry.field(description="The user's keys.")

    @classmethod
    def from_domain(cls, grant: subscriptions.PlanGrant, ctx: Context | None = None) -> PlanGrant:
        return cls(plan_id=grant.plan_id, updated_keys=grant.updated_keys,
                   total_keys=grant.total_keys)  # fmt: skip


@strawberry.input(description="The input of `subscriptionCancel` (it needs no arguments).")
class SubscriptionCancelInput:
    client_mutation_id: str | None = strawberry.field(
        default=None,
        description="Any string of the client's choosing, echoed in the payload (as GitHub's "
        "clientMutationId) to match answers with requests.",
    )


@strawberry.input
class SubscriptionAutoRenewSetInput:
    auto_renew: bool = strawberry.field(
        description="True to renew from the wallet at the period end."
    )


@strawberry.input
class AdminUserPlanGrantInput:
    user_id: strawberry.ID = strawberry.field(description="The user's id.")
    plan_id: str = strawberry.field(description="The plan's id (`BillingPlan.id`).")


@strawberry.interface(
    description="What "
    "`subscriptionCancel`, `subscriptionAutoRenewSet` "
    "answer: each has a payload type of its own that implements this one, so "
    "fragments on it keep matching."
)
class SubscriptionPayload:
    subscription: BillingSubscription | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: one payload type per mutation; SubscriptionPayload was shared.
@strawberry.type(description="The result of `subscriptionCancel`.")
class SubscriptionCancelPayload(SubscriptionPayload):
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's clientMutationId, as the client sent it."
    )


@strawberry.type(description="The result of `subscriptionAutoRenewSet`.")
class SubscriptionAutoRenewSetPayload(SubscriptionPayload):
    pass


@strawberry.type
class AdminUserPlanGrantPayload:
    grant: PlanGrant | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    description: str = strawberry.field(description="What it is.")
    quantity: int = strawberry.field(description="How many.")
    unit_amount: Money = strawberry.field(description="The price of one.")
    amount: Money = strawberry.field(description="The line's total.")


@strawberry.type(description="An invoice: one per paid order, numbered.")
class Invoice(Node):
    raw_id: strawberry.Private[str]
    number: str = strawberry.field(description="The invoice number (unique, sequential).")
    order_id: str = strawberry.field(description="The order it bills.")
    buyer_email: str = strawberry.field(
        description="The buyer's e-mail address when it was issued."
    )
    total: Money = strawberry.field(description="What was paid.")
    lines: list[InvoiceLine] = strawberry.field(description="What was bought.")
    issued_at: datetime = strawberry.field(description="When it was issued.")
    paid_at: datetime = strawberry.field(description="When the order was paid.")
    payment_provider: PaymentProviderName = strawberry.field(
        description="The payment provider it was paid through."
    )
    html_url: str = strawberry.field(description="The printable page.")

    @classmethod
    def from_domain(cls, invoice: model.Invoice, ctx: Context | None = None) -> Invoice:
        def money(minor: int) -> Money:
            return Money.from_domain(money_model.Money(minor, invoice.currency))

        return cls(
            id=strawberry.ID(ids.to_global_id("Invoice", invoice.id)), raw_id=invoice.id,
            number=invoice.number, order_id=invoice.order_id, buyer_email=invoice.buyer_email,
            total=money(invoice.total_minor),
            lines=[
                InvoiceLine(description=line.description, quantity=line.quantity,
                            unit_amount=money(line.unit_amount_minor),
                            amount=money(line.amount_minor))
                for line in invoice.lines
            ],
            issued_at=invoice.issued_at, paid_at=invoice.paid_at,
            payment_provider=payment_provider_name(invoice.payment_provider),
            html_url=f"/v1/billing/invoices/{invoice.id}/html",
        )  # fmt: skip


@strawberry.type
class InvoiceEdge:
    cursor: str
    node: Invoice


@strawberry.type
class InvoiceConnection:
    edges: list[InvoiceEdge]
    nodes: list[Invoice]
    page_info: PageInfo
    total_count: int


@strawberry.type(description="A refund Karpov recorded (the money itself goes back through "
                 "the payment provider's console).")  # fmt: skip
class OrderRefund:
    id: strawberry.ID = strawberry.field(description="The refund's id.")
    refund_type: str = strawberry.field(description="`full` or `partial`.")
    amount: Money = strawberry.field(description="What was refunded.")
    reason: str = strawberry.field(description="Why.")
    created_at: datetime = strawberry.field(description="When it was recorded.")


@strawberry.type(description="A refunded order and its refund.")
class OrderRefundResult:
    order: Order = strawberry.field(description="The order, now refunded.")
    refund: OrderRefund = strawberry.field(description="The refund recorded.")

    @classmethod
    def from_domain(
        cls, result: refunds.RefundResult, ctx: Context | None = None
    ) -> OrderRefundResult:
        r = result.refund
        return cls(
            order=Order.from_domain(result.order),
            refund=OrderRefund(
                id=strawberry.ID(r.id),
                refund_type=r.refund_type.value,
                amount=Money.from_domain(money_model.Money(r.amount_minor, r.currency)),
                reason=r.reason,
                created_at=r.created_at,
            ),
        )


@strawberry.input
class OrderRefundInput:
    order_id: strawberry.ID = strawberry.field(description="The order's id.")
    reason: str = strawberry.field(description="Why, for the record.")
    refund_type: str = strawberry.field(
        default="full", description="`full` (the default) or `partial`."
    )
    amount: str | None = strawberry.field(
        default=None, description='Partial refunds: major units, e.g. "10.00".'
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key records the refund once."
    )

    def to_command(self) -> commands.RefundOrder:
        return commands.RefundOrder(
            order_id=str(self.order_id), reason=self.reason, refund_type=self.refund_type,
            amount=self.amount, idempotency_key=self.idempotency_key,
        )  # fmt: skip


@strawberry.type
class OrderRefundPayload:
    result: OrderRefundResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="My pay-as-you-go settings.")
class ExtraUsageSettings:
    user_id: strawberry.ID = strawberry.field(description="Whose settings these are.")
    enabled: bool = strawberry.field(
        description="Whether calls past the monthly limit are paid from the wallet."
    )
    monthly_cap: Money = strawberry.field(description="0 = no cap.")
    notify_threshold_pct: int = strawberry.field(
        description="The share of the cap (percent) at which to warn."
    )
    updated_at: datetime | None = strawberry.field(description="When they last changed.")

    @classmethod
    def from_domain(
        cls, s: model.ExtraUsageSettings, ctx: Context | None = None
    ) -> ExtraUsageSettings:
        return cls(
            user_id=strawberry.ID(ids.to_global_id("User", s.user_id)), enabled=s.enabled,
            monthly_cap=Money.from_domain(money_model.Money(s.monthly_cap_minor, "CNY")),
            notify_threshold_pct=s.notify_threshold_pct, updated_at=s.updated_at,
        )  # fmt: skip


@strawberry.type(description="My pay-as-you-go month.")
class ExtraUsageReport(PlanRef):
    year_month: str = strawberry.field(description="The month (YYYY-MM).")
    enabled: bool = strawberry.field(description="Whether pay-as-you-go is on.")
    monthly_cap: Money = strawberry.field(description="The most the month may cost.")
    notify_threshold_pct: int = strawberry.field(
        description="The share of the cap (percent) at which to warn."
    )
    plan_id: str = strawberry.field(
        description="The plan of the month.", deprecation_reason=PLAN_ID_DEPRECATED
    )
    plan_name: str = strawberry.field(
        description="The plan's name.", deprecation_reason="Use `plan { name }`."
    )
    overage_price_per_1k: Money = strawberry.field(
        description="The price of 1,000 units past the monthly limit."
    )
    base_monthly_limit: BigInt = strawberry.field(
        description="The plan's units per month before overage."
    )
    overage_count: BigInt = strawberry.field(description="Calls past the limit.")
    overage_units: BigInt = strawberry.field(description="Units past the limit.")
    overage: Money = strawberry.field(description="The month's overage cost so far.")
    remaining_cap: Money = strawberry.field(description="What is left of the cap.")
    used_cap_pct: float = strawberry.field(description="A fraction of the cap (0.5 = half).")
    near_limit: bool = strawberry.field(
        description="Whether the cost passed the warning threshold."
    )
    balance: Money = strawberry.field(description="The wallet's balance now.")
    updated_at: datetime | None = strawberry.field(
        description="When the month's figures last changed."
    )

    @classmethod
    def from_domain(
        cls, r: overage_model.ExtraUsageReport, ctx: Context | None = None
    ) -> ExtraUsageReport:
        def money(minor: int) -> Money:
            return Money.from_domain(money_model.Money(minor, r.balance_currency))

        return cls(
            year_month=r.year_month, enabled=r.enabled, monthly_cap=money(r.monthly_cap_cents),
            notify_threshold_pct=r.notify_threshold_pct, plan_id=r.plan_id,
            plan_name=r.plan_name, overage_price_per_1k=money(r.overage_price_per_1k),
            base_monthly_limit=r.base_monthly_limit, overage_count=r.overage_count,
            overage_units=r.overage_weight, overage=money(r.overage_cents),
            remaining_cap=money(r.remaining_cap_cents), used_cap_pct=r.used_cap_pct,
            near_limit=r.near_limit, balance=money(r.balance_cents), updated_at=r.updated_at,
        )  # fmt: skip


@strawberry.type(description="What pay-as-you-go cost in one month.")
class ExtraUsageCharge(PlanRef):
    year_month: str = strawberry.field(description="The month (YYYY-MM).")
    plan_id: str = strawberry.field(
        description="The plan whose overage price applied.", deprecation_reason=PLAN_ID_DEPRECATED
    )
    count: BigInt = strawberry.field(description="Calls past the limit.")
    units: BigInt = strawberry.field(description="Units past the limit.")
    amount: Money = strawberry.field(description="What they cost.")

    @classmethod
    def from_domain(cls, m: model.OverageMonth, ctx: Context | None = None) -> ExtraUsageCharge:
        amount = Money.from_domain(money_model.Money(m.amount_minor, m.currency))
        return cls(year_month=m.year_month, plan_id=m.plan_id, count=m.count, units=m.units,
                   amount=amount)  # fmt: skip


@strawberry.type(description="One call paid by pay-as-you-go.")
class ExtraUsageEvent(PlanRef):
    id: strawberry.ID = strawberry.field(description="The event's id.")
    operation: str = strawberry.field(description="The operation called.")
    plan_id: str = strawberry.field(
        description="The plan whose overage price applied.", deprecation_reason=PLAN_ID_DEPRECATED
    )
    units: int = strawberry.field(description="The units it used.")
    price: Money = strawberry.field(description="What this call debited.")
    occurred_at: datetime = strawberry.field(description="When it was called.")

    @classmethod
    def from_domain(cls, e: model.OverageEvent, ctx: Context | None = None) -> ExtraUsageEvent:
        return cls(
            id=strawberry.ID(e.id), operation=e.operation, plan_id=e.plan_id, units=e.units,
            price=Money.from_domain(money_model.Money(e.price_minor, e.currency)),
            occurred_at=e.occurred_at,
        )  # fmt: skip


@strawberry.type
class ExtraUsageChargeEdge:
    cursor: str
    node: ExtraUsageCharge


@strawberry.type
class ExtraUsageChargeConnection:
    edges: list[ExtraUsageChargeEdge]
    nodes: list[ExtraUsageCharge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ExtraUsageEventEdge:
    cursor: str
    node: ExtraUsageEvent


@strawberry.type
class ExtraUsageEventConnection:
    edges: list[ExtraUsageEventEdge]
    nodes: list[ExtraUsageEvent]
    page_info: PageInfo
    total_count: int


@strawberry.input
class ExtraUsageUpdateInput:
    enabled: bool | None = strawberry.field(
        default=None, description="Turn pay-as-you-go on or off."
    )
    monthly_cap_cents: BigInt | None = strawberry.field(
        default=None, description="The most a month may cost, in minor units."
    )
    notify_threshold_pct: int | None = strawberry.field(
        default=None, description="The share of the cap (percent) at which to warn."
    )

    def to_command(self) -> overage_model.ExtraUsageChanges:
        return overage_model.ExtraUsageChanges(
            self.enabled, self.monthly_cap_cents, self.notify_threshold_pct
        )


@strawberry.type
class ExtraUsagePayload:
    settings: ExtraUsageSettings | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- the viewer's billing (fields of User, null unless the user is the viewer) ----------


@strawberry.type
class ViewerBilling:
    """Billing fields of ``User``: the viewer's own plan, subscription, wallet, ledger,
    orders, invoices and pay-as-you-go settings; null for any other user."""

    raw_id: strawberry.Private[str]

    @strawberry.field(description="My plan and its limits; null unless this is the viewer.")
    async def plan(self, info: strawberry.Info) -> BillingPlan | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        _, plan = await billing_resolvers.billing_my_plan(ctx)
        return BillingPlan.from_domain(plan)

    @strawberry.field(description="My subscription; null unless this is the viewer.")
    async def subscription(self, info: strawberry.Info) -> BillingSubscription | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        sub = await billing_resolvers.subscription(ctx)
        return None if sub is None else BillingSubscription.from_domain(sub)

    @strawberry.field(description="My wallet in a currency; null unless this is the viewer.")
    async def balance(
        self,
        info: strawberry.Info,
        currency: Annotated[
            str | None,
            strawberry.argument(
                description="A currency code (ISO 4217, e.g. `CNY`); default: the default currency."
            ),
        ] = None,
    ) -> Wallet | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        return Wallet.from_domain(await billing_resolvers.balance(ctx, currency))

    @strawberry.field(description="My wallet's ledger; null unless this is the viewer.")
    async def ledger(
        self,
        info: strawberry.Info,
        first: Annotated[
            int, strawberry.argument(description="How many entries to return (1-100).")
        ] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="Return the entries after this cursor.")
        ] = None,
    ) -> LedgerEntryConnection | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        offset = page_window(first, after)
        page = await billing_resolvers.ledger(ctx, limit=first, offset=offset)
        nodes = [LedgerEntry.from_domain(e) for e in page.items]
        return connection(LedgerEntryConnection, LedgerEntryEdge, nodes, page, offset)

    @strawberry.field(description="My orders; null unless this is the viewer.")
    async def orders(
        self,
        info: strawberry.Info,
        first: Annotated[
            int, strawberry.argument(description="How many orders to return (1-100).")
        ] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="Return the orders after this cursor.")
        ] = None,
    ) -> OrderConnection | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        offset = page_window(first, after)
        page = await billing_resolvers.orders(ctx, limit=first, offset=offset)
        nodes = [Order.from_domain(o) for o in page.items]
        return connection(OrderConnection, OrderEdge, nodes, page, offset)

    @strawberry.field(description="My invoices; null unless this is the viewer.")
    async def invoices(
        self,
        info: strawberry.Info,
        first: Annotated[
            int, strawberry.argument(description="How many invoices to return (1-100).")
        ] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="Return the invoices after this cursor.")
        ] = None,
    ) -> InvoiceConnection | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        offset = page_window(first, after)
        page = await billing_resolvers.invoices(ctx, limit=first, offset=offset)
        nodes = [Invoice.from_domain(i) for i in page.items]
        return connection(InvoiceConnection, InvoiceEdge, nodes, page, offset)

    @strawberry.field(description="My pay-as-you-go settings; null unless this is the viewer.")
    async def extra_usage(self, info: strawberry.Info) -> ExtraUsageSettings | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        return ExtraUsageSettings.from_domain(await billing_resolvers.extra_usage(ctx))
