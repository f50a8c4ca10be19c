"""Resolvers of billing (shared by GraphQL and /v1): plans, the currency settings, orders,
the wallet and its ledger, the callback path. The ``Idempotency-Key`` header, when sent,
wins over the input's ``idempotencyKey`` on every mutating call; user ids are the
client's (global or raw), decoded here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

from domain.apikeys.model import ApiKey
from domain.billing.admin_views import AdminUserView
from domain.billing.commands import (
    AdjustBalance,
    BalanceOperation,
    CreateOrder,
    CreateTopup,
    CurrencySettings,
    PlanChanges,
    RefundOrder,
)
from domain.billing.errors import InvalidAmount, MockPaymentsDisabled, PlanNotFound
from domain.billing.idempotency import choose_key, normalise_key
from domain.billing.model import (
    CurrencyConfig,
    ExtraUsageSettings,
    Invoice,
    LedgerEntry,
    Order,
    OverageEvent,
    OverageMonth,
    Subscription,
    Wallet,
)
from domain.billing.orders import CallbackResult
from domain.billing.overage import ExtraUsageChanges, ExtraUsageReport
from domain.billing.refunds import RefundResult
from domain.billing.subscriptions import PlanGrant
from domain.billing.wallet import Movement
from domain.paging import Page
from domain.quota.access import declare_scope
from domain.quota.plans import Plan
from resolvers import ids
from resolvers.context import Context

IDEMPOTENCY_HEADER = "idempotency-key"

# API keys need the original's billing scopes (reference §2.2 step 9), operation by
# operation as its path rules asked them (its rules name POST only: the PATCH, PUT and the
# new GETs of subscriptions and extra usage need none, as there).
for _field in ("billingPlans", "billingMyPlan", "orders", "order", "balance", "ledger",
               "invoices", "invoice", "/v1/billing/invoices/{id}/html"):  # fmt: skip
    declare_scope(_field, "billing:read")
for _field in ("orderCreate", "topupCreate", "subscriptionCancel", "orderRefund"):
    declare_scope(_field, "billing:write")
for _field in ("billingPlanSave", "billingPlanDelete", "balanceAdjust"):
    declare_scope(_field, "admin:write")

C = TypeVar("C", CreateOrder, CreateTopup, AdjustBalance)


def with_key(ctx: Context, command: C) -> C:
    """The command with the header's key when one was sent (both are checked)."""
    return replace(
        command, idempotency_key=choose_key(ctx.header(IDEMPOTENCY_HEADER), command.idempotency_key)
    )


def check_key(ctx: Context) -> None:
    """Naturally idempotent mutations (a PUT, a DELETE) accept the header: it must still
    follow the key rules."""
    normalise_key(ctx.header(IDEMPOTENCY_HEADER), field="Idempotency-Key")


# -- plans -----------------------------------------------------------------------------


async def billing_plans(ctx: Context) -> list[Plan]:
    return await ctx.services.plans.active(ctx.principal)


async def billing_plan_save(ctx: Context, command: PlanChanges) -> Plan:
    check_key(ctx)
    return await ctx.services.plans.save(ctx.principal, command)


async def billing_plan_delete(ctx: Context, plan_id: str) -> Plan:
    check_key(ctx)
    return await ctx.services.plans.delete(ctx.principal, plan_id)


async def billing_plan(ctx: Context, plan_id: str) -> Plan | None:
    """A plan by id, offered or not (issue 11: the ``plan`` of what names one); ``None``
    for an unknown id."""
    try:
        return await ctx.services.plans.get(plan_id)
    except PlanNotFound:
        return None


async def billing_my_plan(ctx: Context) -> tuple[str, Plan]:
    return await ctx.services.plans.my_plan(ctx.principal)


# -- currency --------------------------------------------------------------------------


async def currency_settings(ctx: Context) -> CurrencyConfig:
    return await ctx.services.currency.get(ctx.principal)


async def currency_settings_update(ctx: Context, command: CurrencySettings) -> CurrencyConfig:
    check_key(ctx)
    return await ctx.services.currency.update(ctx.principal, command)


# -- orders ----------------------------------------------------------------------------


async def order_create(ctx: Context, command: CreateOrder) -> Order:
    await ctx.services.payment_channels.refresh()  # -- payments (issue 16) --
    return await ctx.services.orders.create_plan_order(ctx.principal, with_key(ctx, command))


async def topup_create(ctx: Context, command: CreateTopup) -> Order:
    await ctx.services.payment_channels.refresh()  # -- payments (issue 16) --
    return await ctx.services.orders.create_topup(ctx.principal, with_key(ctx, command))


async def orders(ctx: Context, *, limit: int, offset: int) -> Page[Order]:
    return await ctx.services.orders.list(ctx.principal, limit=limit, offset=offset)


async def order(ctx: Context, order_id: str) -> Order:
    raw = ids.from_global_id(order_id, "Order", field="orderId")
    return await ctx.services.orders.get(ctx.principal, raw)


async def payment_callback(
    ctx: Context, provider: str, params: Mapping[str, str]
) -> CallbackResult:
    # -- payments (issue 16): stored with its verdict, the channel's allow list applied --
    await ctx.services.payment_channels.refresh()
    answer = await ctx.services.payment_callbacks.receive(provider, params, ctx.principal.client_ip)
    return answer.result


async def mock_pay_page_order(ctx: Context, order_id: str) -> Order:
    if not ctx.services.mock_payments:
        raise MockPaymentsDisabled()
    return await ctx.services.orders.pay_page_order(order_id)


# -- wallet ----------------------------------------------------------------------------


async def balance(ctx: Context, currency: str | None = None) -> Wallet:
    return await ctx.services.wallet.balance(ctx.principal, currency)


async def ledger(ctx: Context, *, limit: int, offset: int) -> Page[LedgerEntry]:
    return await ctx.services.wallet.transactions(ctx.principal, limit=limit, offset=offset)


async def balance_adjust(
    ctx: Context, user_id: str, amount_cents: int, description: str, key: str | None = None
) -> Movement:
    """The original's ``POST /v1/billing/balance/adjust``: a signed amount, never 0."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents == 0:
        raise InvalidAmount("amountCents must be a non-zero integer", field="amountCents")
    operation = BalanceOperation.CREDIT if amount_cents > 0 else BalanceOperation.DEBIT
    command = AdjustBalance(
        ids.user_id(user_id), operation, abs(amount_cents), description=description,
        idempotency_key=key,
    )  # fmt: skip
    return await ctx.services.wallet.adjust(ctx.principal, with_key(ctx, command))


async def admin_user_balance(ctx: Context, user_id: str, currency: str | None = None) -> Wallet:
    return await ctx.services.wallet.admin_balance(ctx.principal, ids.user_id(user_id), currency)


async def admin_user_balance_update(ctx: Context, command: AdjustBalance) -> Movement:
    command = replace(command, user_id=ids.user_id(command.user_id))
    return await ctx.services.wallet.adjust(ctx.principal, with_key(ctx, command))


async def admin_user_ledger(
    ctx: Context, user_id: str, *, limit: int, offset: int
) -> Page[LedgerEntry]:
    return await ctx.services.wallet.admin_transactions(
        ctx.principal, ids.user_id(user_id), limit=limit, offset=offset
    )


# -- an admin's view of a user -----------------------------------------------------------


async def admin_user_view(ctx: Context, user_id: str) -> AdminUserView:
    return await ctx.services.admin_user_views.view(ctx.principal, ids.user_id(user_id))


async def admin_user_keys(ctx: Context, user_id: str) -> list[ApiKey]:
    return await ctx.services.admin_user_views.keys(ctx.principal, ids.user_id(user_id))


# -- subscriptions -----------------------------------------------------------------------


async def subscription(ctx: Context) -> Subscription | None:
    return await ctx.services.subscriptions.current(ctx.principal)


async def subscription_cancel(ctx: Context) -> Subscription:
    check_key(ctx)
    return await ctx.services.subscriptions.cancel(ctx.principal)


async def subscription_auto_renew_set(ctx: Context, auto_renew: bool) -> Subscription:
    check_key(ctx)
    return await ctx.services.subscriptions.set_auto_renew(ctx.principal, auto_renew)


async def admin_user_plan_grant(ctx: Context, user_id: str, plan_id: str) -> PlanGrant:
    check_key(ctx)
    return await ctx.services.subscriptions.grant(ctx.principal, ids.user_id(user_id), plan_id)


# -- invoices and refunds ----------------------------------------------------------------


async def invoices(ctx: Context, *, limit: int, offset: int) -> Page[Invoice]:
    return await ctx.services.invoices.list(ctx.principal, limit=limit, offset=offset)


async def invoice(ctx: Context, invoice_id: str) -> Invoice:
    raw = ids.from_global_id(invoice_id, "Invoice", field="invoiceId")
    return await ctx.services.invoices.get(ctx.principal, raw)


async def order_refund(ctx: Context, command: RefundOrder) -> RefundResult:
    key = choose_key(ctx.header(IDEMPOTENCY_HEADER), command.idempotency_key)
    raw = ids.from_global_id(command.order_id, "Order", field="orderId")
    command = replace(command, order_id=raw, idempotency_key=key)
    return await ctx.services.refunds.refund(ctx.principal, command)


# -- pay-as-you-go -----------------------------------------------------------------------


async def extra_usage(ctx: Context) -> ExtraUsageSettings:
    return await ctx.services.overage.settings(ctx.principal)


async def extra_usage_update(ctx: Context, changes: ExtraUsageChanges) -> ExtraUsageSettings:
    check_key(ctx)
    return await ctx.services.overage.update(ctx.principal, changes)


async def extra_usage_report(ctx: Context, month: str | None = None) -> ExtraUsageReport:
    return await ctx.services.overage.report(ctx.principal, month)


async def extra_usage_charges(
    ctx: Context, *, limit: int = 12, offset: int = 0
) -> Page[OverageMonth]:
    return await ctx.services.overage.charges(ctx.principal, limit=limit, offset=offset)


async def extra_usage_events(
    ctx: Context, *, limit: int = 100, offset: int = 0
) -> Page[OverageEvent]:
    return await ctx.services.overage.events(ctx.principal, limit=limit, offset=offset)
