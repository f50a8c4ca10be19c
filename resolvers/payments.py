"""Payment callbacks' admin views and reconciliation (issue 16), shared by both edges.
The callback itself goes through ``resolvers.billing.payment_callback``."""

from __future__ import annotations

from domain.billing.access import user_of
from domain.billing.callbacks import CallbackFilter, CallbackRecord
from domain.billing.channels import ChannelChange, ChannelView, OfferedChannel
from domain.billing.model import Order
from domain.errors import InvalidInput
from domain.paging import Page
from domain.quota.access import declare_scope
from resolvers import ids
from resolvers.context import Context

# API keys need the original's path-rule scopes: /v1/admin/ GET admin:read, other methods
# admin:write; GET /v1/billing/payment-channels billing:read.
declare_scope("paymentCallbacks", "admin:read")
declare_scope("orderReconcile", "admin:write")
declare_scope("paymentChannels", "billing:read")


def _order_id(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        return ids.from_global_id(text, "Order", field="orderId")
    except InvalidInput:  # a callback may name an order id that is not ours: look it up as is
        return text[:64]


async def payment_callbacks(
    ctx: Context,
    *,
    order_id: str | None = None,
    provider: str | None = None,
    refused_only: bool = False,
    limit: int,
    offset: int,
) -> Page[CallbackRecord]:
    flt = CallbackFilter(
        order_id=_order_id(order_id),
        provider=(provider or "").strip().lower() or None,
        refused_only=refused_only,
    )
    return await ctx.services.payment_callbacks.list(ctx.principal, flt, limit=limit, offset=offset)


async def order_reconcile(ctx: Context, order_id: str) -> Order:
    raw = ids.from_global_id(order_id, "Order", field="orderId")
    await ctx.services.payment_channels.refresh()  # worker (issue 17): this process's channels
    return await ctx.services.payment_callbacks.reconcile(ctx.principal, raw)


# -- payment channel settings ----------------------------------------------------------------


async def payment_settings(ctx: Context) -> list[ChannelView]:
    return await ctx.services.payment_channels.get(ctx.principal)


async def payment_settings_update(ctx: Context, changes: list[ChannelChange]) -> list[ChannelView]:
    return await ctx.services.payment_channels.update(ctx.principal, changes)


async def payment_channels(ctx: Context) -> list[OfferedChannel]:
    user_of(ctx.principal)
    return await ctx.services.payment_channels.offered()
