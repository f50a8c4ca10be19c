"""/v1 routes of the payment channels (issue 16): the admin views of callbacks and the
reconciliation of one order. The callbacks themselves are ``rest.billing.callback``."""

from __future__ import annotations

from typing import Any

from domain.billing.callbacks import CallbackRecord
from resolvers import payments
from rest.billing import order_view
from rest.envelope import rfc3339
from rest.router import RestRequest


def callback_view(record: CallbackRecord) -> dict[str, Any]:
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


async def callbacks(req: RestRequest) -> dict[str, Any]:
    page = await payments.payment_callbacks(
        req.ctx, order_id=req.query("orderId"), provider=req.query("provider"),
        refused_only=_flag(req.query("refused")), limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )  # fmt: skip
    return {
        "items": [callback_view(r) for r in page.items], "total": page.total,
        "limit": page.limit, "offset": page.offset,
    }  # fmt: skip


async def order_callbacks(req: RestRequest) -> dict[str, Any]:
    page = await payments.payment_callbacks(
        req.ctx, order_id=req.path("id"), limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )  # fmt: skip
    return {"items": [callback_view(r) for r in page.items], "total": page.total}


async def order_reconcile(req: RestRequest) -> dict[str, Any]:
    return order_view(await payments.order_reconcile(req.ctx, req.path("id")))
