"""Refunds (admin): of completed orders only, full or partial, recorded with their effects.

A full refund moves the order to ``refunded``; a partial one keeps it ``completed`` and
adds to ``refunded_minor``. A top-up refund debits the wallet by what the refunded part
credited (a ``refund`` line: refused when the money is already spent). A full refund of a
plan order ends the subscription it paid for and moves the user back to ``free``.
Karpov records the refund and its effects; returning the money through the payment
provider is outside it (the provider's merchant console), as the README says."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.billing.access import require_admin
from domain.billing.commands import RefundOrder
from domain.billing.errors import InvalidAmount, OrderNotFound, OrderNotRefundable
from domain.billing.idempotency import generated_key, normalise_key
from domain.billing.model import (
    EntryKind,
    Order,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
    Refund,
    RefundType,
    SubscriptionStatus,
)
from domain.billing.money import Money
from domain.billing.plan_changes import PlanChanges
from domain.billing.ports import UnitOfWorkFactory
from domain.billing.subscriptions import set_user_plan
from domain.billing.wallet import Posting, post
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.ids import new_id
from domain.principal import Principal
from domain.quota.plans import FALLBACK_PLAN_ID
from domain.security.audit import AuditLog
from domain.security.model import AuditAction


@dataclass(frozen=True, slots=True)
class RefundResult:
    order: Order
    refund: Refund


class RefundService:
    def __init__(
        self, *, uow: UnitOfWorkFactory, clock: Clock, changes: PlanChanges, audit: AuditLog
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._changes = changes
        self._audit = audit

    async def refund(self, principal: Principal, command: RefundOrder) -> RefundResult:
        require_admin(principal)
        reason = command.reason.strip()
        if not reason:
            raise InvalidInput("reason is required", field="reason")
        try:
            kind = RefundType((command.refund_type or "full").strip().lower())
        except ValueError:
            raise InvalidInput("refundType must be full or partial", field="refundType") from None
        key = normalise_key(command.idempotency_key) or generated_key("refund")
        now = self._clock.now()
        downgraded = False
        async with self._uow() as uow:
            order = await uow.orders.get_for_update(command.order_id)
            if order is None:
                raise OrderNotFound()
            replay = await uow.refunds.by_key(order.id, key)
            if replay is not None:
                return RefundResult(order, replay)
            if order.status is not OrderStatus.COMPLETED:
                raise OrderNotRefundable()
            remaining = order.amount_minor - order.refunded_minor
            if kind is RefundType.FULL:
                amount = remaining
            else:
                given = (command.amount or "").strip()
                if not given:
                    raise InvalidAmount("amount is required for a partial refund", field="amount")
                amount = Money.parse(given, order.currency, field="amount").amount_minor
                if not 0 < amount <= remaining:
                    most = Money(remaining, order.currency).formatted()
                    raise InvalidAmount(f"amount must be more than 0, at most {most}",
                                        field="amount")  # fmt: skip
            refunded = order.refunded_minor + amount
            full = refunded == order.amount_minor
            if order.purpose is OrderPurpose.TOPUP:
                credited = order.credited
                back = int(
                    (Decimal(credited.amount_minor) * amount / order.amount_minor).quantize(
                        Decimal(1), rounding=ROUND_HALF_UP
                    )
                )
                await post(
                    uow,
                    Posting(
                        order.user_id,
                        credited.currency,
                        -back,
                        EntryKind.REFUND,
                        f"refund:{order.id}:{key}",
                        order_id=order.id,
                        reference=reason[:200],
                        description=f"{kind.value} refund of a top-up",
                        actor=principal.actor,
                    ),
                    now,
                )
            elif full:
                sub = await uow.subscriptions.get_for_update(order.user_id)
                if sub is not None and sub.live and sub.plan_id == order.plan_id:
                    await uow.subscriptions.save(
                        sub.with_changes(status=SubscriptionStatus.CANCELED, updated_at=now)
                    )
                    await set_user_plan(uow, order.user_id, FALLBACK_PLAN_ID, now)
                    downgraded = True
            order = (
                order.moved(OrderEvent.REFUND, refunded_minor=refunded)
                if full
                else order.with_changes(refunded_minor=refunded)
            )
            await uow.orders.update(order)
            refund = Refund(
                id=new_id(), order_id=order.id, user_id=order.user_id, amount_minor=amount,
                currency=order.currency, refund_type=kind, reason=reason[:500],
                idempotency_key=key, operator=principal.actor, created_at=now,
            )  # fmt: skip
            await uow.refunds.add(refund)
            await uow.commit()
        if downgraded:
            await self._changes.user_changed(order.user_id)
        await self._audit.record(
            AuditAction.BILLING_ORDER_REFUNDED, principal, subject_user_id=order.user_id,
            order_id=order.id, refund_type=kind.value, amount_minor=str(amount),
            currency=order.currency, reason=reason[:200],
        )  # fmt: skip
        return RefundResult(order, refund)
