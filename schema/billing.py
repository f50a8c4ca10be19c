"""GraphQL fields of billing: plans, orders, the wallet and its ledger, currency settings;
the /v1 billing routes' twins."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import billing
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.payloads import payload
from schema.types.apikeys import ApiKey
from schema.types.billing import (
    AdminUserBalanceUpdateInput,
    AdminUserBalanceUpdatePayload,
    AdminUserPlanGrantInput,
    AdminUserPlanGrantPayload,
    BalanceAdjustInput,
    BalanceAdjustPayload,
    BillingPlan,
    BillingPlanDeleteInput,
    BillingPlanDeletePayload,
    BillingPlanInput,
    BillingPlanSavePayload,
    BillingSubscription,
    CurrencySettings,
    CurrencySettingsInput,
    CurrencySettingsPayload,
    ExtraUsageCharge,
    ExtraUsageChargeConnection,
    ExtraUsageChargeEdge,
    ExtraUsageEvent,
    ExtraUsageEventConnection,
    ExtraUsageEventEdge,
    ExtraUsagePayload,
    ExtraUsageReport,
    ExtraUsageSettings,
    ExtraUsageUpdateInput,
    Invoice,
    InvoiceConnection,
    InvoiceEdge,
    LedgerEntry,
    LedgerEntryConnection,
    LedgerEntryEdge,
    MyPlan,
    Order,
    OrderConnection,
    OrderCreateInput,
    OrderCreatePayload,
    OrderEdge,
    OrderRefundInput,
    OrderRefundPayload,
    SubscriptionAutoRenewSetInput,
    SubscriptionAutoRenewSetPayload,
    SubscriptionCancelInput,
    SubscriptionCancelPayload,
    TopupCreateInput,
    TopupCreatePayload,
    Wallet,
)


@strawberry.type
class BillingQueries:
    @strawberry.field(description="Plans on offer, by sort order.")
    async def billing_plans(self, info: CtxInfo) -> list[BillingPlan]:
        return [BillingPlan.from_domain(p) for p in await billing.billing_plans(info.context)]

    @strawberry.field(description="My plan and its limits.")
    async def billing_my_plan(self, info: CtxInfo) -> MyPlan | None:
        return MyPlan.from_domain(await billing.billing_my_plan(info.context))

    @strawberry.field(description="My orders, newest first.")
    async def orders(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> OrderConnection | None:
        offset = page_window(first, after)
        page = await billing.orders(info.context, limit=first, offset=offset)
        nodes = [Order.from_domain(o) for o in page.items]
        return connection(OrderConnection, OrderEdge, nodes, page, offset)

    @strawberry.field(description="One of my orders.")
    async def order(self, info: CtxInfo, id: strawberry.ID) -> Order | None:
        return Order.from_domain(await billing.order(info.context, id))

    @strawberry.field(description="My wallet in a currency (default: the default currency).")
    async def balance(
        self,
        info: CtxInfo,
        currency: Annotated[
            str | None,
            strawberry.argument(
                description="A currency code (ISO 4217); default: the default currency."
            ),
        ] = None,
    ) -> Wallet | None:
        return Wallet.from_domain(await billing.balance(info.context, currency))

    @strawberry.field(description="My wallet's ledger, newest first.")
    async def ledger(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> LedgerEntryConnection | None:
        offset = page_window(first, after)
        page = await billing.ledger(info.context, limit=first, offset=offset)
        nodes = [LedgerEntry.from_domain(e) for e in page.items]
        return connection(LedgerEntryConnection, LedgerEntryEdge, nodes, page, offset)

    @strawberry.field(description="My subscription (null when I never had one).")
    async def subscription(self, info: CtxInfo) -> BillingSubscription | None:
        sub = await billing.subscription(info.context)
        return None if sub is None else BillingSubscription.from_domain(sub)

    @strawberry.field(description="My invoices, newest first: one per paid order.")
    async def invoices(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> InvoiceConnection | None:
        offset = page_window(first, after)
        page = await billing.invoices(info.context, limit=first, offset=offset)
        nodes = [Invoice.from_domain(i) for i in page.items]
        return connection(InvoiceConnection, InvoiceEdge, nodes, page, offset)

    @strawberry.field(description="One of my invoices.")
    async def invoice(self, info: CtxInfo, id: strawberry.ID) -> Invoice | None:
        return Invoice.from_domain(await billing.invoice(info.context, id))

    @strawberry.field(description="My pay-as-you-go settings.")
    async def extra_usage(self, info: CtxInfo) -> ExtraUsageSettings | None:
        return ExtraUsageSettings.from_domain(await billing.extra_usage(info.context))

    @strawberry.field(description="My pay-as-you-go month (YYYY-MM; default this one).")
    async def extra_usage_report(
        self,
        info: CtxInfo,
        month: Annotated[
            str | None, strawberry.argument(description="The month (YYYY-MM); default: this one.")
        ] = None,
    ) -> ExtraUsageReport | None:
        return ExtraUsageReport.from_domain(await billing.extra_usage_report(info.context, month))

    @strawberry.field(description="My pay-as-you-go months, newest first.")
    async def extra_usage_charges(
        self, info: CtxInfo, first: int = 12, after: str | None = None
    ) -> ExtraUsageChargeConnection | None:
        offset = page_window(first, after)
        page = await billing.extra_usage_charges(info.context, limit=first, offset=offset)
        nodes = [ExtraUsageCharge.from_domain(m) for m in page.items]
        return connection(ExtraUsageChargeConnection, ExtraUsageChargeEdge, nodes, page, offset)

    @strawberry.field(description="My pay-as-you-go calls, newest first.")
    async def extra_usage_events(
        self, info: CtxInfo, first: int = 100, after: str | None = None
    ) -> ExtraUsageEventConnection | None:
        offset = page_window(first, after)
        page = await billing.extra_usage_events(info.context, limit=first, offset=offset)
        nodes = [ExtraUsageEvent.from_domain(e) for e in page.items]
        return connection(ExtraUsageEventConnection, ExtraUsageEventEdge, nodes, page, offset)

    @strawberry.field(description="A user's wallet (admin).")
    async def admin_user_balance(
        self,
        info: CtxInfo,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
        currency: Annotated[
            str | None,
            strawberry.argument(
                description="A currency code (ISO 4217); default: the default currency."
            ),
        ] = None,
    ) -> Wallet | None:
        return Wallet.from_domain(await billing.admin_user_balance(info.context, user_id, currency))

    @strawberry.field(description="A user's wallet ledger, newest first (admin).")
    async def admin_user_ledger(
        self,
        info: CtxInfo,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
        first: int = 50,
        after: str | None = None,
    ) -> LedgerEntryConnection | None:
        offset = page_window(first, after)
        page = await billing.admin_user_ledger(info.context, user_id, limit=first, offset=offset)
        nodes = [LedgerEntry.from_domain(e) for e in page.items]
        return connection(LedgerEntryConnection, LedgerEntryEdge, nodes, page, offset)

    @strawberry.field(description="Every API key of a user, with its status (admin).")
    async def admin_user_api_keys(
        self,
        info: CtxInfo,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
    ) -> list[ApiKey] | None:
        ctx = info.context
        return [ApiKey.from_domain(k, ctx) for k in await billing.admin_user_keys(ctx, user_id)]

    @strawberry.field(description="The currency settings (admin).")
    async def admin_currency_settings(self, info: CtxInfo) -> CurrencySettings | None:
        return CurrencySettings.from_domain(await billing.currency_settings(info.context))


@strawberry.type
class BillingMutations:
    @strawberry.mutation(description="Buy a plan: an order and the provider's pay URL.")
    async def order_create(self, info: CtxInfo, input: OrderCreateInput) -> OrderCreatePayload:
        ctx = info.context
        return await payload(OrderCreatePayload, ctx, billing.order_create(ctx, input.to_command()))

    @strawberry.mutation(description="Top up my wallet: an order of purpose topup.")
    async def topup_create(self, info: CtxInfo, input: TopupCreateInput) -> TopupCreatePayload:
        ctx = info.context
        return await payload(TopupCreatePayload, ctx, billing.topup_create(ctx, input.to_command()))

    @strawberry.mutation(description="Create or replace a plan (superadmin).")
    async def billing_plan_save(
        self, info: CtxInfo, input: BillingPlanInput
    ) -> BillingPlanSavePayload:
        ctx = info.context
        call = billing.billing_plan_save(ctx, input.to_command())
        return await payload(BillingPlanSavePayload, ctx, call)

    @strawberry.mutation(description="Stop offering a plan (superadmin; soft delete).")
    async def billing_plan_delete(
        self, info: CtxInfo, input: BillingPlanDeleteInput
    ) -> BillingPlanDeletePayload:
        ctx = info.context
        return await payload(
            BillingPlanDeletePayload, ctx, billing.billing_plan_delete(ctx, input.id)
        )

    @strawberry.mutation(description="Credit or debit a user's wallet (superadmin).")
    async def balance_adjust(
        self, info: CtxInfo, input: BalanceAdjustInput
    ) -> BalanceAdjustPayload:
        ctx = info.context
        call = billing.balance_adjust(
            ctx, input.user_id, input.amount_cents, input.description, input.idempotency_key
        )
        return await payload(BalanceAdjustPayload, ctx, call)

    @strawberry.mutation(description="Credit, debit or set a user's balance (superadmin).")
    async def admin_user_balance_update(
        self, info: CtxInfo, input: AdminUserBalanceUpdateInput
    ) -> AdminUserBalanceUpdatePayload:
        ctx = info.context
        call = billing.admin_user_balance_update(ctx, input.to_command())
        return await payload(AdminUserBalanceUpdatePayload, ctx, call)

    @strawberry.mutation(description="Change my pay-as-you-go settings (fields given only).")
    async def extra_usage_update(
        self, info: CtxInfo, input: ExtraUsageUpdateInput
    ) -> ExtraUsagePayload:
        ctx = info.context
        call = billing.extra_usage_update(ctx, input.to_command())
        return await payload(ExtraUsagePayload, ctx, call)

    @strawberry.mutation(description="Record a refund of a completed order (admin).")
    async def order_refund(self, info: CtxInfo, input: OrderRefundInput) -> OrderRefundPayload:
        ctx = info.context
        return await payload(OrderRefundPayload, ctx, billing.order_refund(ctx, input.to_command()))

    @strawberry.mutation(description="Cancel my subscription at the end of its period.")
    async def subscription_cancel(
        self, info: CtxInfo, input: SubscriptionCancelInput | None = None
    ) -> SubscriptionCancelPayload:
        ctx = info.context
        done = await payload(SubscriptionCancelPayload, ctx, billing.subscription_cancel(ctx))
        done.client_mutation_id = input.client_mutation_id if input else None
        return done

    @strawberry.mutation(description="Turn renewal from the wallet on or off.")
    async def subscription_auto_renew_set(
        self, info: CtxInfo, input: SubscriptionAutoRenewSetInput
    ) -> SubscriptionAutoRenewSetPayload:
        ctx = info.context
        call = billing.subscription_auto_renew_set(ctx, input.auto_renew)
        return await payload(SubscriptionAutoRenewSetPayload, ctx, call)

    @strawberry.mutation(description="Put a user on a plan until changed (superadmin).")
    async def admin_user_plan_grant(
        self, info: CtxInfo, input: AdminUserPlanGrantInput
    ) -> AdminUserPlanGrantPayload:
        ctx = info.context
        call = billing.admin_user_plan_grant(ctx, input.user_id, input.plan_id)
        return await payload(AdminUserPlanGrantPayload, ctx, call)

    @strawberry.mutation(description="Replace the currency settings (superadmin).")
    async def admin_currency_settings_update(
        self, info: CtxInfo, input: CurrencySettingsInput
    ) -> CurrencySettingsPayload:
        ctx = info.context
        call = billing.currency_settings_update(ctx, input.to_command())
        return await payload(CurrencySettingsPayload, ctx, call)
