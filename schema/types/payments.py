"""GraphQL types of the payment channels (issue 16): payment callbacks with their verdicts
(the admin view), reconciliation's input."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from domain.billing import callbacks as model
from domain.billing import channels
from domain.billing.money import Money as DomainMoney
from resolvers import ids
from resolvers.context import Context
from schema.errors import UserError
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


# -- payment channel settings ----------------------------------------------------------------


@strawberry.type(description="A setting of a payment channel (secrets masked ab****yz).")
class PaymentChannelField:
    name: str
    value: str


@strawberry.type(description="One payment channel's settings (the original's field names).")
class PaymentChannelSettings:
    provider: str
    enabled: bool
    fields: list[PaymentChannelField]
    callback_networks: list[str]

    @classmethod
    def from_domain(
        cls, c: channels.ChannelView, ctx: Context | None = None
    ) -> PaymentChannelSettings:
        return cls(
            provider=c.provider, enabled=c.enabled,
            fields=[PaymentChannelField(name=k, value=v) for k, v in c.fields.items()],
            callback_networks=list(c.callback_networks),
        )  # fmt: skip


@strawberry.type(description="A payment channel a buyer may choose.")
class PaymentChannel:
    provider: str
    display_name: str
    description: str
    icon: str

    @classmethod
    def from_domain(cls, c: channels.OfferedChannel, ctx: Context | None = None) -> PaymentChannel:
        return cls(provider=c.provider, display_name=c.display_name,
                   description=c.description, icon=c.icon)  # fmt: skip


@strawberry.input
class PaymentChannelFieldInput:
    name: str
    value: str | None = strawberry.field(
        default=None, description="Null: keep; a masked secret: keep the stored one."
    )


@strawberry.input
class PaymentChannelInput:
    provider: str
    enabled: bool = False
    fields: list[PaymentChannelFieldInput] = strawberry.field(default_factory=list)
    callback_networks: list[str] | None = None

    def to_change(self) -> channels.ChannelChange:
        return channels.ChannelChange(
            provider=self.provider, enabled=self.enabled,
            fields={f.name: f.value for f in self.fields},
            callback_networks=self.callback_networks,
        )  # fmt: skip


@strawberry.input
class AdminPaymentSettingsUpdateInput:
    channels: list[PaymentChannelInput]


@strawberry.type
class PaymentSettingsPayload:
    channels: list[PaymentChannelSettings] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
