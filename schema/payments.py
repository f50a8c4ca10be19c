"""GraphQL fields of the payment channels (issue 16): the /v1 admin callback views' and
reconciliation's twins."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import payments
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.payloads import payload
from schema.types.billing import OrderReconcilePayload, PaymentProviderName
from schema.types.payments import (
    AdminPaymentSettingsUpdateInput,
    OrderReconcileInput,
    PaymentCallback,
    PaymentCallbackConnection,
    PaymentCallbackEdge,
    PaymentChannel,
    PaymentChannelSettings,
    PaymentSettingsPayload,
)


@strawberry.type
class PaymentQueries:
    @strawberry.field(
        description="Payment callbacks with their verdicts, newest first (admin). "
        "refusedOnly: the refused and the never processed."
    )
    async def payment_callbacks(
        self,
        info: CtxInfo,
        order_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only this order's callbacks.")
        ] = None,
        provider: Annotated[
            PaymentProviderName | None,
            strawberry.argument(description="Only this provider's callbacks."),
        ] = None,
        refused_only: Annotated[
            bool, strawberry.argument(description="Only refused callbacks.")
        ] = False,
        first: int = 50,
        after: str | None = None,
    ) -> PaymentCallbackConnection | None:
        offset = page_window(first, after)
        page = await payments.payment_callbacks(
            info.context, order_id=order_id, provider=provider.value if provider else None,
            refused_only=refused_only,
            limit=first, offset=offset,
        )  # fmt: skip
        nodes = [PaymentCallback.from_domain(r) for r in page.items]
        return connection(PaymentCallbackConnection, PaymentCallbackEdge, nodes, page, offset)

    @strawberry.field(description="Payment channel settings (admin; secrets masked).")
    async def admin_payment_settings(self, info: CtxInfo) -> list[PaymentChannelSettings] | None:
        found = await payments.payment_settings(info.context)
        return [PaymentChannelSettings.from_domain(c) for c in found]

    @strawberry.field(description="The payment channels I may pay with.")
    async def payment_channels(self, info: CtxInfo) -> list[PaymentChannel]:
        return [
            PaymentChannel.from_domain(c) for c in await payments.payment_channels(info.context)
        ]


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        description="Ask the order's provider about it; a paid order is fulfilled once (admin)."
    )
    async def order_reconcile(
        self, info: CtxInfo, input: OrderReconcileInput
    ) -> OrderReconcilePayload:
        ctx = info.context
        call = payments.order_reconcile(ctx, str(input.order_id))
        return await payload(OrderReconcilePayload, ctx, call)

    @strawberry.mutation(
        description="Replace payment channel settings (superadmin; a masked secret keeps "
        "the stored one)."
    )
    async def admin_payment_settings_update(
        self, info: CtxInfo, input: AdminPaymentSettingsUpdateInput
    ) -> PaymentSettingsPayload:
        ctx = info.context
        changes = [c.to_change() for c in input.channels]
        return await payload(PaymentSettingsPayload, ctx,
                             payments.payment_settings_update(ctx, changes))  # fmt: skip
