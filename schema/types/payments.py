"""GraphQL types of the payment channels (issue 16): payment callbacks with their verdicts
(the admin view), reconciliation's input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.billing import callbacks as model
from domain.billing.money import Money as DomainMoney
from resolvers import ids
from resolvers.context import Context
from schema.types.billing import Money
from schema.types.node import PageInfo


@strawberry.enum(description="What a payment callback did.")
class PaymentCallbackResult(Enum):
    RECEIVED = "received"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    PENDING = "pending"
    REFUSED = "refused"


@strawberry.type(description="One parameter of a callback as stored (secrets as ****).")
class CallbackParameter:
    name: str
    value: str


@strawberry.type(description="A provider's callback as received, with its verdict.")
class PaymentCallback:
    id: strawberry.ID
    provider: str
    params: list[CallbackParameter]
    client_ip: str | None
    received_at: datetime
    signature_ok: bool
    processed: bool
    result: PaymentCallbackResult
    error: str | None
    order_id: strawberry.ID | None
    provider_txn_id: str | None
    amount: Money | None
    late: bool = strawberry.field(description="Paid after the order had expired (honoured).")

    @classmethod
    def from_domain(cls, r: model.CallbackRecord, ctx: Context | None = None) -> PaymentCallback:
        amount = (
            Money.from_domain(DomainMoney(r.amount_minor, r.currency))
            if r.amount_minor is not None and r.currency
            else None
        )
        return cls(
            id=strawberry.ID(ids.to_global_id("PaymentCallback", r.id)), provider=r.provider,
            params=[CallbackParameter(name=k, value=v) for k, v in r.params.items()],
            client_ip=r.client_ip, received_at=r.received_at, signature_ok=r.signature_ok,
            processed=r.processed, result=PaymentCallbackResult(r.result.value), error=r.error,
            order_id=strawberry.ID(ids.to_global_id("Order", r.order_id)) if r.order_id else None,
            provider_txn_id=r.provider_txn_id, amount=amount, late=r.late,
        )  # fmt: skip


@strawberry.type
class PaymentCallbackEdge:
    cursor: str
    node: PaymentCallback


@strawberry.type
class PaymentCallbackConnection:
    edges: list[PaymentCallbackEdge]
    nodes: list[PaymentCallback]
    page_info: PageInfo
    total_count: int


@strawberry.input
class OrderReconcileInput:
    order_id: strawberry.ID
