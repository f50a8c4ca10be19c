"""Invoices: one numbered invoice per paid order, issued in the callback's unit of work
(so an order is never completed without its invoice), listed by ``/v1/billing/invoices``
(the original's was always empty), each with a printable page."""

from __future__ import annotations

from datetime import datetime

from domain.billing.access import user_of
from domain.billing.errors import InvoiceNotFound
from domain.billing.model import Invoice, InvoiceLine, Order, OrderPurpose
from domain.billing.ports import UnitOfWork, UnitOfWorkFactory
from domain.errors import InvalidInput
from domain.ids import new_id
from domain.paging import MAX_OFFSET, Page, page_size
from domain.principal import Principal


async def issue_invoice(uow: UnitOfWork, order: Order, what: str, now: datetime) -> Invoice:
    existing = await uow.invoices.by_order(order.id)
    if existing is not None:
        return existing
    user = await uow.users.get(order.user_id)
    line = InvoiceLine(what, 1, order.amount_minor, order.amount_minor)
    return await uow.invoices.add(
        Invoice(
            id=new_id(),
            user_id=order.user_id,
            order_id=order.id,
            buyer_email=user.email if user is not None else "",
            currency=order.currency,
            total_minor=order.amount_minor,
            lines=(line,),
            issued_at=now,
            paid_at=order.paid_at or now,
            payment_provider=order.payment_provider,
        )
    )


def line_description(order: Order, plan_name: str | None, period: str | None) -> str:
    if order.purpose is OrderPurpose.TOPUP:
        text = f"Wallet top-up {order.credited.formatted()} {order.credited.currency}"
    else:
        text = f"{plan_name or order.plan_id} plan ({period or 'monthly'})"
    if order.fx_rate is not None:
        text += f" at {order.fx_rate} {order.currency}/{order.original_currency}"
    return text


class InvoiceService:
    def __init__(self, *, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def list(self, principal: Principal, *, limit: int, offset: int) -> Page[Invoice]:
        user_id = user_of(principal)
        if offset < 0 or offset > MAX_OFFSET:
            raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        async with self._uow() as uow:
            return await uow.invoices.list_for_user(user_id, limit=page_size(limit), offset=offset)

    async def get(self, principal: Principal, invoice_id: str) -> Invoice:
        """One of the caller's invoices (an admin may open anyone's)."""
        user_id = user_of(principal) if not principal.is_admin else principal.user_id
        async with self._uow() as uow:
            invoice = await uow.invoices.get(invoice_id)
        if invoice is None or (not principal.is_admin and invoice.user_id != user_id):
            raise InvoiceNotFound()
        return invoice
