"""GraphQL fields of the payment channels (issue 16): the /v1 admin callback views' and
reconciliation's twins."""

from __future__ import annotations

import strawberry

from resolvers import payments
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.payloads import payload
from schema.types.billing import OrderPayload
from schema.types.payments import (
    OrderReconcileInput,
    PaymentCallback,
    PaymentCallbackConnection,
    PaymentCallbackEdge,
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
        order_id: strawberry.ID | None = None,
        provider: str | None = None,
        refused_only: bool = False,
        first: int = 50,
        after: str | None = None,
    ) -> PaymentCallbackConnection:
        offset = page_window(first, after)
        page = await payments.payment_callbacks(
            info.context, order_id=order_id, provider=provider, refused_only=refused_only,
            limit=first, offset=offset,
        )  # fmt: skip
        nodes = [PaymentCallback.from_domain(r) for r in page.items]
        return connection(PaymentCallbackConnection, PaymentCallbackEdge, nodes, page, offset)


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(
        description="Ask the order's provider about it; a paid order is fulfilled once (admin)."
    )
    async def order_reconcile(self, info: CtxInfo, input: OrderReconcileInput) -> OrderPayload:
        ctx = info.context
        call = payments.order_reconcile(ctx, str(input.order_id))
        return await payload(OrderPayload, ctx, call)
