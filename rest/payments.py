"""/v1 routes of the payment channels (issue 16): the admin views of callbacks and the
reconciliation of one order. The callbacks themselves are ``rest.billing.callback``."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict, cast

from domain.billing.callbacks import CallbackRecord, CallbackResultKind
from domain.billing.channels import ChannelChange, ChannelView
from domain.errors import InvalidInput
from resolvers import payments
from rest.billing import OrderView, order_view
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.schemas import EnumOf, Example
from rest.views import Id, Time


class CallbackView(TypedDict):
    """One provider notification as stored (its parameters with secrets redacted)."""

    id: Id
    provider: Annotated[str, Example("yipay")]
    params: dict[str, str]
    clientIp: str | None
    receivedAt: Time | None
    signatureOk: bool
    processed: bool
    result: Annotated[str, EnumOf(CallbackResultKind)]
    error: str | None
    orderId: str | None
    providerTxnId: str | None
    amountMinor: int | None
    currency: str | None
    late: bool


class CallbackPage(TypedDict):
    items: list[CallbackView]
    total: int
    limit: int
    offset: int


class OrderCallbacks(TypedDict):
    items: list[CallbackView]
    total: int


class YipayChannel(TypedDict):
    """The yipay channel's settings; the secret (``yipayKey``) masked, absent when unset."""

    provider: Literal["yipay"]
    enabled: bool
    yipayBaseUrl: str
    yipayMerchantId: str
    yipayKey: NotRequired[str]
    yipayPaymentType: str
    callbackNetworks: list[str]


class HupijiaoChannel(TypedDict):
    """The hupijiao channel's settings; the secret (``hupijiaoKey``) masked, absent when
    unset."""

    provider: Literal["hupijiao"]
    enabled: bool
    hupijiaoBaseUrl: str
    hupijiaoAppId: str
    hupijiaoKey: NotRequired[str]
    hupijiaoWapName: str
    callbackNetworks: list[str]


class LdcpayChannel(TypedDict):
    """The ldcpay channel's settings; the secrets masked, absent when unset."""

    provider: Literal["ldcpay"]
    enabled: bool
    ldcBaseUrl: str
    ldcClientId: str
    ldcClientSecret: NotRequired[str]
    ldcMerchantPrivateKey: NotRequired[str]
    ldcPlatformPublicKey: str
    callbackNetworks: list[str]


ChannelSettings = YipayChannel | HupijiaoChannel | LdcpayChannel
"""A channel's settings: the provider's fields (``domain.billing.channels.CHANNEL_FIELDS``)
between ``enabled`` and ``callbackNetworks``."""


class ChannelSettingsList(TypedDict):
    channels: list[ChannelSettings]


class OfferedChannelView(TypedDict):
    provider: Annotated[str, Example("yipay")]
    displayName: str
    description: str
    icon: str


class OfferedChannels(TypedDict):
    channels: list[OfferedChannelView]


def callback_view(record: CallbackRecord) -> CallbackView:
    return {
        "id": record.id, "provider": record.provider, "params": record.params,
        "clientIp": record.client_ip, "receivedAt": rfc3339(record.received_at),
        "signatureOk": record.signature_ok, "processed": record.processed,
        "result": record.result.value, "error": record.error, "orderId": record.order_id,
        "providerTxnId": record.provider_txn_id, "amountMinor": record.amount_minor,
        "currency": record.currency, "late": record.late,
    }  # fmt: skip


def _flag(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes")


async def callbacks(req: RestRequest) -> CallbackPage:
    page = await payments.payment_callbacks(
        req.ctx, order_id=req.query("orderId"), provider=req.query("provider"),
        refused_only=_flag(req.query("refused")), limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )  # fmt: skip
    return {
        "items": [callback_view(r) for r in page.items], "total": page.total,
        "limit": page.limit, "offset": page.offset,
    }  # fmt: skip


async def order_callbacks(req: RestRequest) -> OrderCallbacks:
    page = await payments.payment_callbacks(
        req.ctx, order_id=req.path("id"), limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )  # fmt: skip
    return {"items": [callback_view(r) for r in page.items], "total": page.total}


async def order_reconcile(req: RestRequest) -> OrderView:
    return order_view(await payments.order_reconcile(req.ctx, req.path("id")))


# -- payment channel settings ----------------------------------------------------------------


def channel_view(channel: ChannelView) -> ChannelSettings:
    # The provider's fields are keys of the view (which ones: ``CHANNEL_FIELDS``).
    return cast(ChannelSettings, {"provider": channel.provider, "enabled": channel.enabled,
            **channel.fields, "callbackNetworks": list(channel.callback_networks)})  # fmt: skip


async def settings_get(req: RestRequest) -> ChannelSettingsList:
    return {"channels": [channel_view(c) for c in await payments.payment_settings(req.ctx)]}


def _changes(body: dict[str, Any]) -> list[ChannelChange]:
    channels = body.get("channels")
    if not isinstance(channels, list) or not all(isinstance(c, dict) for c in channels):
        raise InvalidInput("channels must be a list of channel settings", field="channels")
    changes = []
    for raw in channels:
        enabled = raw.get("enabled", False)
        if not isinstance(enabled, bool):
            raise InvalidInput("enabled must be true or false", field="enabled")
        networks = raw.get("callbackNetworks")
        if networks is not None and (
            not isinstance(networks, list) or not all(isinstance(n, str) for n in networks)
        ):
            raise InvalidInput("callbackNetworks must be a list of CIDRs", field="callbackNetworks")
        fields = {k: v for k, v in raw.items()
                  if k not in ("provider", "enabled", "callbackNetworks")}  # fmt: skip
        for name, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{name} must be text", field=name)
        changes.append(ChannelChange(
            provider=str(raw.get("provider") or ""), enabled=enabled, fields=fields,
            callback_networks=networks,
        ))  # fmt: skip
    return changes


async def settings_put(req: RestRequest) -> ChannelSettingsList:
    views = await payments.payment_settings_update(req.ctx, _changes(req.body))
    return {"channels": [channel_view(c) for c in views]}


async def payment_channels(req: RestRequest) -> OfferedChannels:
    return {
        "channels": [
            {"provider": c.provider, "displayName": c.display_name,
             "description": c.description, "icon": c.icon}
            for c in await payments.payment_channels(req.ctx)
        ]
    }  # fmt: skip
