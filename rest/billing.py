"""/v1 billing routes (gin style, as the original): plans, the caller's plan, orders and
the provider callbacks, the wallet, the admin balance and currency settings. Bodies become
the same commands the GraphQL inputs convert into; amounts are integer minor units
(``amountCents``) or the original's two-decimal text (``amount``)."""

from __future__ import annotations

import html
import json
from typing import Annotated, Literal, NotRequired, TypedDict
from urllib.parse import parse_qsl

from domain.billing.commands import (
    AdjustBalance,
    BalanceOperation,
    CreateOrder,
    CreateTopup,
    CurrencySettings,
    PlanChanges,
    RefundOrder,
)
from domain.billing.errors import InvalidAmount, InvalidCurrencyConfig
from domain.billing.model import (
    CurrencyConfig,
    EntryKind,
    ExtraUsageSettings,
    Invoice,
    LedgerEntry,
    Order,
    OrderPurpose,
    OrderStatus,
    OverageEvent,
    OverageMonth,
    RefundType,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
    Wallet,
)
from domain.billing.money import Money
from domain.billing.overage import ExtraUsageChanges, ExtraUsageReport
from domain.billing.wallet import Movement
from domain.errors import InvalidInput
from domain.quota.plans import Plan
from resolvers import billing
from rest.envelope import rfc3339
from rest.router import RawReply, RestRequest
from rest.schemas import EnumOf, Example
from rest.views import Id, Time

# -- types -----------------------------------------------------------------------------

Amount = Annotated[str, Example("13.89")]
"""Major units as text, with exactly the currency's decimals (``Money.formatted``)."""
Currency = Annotated[str, Example("CNY")]
PlanId = Annotated[str, Example("pro")]
Period = Annotated[str, Example("monthly")]
"""monthly | yearly | lifetime"""
YearMonth = Annotated[str, Example("2026-01")]
OrderStatusValue = Annotated[str, EnumOf(OrderStatus)]


class PlanView(TypedDict):
    """The original's DynamicPlan."""

    id: PlanId
    name: str
    description: str
    priceCents: int
    currency: Currency
    period: Period
    qps: int
    dailyLimit: int
    monthlyLimit: int
    softLimitPct: int
    payAsYouGo: bool
    overagePricePer_1k: int
    sortOrder: int
    isActive: bool


class PlanList(TypedDict):
    plans: list[PlanView]


class MyPlan(TypedDict):
    userId: Id
    planId: PlanId
    planName: str
    priceCents: int
    currency: Currency
    period: Period
    qps: int
    dailyLimit: int
    monthlyLimit: int
    softLimitPct: int
    payAsYouGo: bool
    overagePricePer_1k: int


class RateView(TypedDict):
    code: Currency
    rate: Annotated[str, Example("0.1389")]
    """Units of this currency per unit of the default one, as decimal text."""


class CurrencyConfigView(TypedDict):
    defaultCurrency: Currency
    rates: list[RateView]
    updatedAt: Time | None


class CurrencyView(TypedDict):
    config: CurrencyConfigView


class OrderView(TypedDict):
    """The original's order (``amount`` in major units, two decimals for CNY), plus the
    integer amount, purpose, provider, pay URL and times; the paid and completed times
    are left out until then, the original amount unless the order was converted."""

    id: Id
    userId: Id
    planId: PlanId | None
    purpose: Annotated[str, EnumOf(OrderPurpose)]
    amount: Amount
    amountMinor: int
    currency: Currency
    status: OrderStatusValue
    paymentProvider: Annotated[str, Example("mock")]
    payUrl: str
    createdAt: Time | None
    expiresAt: Time | None
    paidAt: NotRequired[Time | None]
    completedAt: NotRequired[Time | None]
    originalAmount: NotRequired[Amount]
    originalCurrency: NotRequired[Currency]
    fxRate: NotRequired[str | None]


class OrderList(TypedDict):
    items: list[OrderView]
    total: int


class OrderCreated(TypedDict):
    orderId: Id
    payUrl: str
    amount: Amount
    currency: Currency
    status: OrderStatusValue
    planName: str | None
    """The plan's name (its id if the catalog no longer has it)."""


class TopupCreated(TypedDict):
    orderId: Id
    payUrl: str
    amount: Amount
    amountCents: int
    currency: Currency
    status: OrderStatusValue
    purpose: Annotated[str, EnumOf(OrderPurpose)]


class BalanceView(TypedDict):
    userId: Id
    balanceCents: int
    currency: Currency
    version: int
    updatedAt: Time | None


class EntryView(TypedDict):
    """A ledger entry (a wallet movement)."""

    id: Id
    userId: Id
    amountCents: int
    currency: Currency
    kind: Annotated[str, EnumOf(EntryKind)]
    balanceAfterCents: int
    orderId: str | None
    reference: str
    description: str
    createdAt: Time | None


class MovementView(BalanceView):
    """The wallet after a movement, and the entry it made (none when nothing moved)."""

    transaction: NotRequired[EntryView]


class EntryPage(TypedDict):
    items: list[EntryView]
    total: int
    limit: int
    offset: int


class SubscriptionView(TypedDict):
    id: Id
    userId: Id
    planId: PlanId
    period: Period
    status: Annotated[str, EnumOf(SubscriptionStatus)]
    source: Annotated[str, EnumOf(SubscriptionSource)]
    currentPeriodStart: Time | None
    currentPeriodEnd: Time | None
    cancelAtPeriodEnd: bool
    autoRenew: bool
    graceUntil: Time | None
    createdAt: Time | None
    updatedAt: Time | None


class Subscribed(TypedDict):
    orderId: Id
    redirectUrl: str


class PlanGrantView(TypedDict):
    planId: PlanId
    updatedKeys: int
    totalKeys: int


class InvoiceLineView(TypedDict):
    description: str
    quantity: int
    unitAmount: Amount
    amount: Amount


class InvoiceView(TypedDict):
    id: Id
    number: str
    orderId: Id
    buyerEmail: Annotated[str, Example("ada@example.com")]
    currency: Currency
    total: Amount
    totalMinor: int
    lines: list[InvoiceLineView]
    issuedAt: Time | None
    paidAt: Time | None
    paymentProvider: str
    htmlUrl: str
    """The printable invoice."""


class InvoiceList(TypedDict):
    items: list[InvoiceView]
    total: int


class RefundView(TypedDict):
    orderId: Id
    refundType: Annotated[str, EnumOf(RefundType)]
    refundAmount: Amount
    status: Literal["completed"]
    orderStatus: OrderStatusValue
    message: str


class ExtraUsageView(TypedDict):
    userId: Id
    enabled: bool
    monthlyCapCents: int
    notifyThresholdPct: int
    updatedAt: Time | None


class ExtraUsageReportView(TypedDict):
    """The original's ``/v1/billing/extra-usage/report``."""

    userId: Id
    yearMonth: YearMonth
    enabled: bool
    monthlyCapCents: int
    notifyThresholdPct: int
    planId: PlanId
    planName: str
    overagePricePer_1k: int
    baseMonthlyLimit: int
    baseMonthlyUsed: int
    overageCount: int
    overageWeight: int
    overageCents: int
    remainingCapCents: int
    usedCapPct: float
    """A fraction (0.5 = half the cap); 0 without a cap."""
    nearLimit: bool
    balanceCents: int
    balanceCurrency: Currency
    updatedAt: Time | None


class ChargeView(TypedDict):
    """One month's pay-as-you-go charge."""

    userId: Id
    yearMonth: YearMonth
    planId: PlanId
    count: int
    weightSum: int
    amountCents: int
    currency: Currency
    updatedAt: Time | None


class ChargeList(TypedDict):
    items: list[ChargeView]
    total: int


class EventView(TypedDict):
    """One metered call beyond the plan's monthly limit."""

    id: Id
    userId: Id
    endpoint: str
    planId: PlanId
    weight: int
    priceCents: int
    currency: Currency
    ts: Time | None


class EventList(TypedDict):
    items: list[EventView]
    total: int


# -- views -----------------------------------------------------------------------------


def plan_view(plan: Plan) -> PlanView:
    """The original's DynamicPlan."""
    return {
        "id": plan.id, "name": plan.name, "description": plan.description,
        "priceCents": plan.price_cents, "currency": plan.currency, "period": plan.period,
        "qps": plan.qps, "dailyLimit": plan.daily_limit, "monthlyLimit": plan.monthly_limit,
        "softLimitPct": plan.soft_limit_pct, "payAsYouGo": plan.pay_as_you_go,
        "overagePricePer_1k": plan.overage_price_per_1k, "sortOrder": plan.sort_order,
        "isActive": plan.is_active,
    }  # fmt: skip


def my_plan_view(user_id: str, plan: Plan) -> MyPlan:
    return {
        "userId": user_id, "planId": plan.id, "planName": plan.name,
        "priceCents": plan.price_cents, "currency": plan.currency, "period": plan.period,
        "qps": plan.qps, "dailyLimit": plan.daily_limit, "monthlyLimit": plan.monthly_limit,
        "softLimitPct": plan.soft_limit_pct, "payAsYouGo": plan.pay_as_you_go,
        "overagePricePer_1k": plan.overage_price_per_1k,
    }  # fmt: skip


def currency_view(config: CurrencyConfig) -> CurrencyView:
    return {
        "config": {
            "defaultCurrency": config.default_currency,
            "rates": [{"code": r.code, "rate": str(r.rate)} for r in config.rates],
            "updatedAt": rfc3339(config.updated_at),
        }
    }


def order_view(order: Order) -> OrderView:
    """The original's order (``amount`` in major units, two decimals for CNY), plus the
    integer amount, purpose, provider, pay URL and times."""
    view: OrderView = {
        "id": order.id, "userId": order.user_id, "planId": order.plan_id,
        "purpose": order.purpose.value, "amount": order.amount.formatted(),
        "amountMinor": order.amount_minor, "currency": order.currency,
        "status": order.status.value, "paymentProvider": order.payment_provider,
        "payUrl": order.pay_url, "createdAt": rfc3339(order.created_at),
        "expiresAt": rfc3339(order.expires_at),
    }  # fmt: skip
    if order.paid_at is not None:
        view["paidAt"] = rfc3339(order.paid_at)
    if order.completed_at is not None:
        view["completedAt"] = rfc3339(order.completed_at)
    if order.original_amount_minor is not None and order.original_currency is not None:
        view["originalAmount"] = order.credited.formatted()
        view["originalCurrency"] = order.original_currency
        view["fxRate"] = order.fx_rate
    return view


def balance_view(wallet: Wallet) -> BalanceView:
    return {
        "userId": wallet.user_id, "balanceCents": wallet.balance_minor,
        "currency": wallet.currency, "version": wallet.version,
        "updatedAt": rfc3339(wallet.updated_at),
    }  # fmt: skip


def entry_view(entry: LedgerEntry) -> EntryView:
    return {
        "id": entry.id, "userId": entry.user_id, "amountCents": entry.amount_minor,
        "currency": entry.currency, "kind": entry.kind.value,
        "balanceAfterCents": entry.balance_after_minor, "orderId": entry.order_id,
        "reference": entry.reference, "description": entry.description,
        "createdAt": rfc3339(entry.created_at),
    }  # fmt: skip


def movement_view(movement: Movement) -> MovementView:
    view = balance_view(movement.wallet)
    if movement.entry is None:
        return view  # type: ignore[return-value]  # (no entry: ``transaction`` left out)
    return {**view, "transaction": entry_view(movement.entry)}


def _page(items: list[EntryView], total: int, limit: int, offset: int) -> EntryPage:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# -- plans -----------------------------------------------------------------------------


async def plans(req: RestRequest) -> PlanList:
    return {"plans": [plan_view(p) for p in await billing.billing_plans(req.ctx)]}


def _int(req: RestRequest, name: str, default: int) -> int:
    value = req.integer(name)
    return default if value is None else value


async def plan_save(req: RestRequest) -> PlanView:
    pay_as_you_go = req.body.get("payAsYouGo", False)
    if not isinstance(pay_as_you_go, bool):
        raise InvalidInput("payAsYouGo must be true or false", field="payAsYouGo")
    command = PlanChanges(
        plan_id=req.path("id"), name=req.text("name") or "",
        description=req.text("description") or "", price_cents=_int(req, "priceCents", 0),
        currency=req.text("currency") or "CNY", period=req.text("period") or "monthly",
        qps=_int(req, "qps", 0), daily_limit=_int(req, "dailyLimit", 0),
        monthly_limit=_int(req, "monthlyLimit", 0), soft_limit_pct=_int(req, "softLimitPct", 80),
        pay_as_you_go=pay_as_you_go, overage_price_per_1k=_int(req, "overagePricePer_1k", 0),
        sort_order=_int(req, "sortOrder", 0),
    )  # fmt: skip
    return plan_view(await billing.billing_plan_save(req.ctx, command))


async def plan_delete(req: RestRequest) -> None:
    await billing.billing_plan_delete(req.ctx, req.path("id"))


async def my_plan(req: RestRequest) -> MyPlan:
    user_id, plan = await billing.billing_my_plan(req.ctx)
    return my_plan_view(user_id, plan)


# -- currency --------------------------------------------------------------------------


async def currency_get(req: RestRequest) -> CurrencyView:
    return currency_view(await billing.currency_settings(req.ctx))


async def currency_put(req: RestRequest) -> CurrencyView:
    rates = req.body.get("rates") or []
    if not isinstance(rates, list) or not all(isinstance(r, dict) for r in rates):
        raise InvalidCurrencyConfig("rates must be a list of {code, rate}", field="rates")
    command = CurrencySettings(
        default_currency=req.body.get("defaultCurrency"),
        rates=tuple((r.get("code"), r.get("rate")) for r in rates),
    )
    return currency_view(await billing.currency_settings_update(req.ctx, command))


# -- orders ----------------------------------------------------------------------------


async def order_create(req: RestRequest) -> OrderCreated:
    command = CreateOrder(
        plan_id=req.text("planId") or "", payment_provider=req.text("paymentProvider") or "",
        success_url=req.text("successUrl"), idempotency_key=req.text("idempotencyKey"),
    )  # fmt: skip
    order = await billing.order_create(req.ctx, command)
    plan = next((p for p in await billing.billing_plans(req.ctx) if p.id == order.plan_id), None)
    return {
        "orderId": order.id, "payUrl": order.pay_url, "amount": order.amount.formatted(),
        "currency": order.currency, "status": order.status.value,
        "planName": plan.name if plan is not None else order.plan_id,
    }  # fmt: skip


async def orders(req: RestRequest) -> OrderList:
    page = await billing.orders(
        req.ctx, limit=req.query_int("limit", 100), offset=req.query_int("offset", 0)
    )
    return {"items": [order_view(o) for o in page.items], "total": page.total}


async def order_get(req: RestRequest) -> OrderView:
    return order_view(await billing.order(req.ctx, req.path("id")))


async def topup(req: RestRequest) -> TopupCreated:
    cents = req.integer("amountCents")
    if cents is None:
        raise InvalidAmount("amountCents is required", field="amountCents")
    command = CreateTopup(
        amount_cents=cents, payment_provider=req.text("paymentProvider") or "",
        success_url=req.text("successUrl"), idempotency_key=req.text("idempotencyKey"),
        currency=req.text("currency"),
    )  # fmt: skip
    order = await billing.topup_create(req.ctx, command)
    return {
        "orderId": order.id, "payUrl": order.pay_url, "amount": order.amount.formatted(),
        "amountCents": order.credited.amount_minor, "currency": order.currency,
        "status": order.status.value, "purpose": order.purpose.value,
    }  # fmt: skip


async def callback(req: RestRequest) -> RawReply:
    """A provider's notification: the form, then the query string (which wins, as in the
    original); the answer is the provider's acknowledgement."""
    params: dict[str, str] = {}
    if req.request.method == "POST":
        # Providers post application/x-www-form-urlencoded (or JSON: hupijiao's SDKs).
        raw = await req.request.body()
        kind = req.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "application/json":
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            if isinstance(body, dict):
                params.update({k: str(v) for k, v in body.items() if isinstance(v, str | int)})
        else:
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    params.update(req.request.query_params)
    result = await billing.payment_callback(req.ctx, req.path("provider"), params)
    ack = result.acknowledgement
    return RawReply(ack.body, ack.media_type)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Karpov test payment</title></head>
<body><main>
<h1>Karpov test payment (development only)</h1>
<p>Order <code>{order_id}</code>: <strong>{amount} {currency}</strong> ({status}).</p>
<form method="post" action="/v1/billing/callback/mock">
<input type="hidden" name="order_id" value="{order_id}">
<input type="hidden" name="amount" value="{amount}">
<button type="submit">Pay</button></form>
<form method="post" action="/v1/billing/callback/mock">
<input type="hidden" name="order_id" value="{order_id}">
<input type="hidden" name="amount" value="{amount}">
<input type="hidden" name="status" value="failed">
<button type="submit">Fail</button></form>
{back}
</main></body></html>
"""


async def mock_pay_page(req: RestRequest) -> RawReply:
    """The mock provider's cashier: "pay" and "fail" post the provider's own callback."""
    order = await billing.mock_pay_page_order(req.ctx, req.path("id"))
    back = ""
    if order.success_url and order.status is not OrderStatus.PAYING:
        back = f'<p><a href="{html.escape(order.success_url)}">Back</a></p>'
    page = _PAGE.format(
        order_id=html.escape(order.id), amount=html.escape(order.amount.formatted()),
        currency=html.escape(order.currency), status=html.escape(order.status.value), back=back,
    )  # fmt: skip
    return RawReply(page, "text/html; charset=utf-8")


# -- wallet ----------------------------------------------------------------------------


async def balance(req: RestRequest) -> BalanceView:
    return balance_view(await billing.balance(req.ctx, req.query("currency")))


async def transactions(req: RestRequest) -> EntryPage:
    limit, offset = req.query_int("limit", 50), req.query_int("offset", 0)
    page = await billing.ledger(req.ctx, limit=limit, offset=offset)
    return _page([entry_view(e) for e in page.items], page.total, page.limit, page.offset)


async def balance_adjust(req: RestRequest) -> MovementView:
    cents = req.integer("amountCents")
    movement = await billing.balance_adjust(
        req.ctx, req.required_text("userId"), cents if cents is not None else 0,
        req.text("description") or "", req.text("idempotencyKey"),
    )  # fmt: skip
    return movement_view(movement)


async def admin_balance(req: RestRequest) -> BalanceView:
    return balance_view(
        await billing.admin_user_balance(req.ctx, req.path("id"), req.query("currency"))
    )


def _operation(text: str | None) -> BalanceOperation:
    try:
        return BalanceOperation((text or "").strip().lower())
    except ValueError:
        raise InvalidInput("operation must be credit, debit or set", field="operation") from None


async def admin_balance_update(req: RestRequest) -> MovementView:
    cents = req.integer("amountCents")
    if cents is None:
        raise InvalidAmount("amountCents is required", field="amountCents")
    command = AdjustBalance(
        user_id=req.path("id"), operation=_operation(req.text("operation")), amount_cents=cents,
        description=req.text("description") or "", reference=req.text("reference") or "",
        currency=req.text("currency"), idempotency_key=req.text("idempotencyKey"),
    )  # fmt: skip
    return movement_view(await billing.admin_user_balance_update(req.ctx, command))


async def admin_transactions(req: RestRequest) -> EntryPage:
    limit, offset = req.query_int("limit", 50), req.query_int("offset", 0)
    page = await billing.admin_user_ledger(req.ctx, req.path("id"), limit=limit, offset=offset)
    return _page([entry_view(e) for e in page.items], page.total, page.limit, page.offset)


# -- subscriptions -----------------------------------------------------------------------


def subscription_view(sub: Subscription) -> SubscriptionView:
    return {
        "id": sub.id, "userId": sub.user_id, "planId": sub.plan_id, "period": sub.period,
        "status": sub.status.value, "source": sub.source.value,
        "currentPeriodStart": rfc3339(sub.current_period_start),
        "currentPeriodEnd": rfc3339(sub.current_period_end),
        "cancelAtPeriodEnd": sub.cancel_at_period_end, "autoRenew": sub.auto_renew,
        "graceUntil": rfc3339(sub.grace_until), "createdAt": rfc3339(sub.created_at),
        "updatedAt": rfc3339(sub.updated_at),
    }  # fmt: skip


async def subscription_get(req: RestRequest) -> SubscriptionView | None:
    sub = await billing.subscription(req.ctx)
    return None if sub is None else subscription_view(sub)


async def subscription_cancel(req: RestRequest) -> SubscriptionView:
    return subscription_view(await billing.subscription_cancel(req.ctx))


async def subscription_patch(req: RestRequest) -> SubscriptionView:
    auto_renew = req.body.get("autoRenew")
    if not isinstance(auto_renew, bool):
        raise InvalidInput("autoRenew must be true or false", field="autoRenew")
    return subscription_view(await billing.subscription_auto_renew_set(req.ctx, auto_renew))


async def subscribe(req: RestRequest) -> Subscribed:
    """The original's grpc-gateway ``Subscribe`` (``planCode``), now on the caller's own
    account (the original's orders were for "anonymous")."""
    command = CreateOrder(
        plan_id=req.text("planCode") or req.text("planId") or "",
        payment_provider=req.text("paymentProvider") or "", success_url=req.text("successUrl"),
        idempotency_key=req.text("idempotencyKey"),
    )  # fmt: skip
    order = await billing.order_create(req.ctx, command)
    return {"orderId": order.id, "redirectUrl": order.pay_url}


async def admin_plan_grant(req: RestRequest) -> PlanGrantView:
    grant = await billing.admin_user_plan_grant(
        req.ctx, req.path("id"), req.required_text("planId")
    )
    return {"planId": grant.plan_id, "updatedKeys": grant.updated_keys,
            "totalKeys": grant.total_keys}  # fmt: skip


# -- invoices and refunds ----------------------------------------------------------------


def invoice_view(invoice: Invoice) -> InvoiceView:
    def money(minor: int) -> str:
        return Money(minor, invoice.currency).formatted()

    return {
        "id": invoice.id, "number": invoice.number, "orderId": invoice.order_id,
        "buyerEmail": invoice.buyer_email, "currency": invoice.currency,
        "total": invoice.total.formatted(), "totalMinor": invoice.total_minor,
        "lines": [
            {"description": line.description, "quantity": line.quantity,
             "unitAmount": money(line.unit_amount_minor), "amount": money(line.amount_minor)}
            for line in invoice.lines
        ],
        "issuedAt": rfc3339(invoice.issued_at), "paidAt": rfc3339(invoice.paid_at),
        "paymentProvider": invoice.payment_provider,
        "htmlUrl": f"/v1/billing/invoices/{invoice.id}/html",
    }  # fmt: skip


async def invoices(req: RestRequest) -> InvoiceList:
    limit, offset = req.query_int("limit", 50), req.query_int("offset", 0)
    page = await billing.invoices(req.ctx, limit=limit, offset=offset)
    return {"items": [invoice_view(i) for i in page.items], "total": page.total}


_INVOICE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {number}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}
table{{width:100%;border-collapse:collapse}}td,th{{border-bottom:1px solid #ccc;padding:.4em;
text-align:left}}.n{{text-align:right}}</style></head>
<body><main>
<h1>Invoice {number}</h1>
<p>Issued {issued} &middot; paid {paid} via {provider}<br>Billed to {email}<br>Order {order}</p>
<table><thead><tr><th>Description</th><th class="n">Qty</th><th class="n">Unit</th>
<th class="n">Amount</th></tr></thead><tbody>
{rows}
</tbody><tfoot><tr><th colspan="3">Total</th><th class="n">{total} {currency}</th></tr>
</tfoot></table>
</main></body></html>
"""


async def invoice_html(req: RestRequest) -> RawReply:
    """A printable invoice (the browser prints it; no scripts, no outside resources)."""
    invoice = await billing.invoice(req.ctx, req.path("id"))
    view = invoice_view(invoice)
    rows = "\n".join(
        f'<tr><td>{html.escape(line["description"])}</td><td class="n">{line["quantity"]}'
        f'</td><td class="n">{line["unitAmount"]}</td><td class="n">{line["amount"]}'
        "</td></tr>"
        for line in view["lines"]
    )
    page = _INVOICE_PAGE.format(
        number=html.escape(invoice.number), issued=invoice.issued_at.date().isoformat(),
        paid=invoice.paid_at.date().isoformat(), provider=html.escape(invoice.payment_provider),
        email=html.escape(invoice.buyer_email), order=html.escape(invoice.order_id), rows=rows,
        total=view["total"], currency=html.escape(invoice.currency),
    )  # fmt: skip
    return RawReply(page, "text/html; charset=utf-8")


async def order_refund(req: RestRequest) -> RefundView:
    amount = req.body.get("amount")
    if amount is not None and (
        isinstance(amount, bool) or not isinstance(amount, str | int | float)
    ):
        raise InvalidAmount("amount must be a decimal amount", field="amount")
    command = RefundOrder(
        order_id=req.path("id"), reason=req.text("reason") or "",
        refund_type=req.text("refundType") or "full",
        amount=None if amount is None else str(amount),
        idempotency_key=req.text("idempotencyKey"),
    )  # fmt: skip
    result = await billing.order_refund(req.ctx, command)
    return {
        "orderId": result.order.id, "refundType": result.refund.refund_type.value,
        "refundAmount": Money(result.refund.amount_minor, result.refund.currency).formatted(),
        "status": "completed", "orderStatus": result.order.status.value,
        "message": "refund recorded; return the money through the payment provider's console",
    }  # fmt: skip


# -- pay-as-you-go -----------------------------------------------------------------------


def extra_usage_view(settings: ExtraUsageSettings) -> ExtraUsageView:
    return {
        "userId": settings.user_id, "enabled": settings.enabled,
        "monthlyCapCents": settings.monthly_cap_minor,
        "notifyThresholdPct": settings.notify_threshold_pct,
        "updatedAt": rfc3339(settings.updated_at),
    }  # fmt: skip


def report_view(report: ExtraUsageReport) -> ExtraUsageReportView:
    return {
        "userId": report.user_id, "yearMonth": report.year_month, "enabled": report.enabled,
        "monthlyCapCents": report.monthly_cap_cents,
        "notifyThresholdPct": report.notify_threshold_pct, "planId": report.plan_id,
        "planName": report.plan_name, "overagePricePer_1k": report.overage_price_per_1k,
        "baseMonthlyLimit": report.base_monthly_limit, "baseMonthlyUsed": 0,
        "overageCount": report.overage_count, "overageWeight": report.overage_weight,
        "overageCents": report.overage_cents, "remainingCapCents": report.remaining_cap_cents,
        "usedCapPct": report.used_cap_pct, "nearLimit": report.near_limit,
        "balanceCents": report.balance_cents, "balanceCurrency": report.balance_currency,
        "updatedAt": rfc3339(report.updated_at),
    }  # fmt: skip


def charge_view(month: OverageMonth) -> ChargeView:
    return {
        "userId": month.user_id, "yearMonth": month.year_month, "planId": month.plan_id,
        "count": month.count, "weightSum": month.units, "amountCents": month.amount_minor,
        "currency": month.currency, "updatedAt": rfc3339(month.updated_at),
    }  # fmt: skip


def event_view(event: OverageEvent) -> EventView:
    return {
        "id": event.id, "userId": event.user_id, "endpoint": event.operation,
        "planId": event.plan_id, "weight": event.units, "priceCents": event.price_minor,
        "currency": event.currency, "ts": rfc3339(event.occurred_at),
    }  # fmt: skip


async def extra_usage_get(req: RestRequest) -> ExtraUsageView:
    return extra_usage_view(await billing.extra_usage(req.ctx))


async def extra_usage_put(req: RestRequest) -> ExtraUsageView:
    enabled = req.body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false", field="enabled")
    changes = ExtraUsageChanges(
        enabled=enabled, monthly_cap_cents=req.integer("monthlyCapCents"),
        notify_threshold_pct=req.integer("notifyThresholdPct"),
    )  # fmt: skip
    return extra_usage_view(await billing.extra_usage_update(req.ctx, changes))


async def extra_usage_report(req: RestRequest) -> ExtraUsageReportView:
    return report_view(await billing.extra_usage_report(req.ctx, req.query("month")))


async def extra_usage_charges(req: RestRequest) -> ChargeList:
    page = await billing.extra_usage_charges(req.ctx, limit=req.query_int("limit", 12))
    return {"items": [charge_view(m) for m in page.items], "total": page.total}


async def extra_usage_events(req: RestRequest) -> EventList:
    page = await billing.extra_usage_events(req.ctx, limit=req.query_int("limit", 100))
    return {"items": [event_view(e) for e in page.items], "total": page.total}
