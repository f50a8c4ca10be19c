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
from schema.describe import describe_values
from schema.errors import UserError
from schema.types.billing import Money, PaymentProviderName, payment_provider_name
from schema.types.node import PageInfo


@strawberry.enum(description="What a payment callback did.")
class PaymentCallbackResult(Enum):
    RECEIVED = "received"
    FULFILLED = "fulfilled"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    PENDING = "pending"
    REFUSED = "refused"


describe_values(
    PaymentCallbackResult,
    {
        "RECEIVED": "Stored, not acted on yet.",
        "FULFILLED": "The order was paid and delivered.",
        "FAILED": "Acting on it failed.",
        "DUPLICATE": "The order had already been fulfilled.",
        "PENDING": "The provider reports the payment not finished yet.",
        "REFUSED": "Refused (bad signature, amount or order).",
    },
)


@strawberry.type(description="One parameter of a callback as stored (secrets as ****).")
class CallbackParameter:
    name: str = strawberry.field(description="The parameter's name.")
    value: str = strawberry.field(description="Its value (secrets as ****).")


@strawberry.type(description="A provider's callback as received, with its verdict.")
class PaymentCallback:
    id: strawberry.ID = strawberry.field(description="The callback's id.")
    provider: PaymentProviderName = strawberry.field(
        description="The payment provider that sent it."
    )
    params: list[CallbackParameter] = strawberry.field(description="Its parameters as stored.")
    client_ip: str | None = strawberry.field(description="The sender's address.")
    received_at: datetime = strawberry.field(description="When it arrived.")
    signature_ok: bool = strawberry.field(description="Whether its signature verified.")
    processed: bool = strawberry.field(description="Whether it was acted on.")
    result: PaymentCallbackResult = strawberry.field(description="What it did.")
    error: str | None = strawberry.field(description="Why it failed or was refused, when it was.")
    order_id: strawberry.ID | None = strawberry.field(
        description="The order it concerns, when known."
    )
    provider_txn_id: str | None = strawberry.field(
        description="The provider's transaction id, when given."
    )
    amount: Money | None = strawberry.field(description="The amount it reports paid, when given.")
    late: bool = strawberry.field(description="Paid after the order had expired (honoured).")

    @classmethod
    def from_domain(cls, r: model.CallbackRecord, ctx: Context | None = None) -> PaymentCallback:
        amount = (
            Money.from_domain(DomainMoney(r.amount_minor, r.currency))
            if r.amount_minor is not None and r.currency
            else None
        )
        return cls(
            id=strawberry.ID(ids.to_global_id("PaymentCallback", r.id)),
            provider=payment_provider_name(r.provider),
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
    order_id: strawberry.ID = strawberry.field(description="The order's id.")


# -- payment channel settings ----------------------------------------------------------------


@strawberry.type(description="A setting of a payment channel (secrets masked ab****yz).")
class PaymentChannelField:
    name: str = strawberry.field(description="The setting's name.")
    value: str = strawberry.field(description="Its value (a secret as ****).")


@strawberry.type(description="One payment channel's settings (the original's field names).")
class PaymentChannelSettings:
    provider: PaymentProviderName = strawberry.field(description="The payment provider.")
    enabled: bool = strawberry.field(description="Whether buyers may pay through it.")
    fields: list[PaymentChannelField] = strawberry.field(
        description="Its settings (secrets masked)."
    )
    callback_networks: list[str] = strawberry.field(
        description="Addresses or CIDR blocks its callbacks may come from; empty means any."
    )

    @classmethod
    def from_domain(
        cls, c: channels.ChannelView, ctx: Context | None = None
    ) -> PaymentChannelSettings:
        return cls(
            provider=payment_provider_name(c.provider), enabled=c.enabled,
            fields=[PaymentChannelField(name=k, value=v) for k, v in c.fields.items()],
            callback_networks=list(c.callback_networks),
        )  # fmt: skip


@strawberry.type(description="A payment channel a buyer may choose.")
class PaymentChannel:
    provider: PaymentProviderName = strawberry.field(
        description="The payment provider (pass it as `paymentProvider`)."
    )
    display_name: str = strawberry.field(description="Its name for buyers.")
    description: str = strawberry.field(description="What it is, for buyers.")
    icon: str = strawberry.field(description="Which icon to show (e.g. `wechat`, `alipay`).")

    @classmethod
    def from_domain(cls, c: channels.OfferedChannel, ctx: Context | None = None) -> PaymentChannel:
        return cls(provider=payment_provider_name(c.provider), display_name=c.display_name,
                   description=c.description, icon=c.icon)  # fmt: skip


@strawberry.input(description="One setting of a payment channel.")
class PaymentChannelFieldInput:
    name: str = strawberry.field(description="The setting's name.")
    value: str | None = strawberry.field(
        default=None, description="Null: keep; a masked secret: keep the stored one."
    )


@strawberry.input(description="One payment channel's new settings.")
class PaymentChannelInput:
    provider: PaymentProviderName = strawberry.field(
        description="The payment provider: YIPAY, HUPIJIAO or LDCPAY (MOCK has no settings)."
    )
    enabled: bool = strawberry.field(
        default=False, description="Whether buyers may pay through it."
    )
    fields: list[PaymentChannelFieldInput] = strawberry.field(
        default_factory=list, description="Its settings; a masked secret keeps the stored one."
    )
    callback_networks: list[str] | None = strawberry.field(
        default=None,
        description="Addresses or CIDR blocks its callbacks may come from; empty means any.",
    )

    def to_change(self) -> channels.ChannelChange:
        return channels.ChannelChange(
            provider=self.provider.value, enabled=self.enabled,
            fields={f.name: f.value for f in self.fields},
            callback_networks=self.callback_networks,
        )  # fmt: skip


@strawberry.input
class AdminPaymentSettingsUpdateInput:
    channels: list[PaymentChannelInput] = strawberry.field(
        description="The channels to change (the others stay as they are)."
    )


@strawberry.type
class PaymentSettingsPayload:
    channels: list[PaymentChannelSettings] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
