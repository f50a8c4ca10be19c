"""Subscriptions: paying a plan order starts or extends one; the user's plan (and so every
key's limits) follows the live subscription; a cancellation ends it at the period end;
at the end of a period it renews from the wallet when ``autoRenew`` is on and the balance
suffices, else it goes ``past_due`` for a grace period, then expires back to ``free``.

``advance`` is the clock-driven step (the worker runs it; the server also runs it every
minute): everything here takes ``now`` from the injected clock, so tests move time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.billing.access import require_superadmin, user_of
from domain.billing.errors import (
    BillingUserNotFound,
    InsufficientBalance,
    InvalidPlan,
    SubscriptionNotFound,
)
from domain.billing.model import (
    EntryKind,
    Order,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
)
from domain.billing.periods import period_end
from domain.billing.plan_changes import PlanChanges
from domain.billing.ports import UnitOfWork, UnitOfWorkFactory
from domain.billing.wallet import Posting, post
from domain.clock import Clock
from domain.ids import new_id
from domain.principal import Principal
from domain.quota.plans import FALLBACK_PLAN_ID, Plan
from domain.quota.ports import PlanCatalog
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

log = logging.getLogger("karpov.billing.subscriptions")

GRACE_PERIOD = timedelta(days=3)
BATCH = 500


async def set_user_plan(uow: UnitOfWork, user_id: str, plan_id: str, now: datetime) -> None:
    user = await uow.users.get_for_update(user_id)
    if user is not None and user.plan_id != plan_id:
        await uow.users.update(user.with_changes(plan_id=plan_id, updated_at=now))


@dataclass(frozen=True, slots=True)
class PlanGrant:
    """The original's answer to ``POST /v1/admin/users/:id/plan``."""

    plan_id: str
    updated_keys: int
    total_keys: int


class SubscriptionService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        plans: PlanCatalog,
        clock: Clock,
        changes: PlanChanges,
        audit: AuditLog,
        grace: timedelta = GRACE_PERIOD,
    ) -> None:
        self._uow = uow
        self._plans = plans
        self._clock = clock
        self._changes = changes
        self._audit = audit
        self._grace = grace

    # -- paying (inside the callback's unit of work) ---------------------------------

    async def fulfil(self, uow: UnitOfWork, order: Order, plan: Plan, now: datetime) -> None:
        """A paid plan order: the same plan extends the live subscription by a period;
        another plan (or none live) starts a new one now."""
        current = await uow.subscriptions.get_for_update(order.user_id)
        if (
            current is not None and current.live and current.plan_id == plan.id
            and current.source is SubscriptionSource.PURCHASE
            and current.current_period_end is not None
        ):  # fmt: skip
            base = max(current.current_period_end, now)
            anchor = current.anchor_day if base == current.current_period_end else now.day
            renewed = current.with_changes(
                status=SubscriptionStatus.ACTIVE, grace_until=None, cancel_at_period_end=False,
                current_period_end=period_end(base, plan.period, anchor), anchor_day=anchor,
                last_order_id=order.id, updated_at=now,
            )  # fmt: skip
            await uow.subscriptions.save(renewed)
        else:
            await uow.subscriptions.save(
                Subscription(
                    id=new_id(),
                    user_id=order.user_id,
                    plan_id=plan.id,
                    period=plan.period,
                    status=SubscriptionStatus.ACTIVE,
                    source=SubscriptionSource.PURCHASE,
                    current_period_start=now,
                    current_period_end=period_end(now, plan.period),
                    anchor_day=now.day,
                    cancel_at_period_end=False,
                    auto_renew=True,
                    created_at=now,
                    updated_at=now,
                    last_order_id=order.id,
                )
            )
        await set_user_plan(uow, order.user_id, plan.id, now)

    # -- the subscriber's own ----------------------------------------------------------

    async def current(self, principal: Principal) -> Subscription | None:
        user_id = user_of(principal)
        async with self._uow() as uow:
            return await uow.subscriptions.get(user_id)

    async def cancel(self, principal: Principal) -> Subscription:
        """End at the period end; one without an end (lifetime, a grant) ends now."""
        user_id = user_of(principal)
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.subscriptions.get_for_update(user_id)
            if current is None or not current.live:
                raise SubscriptionNotFound()
            if current.current_period_end is None:
                current = current.with_changes(status=SubscriptionStatus.CANCELED, updated_at=now)
                await set_user_plan(uow, user_id, FALLBACK_PLAN_ID, now)
            else:
                current = current.with_changes(cancel_at_period_end=True, updated_at=now)
            await uow.subscriptions.save(current)
            await uow.commit()
        if not current.live:
            await self._changes.user_changed(user_id)
        return current

    async def set_auto_renew(self, principal: Principal, auto_renew: bool) -> Subscription:
        user_id = user_of(principal)
        async with self._uow() as uow:
            current = await uow.subscriptions.get_for_update(user_id)
            if current is None or not current.live:
                raise SubscriptionNotFound()
            current = current.with_changes(auto_renew=auto_renew, updated_at=self._clock.now())
            await uow.subscriptions.save(current)
            await uow.commit()
        return current

    # -- an admin's grant ------------------------------------------------------------

    async def grant(self, principal: Principal, user_id: str, plan_id: str) -> PlanGrant:
        """Put the user on ``plan_id`` until changed (recorded as a grant; ``free`` ends
        any subscription)."""
        require_superadmin(principal)
        plan = await self._plans.get(plan_id.strip())
        if plan is None:
            raise InvalidPlan("no such plan", field="planId")
        now = self._clock.now()
        async with self._uow() as uow:
            if await uow.users.get_for_update(user_id) is None:
                raise BillingUserNotFound()
            current = await uow.subscriptions.get_for_update(user_id)
            if plan.id == FALLBACK_PLAN_ID:
                if current is not None and current.live:
                    await uow.subscriptions.save(
                        current.with_changes(status=SubscriptionStatus.CANCELED, updated_at=now)
                    )
            else:
                await uow.subscriptions.save(
                    Subscription(
                        id=new_id(),
                        user_id=user_id,
                        plan_id=plan.id,
                        period=plan.period,
                        status=SubscriptionStatus.ACTIVE,
                        source=SubscriptionSource.GRANT,
                        current_period_start=now,
                        current_period_end=None,
                        anchor_day=now.day,
                        cancel_at_period_end=False,
                        auto_renew=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
            await set_user_plan(uow, user_id, plan.id, now)
            keys = await uow.api_keys.list_for_user(user_id)
            await uow.commit()
        await self._changes.user_changed(user_id)
        live = sum(1 for k in keys if k.revoked_at is None)
        await self._audit.record(
            AuditAction.BILLING_PLAN_GRANTED, principal, subject_user_id=user_id,
            plan_id=plan.id, previous_subscription=current.plan_id if current else "",
        )  # fmt: skip
        return PlanGrant(plan.id, live, len(keys))

    # -- the clock-driven step -------------------------------------------------------

    async def advance(self) -> int:
        """Renew, mark past due, or end every subscription whose period (or grace) is over
        by now. Returns how many changed."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.subscriptions.due(now, BATCH)
        changed = 0
        for user_id in due:
            if await self._advance_one(user_id, now):
                changed += 1
        return changed

    async def _advance_one(self, user_id: str, now: datetime) -> bool:
        ended = False
        async with self._uow() as uow:
            sub = await uow.subscriptions.get_for_update(user_id)
            end = sub.current_period_end if sub is not None else None
            if sub is None or not sub.live or end is None or end > now:
                return False
            if sub.cancel_at_period_end or not sub.auto_renew:
                status = (
                    SubscriptionStatus.CANCELED if sub.cancel_at_period_end
                    else SubscriptionStatus.EXPIRED
                )  # fmt: skip
                sub, ended = sub.with_changes(status=status, updated_at=now), True
            else:
                renewed = await self._renew(uow, sub, end, now)
                if renewed is not None:
                    sub = renewed
                elif sub.status is SubscriptionStatus.ACTIVE:
                    sub = sub.with_changes(
                        status=SubscriptionStatus.PAST_DUE, grace_until=end + self._grace,
                        updated_at=now,
                    )  # fmt: skip
                elif sub.grace_until is None or sub.grace_until <= now:
                    sub, ended = sub.with_changes(status=SubscriptionStatus.EXPIRED,
                                                  updated_at=now), True  # fmt: skip
                else:
                    return False  # still in its grace period: try again later
            await uow.subscriptions.save(sub)
            if ended:
                await set_user_plan(uow, user_id, FALLBACK_PLAN_ID, now)
            await uow.commit()
        if ended:
            await self._changes.user_changed(user_id)
        return True

    async def _renew(
        self, uow: UnitOfWork, sub: Subscription, end: datetime, now: datetime
    ) -> Subscription | None:
        plan = await self._plans.get(sub.plan_id)
        if plan is None or not plan.is_active:
            return None
        if plan.price_cents > 0:
            try:
                await post(
                    uow,
                    Posting(
                        sub.user_id,
                        plan.currency,
                        -plan.price_cents,
                        EntryKind.SUBSCRIPTION,
                        f"renewal:{sub.id}:{end.isoformat()}",
                        reference=sub.id,
                        description=f"renewal of {plan.name}",
                    ),
                    now,
                )
            except InsufficientBalance:
                return None
        start, new_end = end, period_end(end, plan.period, sub.anchor_day)
        if new_end is not None and new_end <= now:  # long overdue: a period from now
            start, new_end = now, period_end(now, plan.period)
        return sub.with_changes(
            status=SubscriptionStatus.ACTIVE, grace_until=None, current_period_start=start,
            current_period_end=new_end, updated_at=now,
        )  # fmt: skip
