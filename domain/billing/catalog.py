"""The plan catalog's administration (``/v1/billing/plans``) and the caller's plan
(``/v1/billing/me/plan``), on the ``plans`` table the quota gate reads."""

from __future__ import annotations

import re
from dataclasses import replace

from domain.billing.access import require_superadmin, user_of
from domain.billing.commands import PlanChanges as PlanInput
from domain.billing.currency import normalise_code
from domain.billing.errors import FreePlanUndeletable, InvalidPlan, PlanNotFound
from domain.billing.plan_changes import PlanChanges
from domain.billing.ports import PlanStore, UnitOfWorkFactory
from domain.clock import Clock
from domain.errors import Unauthenticated
from domain.principal import Principal
from domain.quota.plans import FALLBACK_PLAN_ID, Plan
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

PERIODS = ("monthly", "yearly", "lifetime")
RESERVED_PLAN_IDS = frozenset({"topup"})
"""The original filed top-ups under a plan named ``topup`` (its bug §6.14)."""
_PLAN_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_LIMIT = 10**12


def _non_negative(value: int, field: str, maximum: int = MAX_LIMIT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidPlan(f"{field} must be an integer between 0 and {maximum}", field=field)
    return value


def validate_plan(given: PlanInput) -> Plan:
    plan_id = given.plan_id.strip()
    if not _PLAN_ID.fullmatch(plan_id) or plan_id in RESERVED_PLAN_IDS:
        raise InvalidPlan("id must be 1-64 of a-z, 0-9, _ and -", field="id")
    name = given.name.strip()
    if not name or len(name) > 100:
        raise InvalidPlan("name is required (at most 100 characters)", field="name")
    if len(given.description) > 500:
        raise InvalidPlan("description is at most 500 characters", field="description")
    period = (given.period or "monthly").strip().lower()
    if period not in PERIODS:
        raise InvalidPlan("period must be monthly, yearly or lifetime", field="period")
    return Plan(
        id=plan_id, name=name, description=given.description,
        price_cents=_non_negative(given.price_cents, "priceCents"),
        currency=normalise_code(given.currency or "CNY", field="currency"), period=period,
        qps=_non_negative(given.qps, "qps", 1_000_000),
        daily_limit=_non_negative(given.daily_limit, "dailyLimit"),
        monthly_limit=_non_negative(given.monthly_limit, "monthlyLimit"),
        soft_limit_pct=_non_negative(given.soft_limit_pct, "softLimitPct", 100),
        pay_as_you_go=bool(given.pay_as_you_go),
        overage_price_per_1k=_non_negative(given.overage_price_per_1k, "overagePricePer_1k"),
        sort_order=_non_negative(given.sort_order, "sortOrder", 1_000_000), is_active=True,
    )  # fmt: skip


class PlanService:
    def __init__(
        self,
        *,
        store: PlanStore,
        uow: UnitOfWorkFactory,
        clock: Clock,
        changes: PlanChanges,
        audit: AuditLog,
    ) -> None:
        self._store = store
        self._uow = uow
        self._clock = clock
        self._changes = changes
        self._audit = audit

    async def active(self, principal: Principal) -> list[Plan]:
        """Active plans by ``sort_order`` (anyone signed in may look, as the original)."""
        if not principal.is_authenticated:
            raise Unauthenticated()
        return [p for p in await self._store.list_all() if p.is_active]

    async def get(self, plan_id: str) -> Plan:
        plan = await self._store.get(plan_id)
        if plan is None:
            raise PlanNotFound()
        return plan

    async def my_plan(self, principal: Principal) -> tuple[str, Plan]:
        """The caller's user id and plan (an unknown plan id reads as the free plan, as
        the quota gate treats it)."""
        user_id = user_of(principal)
        async with self._uow() as uow:
            user = await uow.users.get(user_id)
        plan_id = user.plan_id if user is not None else FALLBACK_PLAN_ID
        plan = await self._store.get(plan_id) or await self._store.get(FALLBACK_PLAN_ID)
        if plan is None:
            raise PlanNotFound()
        return user_id, plan

    async def save(self, principal: Principal, given: PlanInput) -> Plan:
        require_superadmin(principal)
        plan = validate_plan(given)
        await self._store.save(plan, self._clock.now())
        await self._changes.plan_changed(plan.id)
        await self._audit.record(
            AuditAction.BILLING_PLAN_SAVED, principal, plan_id=plan.id,
            price_cents=str(plan.price_cents), qps=str(plan.qps),
            daily_limit=str(plan.daily_limit), monthly_limit=str(plan.monthly_limit),
        )  # fmt: skip
        return plan

    async def delete(self, principal: Principal, plan_id: str) -> Plan:
        """Soft delete: no longer offered; whoever has it keeps its limits."""
        require_superadmin(principal)
        if plan_id == FALLBACK_PLAN_ID:
            raise FreePlanUndeletable()
        plan = await self.get(plan_id)
        deleted = replace(plan, is_active=False)
        await self._store.save(deleted, self._clock.now())
        await self._changes.plan_changed(plan_id)
        await self._audit.record(AuditAction.BILLING_PLAN_DELETED, principal, plan_id=plan_id)
        return deleted
