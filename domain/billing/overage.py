"""Pay-as-you-go overage: a metered call beyond a pay-as-you-go plan's monthly units is
paid from the wallet, inside the quota gate's decision (``domain.quota.ports.OveragePayer``).

Priced by accumulated units: the month's cost so far is ceil(units × pricePer1k / 1000),
and each call debits only the difference from what the month was charged already, so
1,000 calls at 100¢ per 1k cost 100¢ (the original charged ceil per call, at least 1¢:
1,000¢). The monthly cap and the wallet are checked in the same unit of work under the
wallet's row lock, so concurrent calls never overspend either. The cap, the notify
threshold and ``nearLimit`` are the original's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from domain.billing.access import user_of
from domain.billing.errors import InsufficientBalance, InvalidAmount
from domain.billing.model import (
    EntryKind,
    ExtraUsageSettings,
    OverageEvent,
    OverageMonth,
)
from domain.billing.ports import UnitOfWorkFactory
from domain.billing.wallet import Posting, post
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.ids import new_id
from domain.paging import MAX_OFFSET, Page
from domain.principal import Principal
from domain.quota.overage import OverageRefusal, OverageVerdict
from domain.quota.plans import FALLBACK_PLAN_ID, Plan
from domain.quota.ports import PlanCatalog

DEFAULT_NOTIFY_PCT = 80
MAX_LIST = 200


def month_cost(units: int, price_per_1k: int) -> int:
    """What ``units`` beyond the plan cost in a month, in minor units (rounded up once)."""
    return math.ceil(units * price_per_1k / 1000) if units > 0 else 0


def defaults(user_id: str) -> ExtraUsageSettings:
    return ExtraUsageSettings(user_id, False, 0, DEFAULT_NOTIFY_PCT)


@dataclass(frozen=True, slots=True)
class ExtraUsageChanges:
    enabled: bool | None = None
    monthly_cap_cents: int | None = None
    notify_threshold_pct: int | None = None


@dataclass(frozen=True, slots=True)
class ExtraUsageReport:
    """The original's ``/v1/billing/extra-usage/report``."""

    user_id: str
    year_month: str
    enabled: bool
    monthly_cap_cents: int
    notify_threshold_pct: int
    plan_id: str
    plan_name: str
    overage_price_per_1k: int
    base_monthly_limit: int
    overage_count: int
    overage_weight: int
    overage_cents: int
    remaining_cap_cents: int
    """0 when there is no cap."""
    used_cap_pct: float
    """A fraction (0.5 = half the cap); 0 without a cap."""
    near_limit: bool
    balance_cents: int
    balance_currency: str
    updated_at: datetime | None


class OverageService:
    def __init__(
        self, *, uow: UnitOfWorkFactory, plans: PlanCatalog, clock: Clock, timezone: ZoneInfo
    ) -> None:
        self._uow = uow
        self._plans = plans
        self._clock = clock
        self._tz = timezone

    def _year_month(self, now: datetime) -> str:
        return now.astimezone(self._tz).strftime("%Y-%m")

    # -- the quota gate's payer -------------------------------------------------------

    async def charge(
        self, user_id: str, plan: Plan, units: int, operations: Sequence[str]
    ) -> OverageVerdict:
        if not plan.pay_as_you_go or plan.overage_price_per_1k <= 0:
            return OverageVerdict(False, OverageRefusal.NOT_PAY_AS_YOU_GO, currency=plan.currency)
        now = self._clock.now()
        year_month = self._year_month(now)
        async with self._uow() as uow:
            # The wallet's lock serialises this user's overage decisions.
            wallet = await uow.wallets.lock(user_id, plan.currency, now)
            settings = await uow.overage.settings(user_id) or defaults(user_id)
            cap = settings.monthly_cap_minor
            if not settings.enabled:
                return OverageVerdict(False, OverageRefusal.DISABLED, cap_minor=cap,
                                      currency=plan.currency)  # fmt: skip
            month = await uow.overage.month(user_id, year_month) or OverageMonth(
                user_id, year_month, plan.id, 0, 0, 0, plan.currency, now
            )
            total_units = month.units + units
            cost = month.amount_minor + max(
                0,
                month_cost(total_units, plan.overage_price_per_1k)
                - month_cost(month.units, plan.overage_price_per_1k),
            )
            delta = cost - month.amount_minor
            if cap > 0 and cost > cap:
                return OverageVerdict(False, OverageRefusal.CAP_EXCEEDED, 0,
                                      month.amount_minor, cap, plan.currency)  # fmt: skip
            if delta > wallet.balance_minor:
                return OverageVerdict(False, OverageRefusal.INSUFFICIENT_BALANCE, 0,
                                      month.amount_minor, cap, plan.currency)  # fmt: skip
            event_id = new_id()
            if delta > 0:
                try:
                    await post(
                        uow,
                        Posting(
                            user_id,
                            plan.currency,
                            -delta,
                            EntryKind.OVERAGE,
                            f"overage:{event_id}",
                            reference=year_month,
                            description=f"pay-as-you-go {', '.join(operations)}"[:500],
                        ),
                        now,
                    )
                except InsufficientBalance:
                    return OverageVerdict(False, OverageRefusal.INSUFFICIENT_BALANCE, 0,
                                          month.amount_minor, cap, plan.currency)  # fmt: skip
            await uow.overage.save_month(
                replace(
                    month,
                    plan_id=plan.id,
                    count=month.count + 1,
                    units=total_units,
                    amount_minor=cost,
                    updated_at=now,
                )
            )
            await uow.overage.add_event(
                OverageEvent(
                    event_id,
                    user_id,
                    year_month,
                    ",".join(operations)[:64],
                    plan.id,
                    units,
                    delta,
                    plan.currency,
                    now,
                )
            )
            await uow.commit()
        return OverageVerdict(True, None, delta, cost, cap, plan.currency)

    # -- the user's settings and reports ------------------------------------------------

    async def settings(self, principal: Principal) -> ExtraUsageSettings:
        user_id = user_of(principal)
        async with self._uow() as uow:
            return await uow.overage.settings(user_id) or defaults(user_id)

    async def update(self, principal: Principal, changes: ExtraUsageChanges) -> ExtraUsageSettings:
        user_id = user_of(principal)
        cap, pct = changes.monthly_cap_cents, changes.notify_threshold_pct
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise InvalidAmount("monthlyCapCents must be 0 or more", field="monthlyCapCents")
        if pct is not None and (isinstance(pct, bool) or not isinstance(pct, int)
                                or not 0 <= pct <= 100):  # fmt: skip
            raise InvalidInput("notifyThresholdPct must be 0..100", field="notifyThresholdPct")
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.overage.settings(user_id) or defaults(user_id)
            updated = replace(
                current,
                enabled=current.enabled if changes.enabled is None else changes.enabled,
                monthly_cap_minor=current.monthly_cap_minor if cap is None else cap,
                notify_threshold_pct=current.notify_threshold_pct if pct is None else pct,
                updated_at=now,
            )
            await uow.overage.save_settings(updated)
            await uow.commit()
        return updated

    async def report(self, principal: Principal, month: str | None = None) -> ExtraUsageReport:
        user_id = user_of(principal)
        now = self._clock.now()
        year_month = (month or "").strip() or self._year_month(now)
        if len(year_month) != 7 or year_month[4] != "-" or not (
            year_month[:4].isdigit() and year_month[5:].isdigit()
            and 1 <= int(year_month[5:]) <= 12
        ):  # fmt: skip
            raise InvalidInput("month must be YYYY-MM", field="month")
        async with self._uow() as uow:
            settings = await uow.overage.settings(user_id) or defaults(user_id)
            used = await uow.overage.month(user_id, year_month)
            user = await uow.users.get(user_id)
            plan = await self._plans.get(user.plan_id if user else FALLBACK_PLAN_ID)
            if plan is None:
                plan = await self._plans.get(FALLBACK_PLAN_ID)
            assert plan is not None
            wallet = await uow.wallets.get(user_id, plan.currency)
        spent = used.amount_minor if used else 0
        cap = settings.monthly_cap_minor
        fraction = round(spent / cap, 4) if cap > 0 else 0.0
        return ExtraUsageReport(
            user_id=user_id, year_month=year_month, enabled=settings.enabled,
            monthly_cap_cents=cap, notify_threshold_pct=settings.notify_threshold_pct,
            plan_id=plan.id, plan_name=plan.name,
            overage_price_per_1k=plan.overage_price_per_1k,
            base_monthly_limit=plan.monthly_limit,
            overage_count=used.count if used else 0, overage_weight=used.units if used else 0,
            overage_cents=spent, remaining_cap_cents=max(cap - spent, 0) if cap > 0 else 0,
            used_cap_pct=fraction,
            near_limit=cap > 0 and fraction * 100 >= settings.notify_threshold_pct,
            balance_cents=wallet.balance_minor if wallet else 0, balance_currency=plan.currency,
            updated_at=used.updated_at if used else settings.updated_at,
        )  # fmt: skip

    async def charges(
        self, principal: Principal, *, limit: int = 12, offset: int = 0
    ) -> Page[OverageMonth]:
        user_id = user_of(principal)
        async with self._uow() as uow:
            return await uow.overage.months(
                user_id, limit=_limit(limit, 12), offset=_offset(offset)
            )

    async def events(
        self, principal: Principal, *, limit: int = 100, offset: int = 0
    ) -> Page[OverageEvent]:
        user_id = user_of(principal)
        async with self._uow() as uow:
            return await uow.overage.events(
                user_id, limit=_limit(limit, 100), offset=_offset(offset)
            )


def _limit(limit: int, default: int) -> int:
    return limit if 0 < limit <= MAX_LIST else default


def _offset(offset: int) -> int:
    if offset < 0 or offset > MAX_OFFSET:
        raise InvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
    return offset
