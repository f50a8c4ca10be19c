"""The one quota gate every request passes: which limits apply to a caller and an
operation, admission (one atomic reservation), refunds, and the caller's current state.

Limits (0 means unlimited and is left out):

* every API-key request: the key's requests per minute (GCRA over 60 s) and per UTC day;
* metered operations, for API keys and sessions alike: the plan's QPS (per key, or per
  user for sessions), and the plan's daily and monthly units per user, on the calendar of
  the configured time zone, each operation costing its weight.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.clock import Clock
from domain.errors import RateLimited
from domain.quota.errors import QuotaExceeded, QuotaUnavailable
from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitKind,
    LimitState,
    QuotaStoreUnavailable,
    RateLimit,
    Reservation,
)
from domain.quota.metering import Metered
from domain.quota.overage import OverageRefusal, OverageVerdict
from domain.quota.plans import FALLBACK_PLAN_ID, Plan
from domain.quota.ports import OveragePayer, PlanCatalog, QuotaGate, UsedUnits

log = logging.getLogger("karpov.quota")

MINUTE = 60.0
SECOND = 1.0
PLAN_CACHE_SECONDS = 30.0
LIMITS_CACHE_SECONDS = 3600.0
LIMITS_CACHE_MAX = 10_000


class OnStoreError(StrEnum):
    """What the gate does when its store (Redis) cannot be reached."""

    DENY = "deny"
    ALLOW = "allow"


@dataclass(frozen=True, slots=True)
class Caller:
    """Whose allowances a request draws on."""

    user_id: str
    plan_id: str
    key_id: str | None = None
    key_rpm: int = 0
    key_daily: int = 0


@dataclass(frozen=True, slots=True)
class _LimitsById:
    caller: Caller
    plan: Plan | None
    metered: Sequence[Metered]
    valid_from: float
    valid_until: float
    limits: list[Limit]


@dataclass(frozen=True, slots=True)
class Admission:
    """An admitted request: what it was charged (for refunds) and the limits' states
    (for the response headers)."""

    caller: Caller
    plan: Plan | None
    states: tuple[LimitState, ...]
    reservation: Reservation | None
    metered: tuple[Metered, ...]
    degraded: bool = False
    """True when the store was unreachable and the policy let the request through."""
    extra_usage: OverageVerdict | None = None
    """Set when the plan's monthly units were used up and the call was paid from the
    wallet (pay-as-you-go)."""


@dataclass(frozen=True, slots=True)
class LimitReport:
    """One limit a caller is measured against, as both edges report it."""

    name: LimitKind
    limit: int
    remaining: int
    reset_after: float
    """Seconds until the allowance is whole again, or the window ends (to the ms)."""
    window_seconds: int | None
    """The rolling window of a rate (60 for per minute); ``None`` for calendar windows
    (day, month)."""

    @classmethod
    def of(cls, state: LimitState) -> LimitReport:
        limit = state.limit
        return cls(
            name=LimitKind(limit.kind), limit=limit.limit, remaining=state.remaining,
            reset_after=round(state.reset_after, 3),
            window_seconds=round(limit.period) if isinstance(limit, RateLimit) else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class QuotaStatus:
    """The limits a caller is measured against and what remains of them."""

    plan_id: str
    plan_name: str
    limits: tuple[LimitReport, ...]


class QuotaService:
    def __init__(
        self,
        gate: QuotaGate,
        plans: PlanCatalog,
        clock: Clock,
        *,
        timezone: ZoneInfo,
        used: UsedUnits,
        on_store_error: OnStoreError = OnStoreError.DENY,
        overage: OveragePayer | None = None,
    ) -> None:
        self._overage = overage
        self._gate = gate
        self._used = used
        self._timezone = timezone
        self._plans = plans
        self._clock = clock
        self._on_store_error = on_store_error
        self._plan_cache: dict[str, tuple[float, Plan]] = {}
        self._limits_cache: dict[tuple[Caller, Plan | None, tuple[Metered, ...], int | None],
                                 tuple[float, float, list[Limit]]] = {}  # fmt: skip
        # perf (issue 18): the same memo by the identities of the caller, plan and
        # operations (hashing them by value costs more than the rest of the lookup): an
        # API key's gate hands out one caller and one operations tuple per key and plan
        # (``access.key_admission``), ``plan`` one plan object. Each entry holds its
        # objects (so their ids stay theirs) and the value entry's validity; it is dropped
        # with the value memo.
        self._limits_by_id: dict[tuple[int, int, int, int | None], _LimitsById] = {}
        self._utc_day = _CalendarWindow(UTC, _next_day, "%Y%m%d")
        self._day_window = _CalendarWindow(timezone, _next_day, "%Y%m%d")
        self._month_window = _CalendarWindow(timezone, _next_month, "%Y-%m")

    async def plan(self, plan_id: str) -> Plan:
        """The plan (cached briefly: plans change rarely and are read on every metered
        call); an unknown id falls back to the free plan rather than to "unlimited"."""
        now = self._clock.now().timestamp()
        cached = self._plan_cache.get(plan_id)
        if cached is not None and now - cached[0] < PLAN_CACHE_SECONDS:
            return cached[1]
        plan = await self._plans.get(plan_id)
        if plan is None:
            log.warning("unknown plan %r, using %r", plan_id, FALLBACK_PLAN_ID)
            plan = await self._plans.get(FALLBACK_PLAN_ID)
            if plan is None:
                raise LookupError(f"the fallback plan {FALLBACK_PLAN_ID!r} is missing")
        self._plan_cache[plan_id] = (now, plan)
        return plan

    def forget_plan(self, plan_id: str | None = None) -> None:
        """Drop a cached plan (``None``: every plan), so its next use reads the catalog:
        billing calls this when a plan changes (in every process, through its broadcast)."""
        if plan_id is None:
            self._plan_cache.clear()
        else:
            self._plan_cache.pop(plan_id, None)
        self._limits_cache.clear()
        self._limits_by_id.clear()

    def limits(
        self,
        caller: Caller,
        plan: Plan | None,
        metered: Sequence[Metered],
        now: datetime,
        requests: int | None = None,
    ) -> list[Limit]:
        """The limits of one request. A caller's limits only change when a calendar bucket
        ends (or the caller, plan or operations do), so they are memoised until then.
        ``requests``: what the plan's QPS counts (default: one per metered operation)."""
        return self._limits_at(caller, plan, metered, now, now.timestamp(), requests)

    def _limits_at(
        self,
        caller: Caller,
        plan: Plan | None,
        metered: Sequence[Metered],
        now: datetime,
        at: float,
        requests: int | None,
    ) -> list[Limit]:
        """``limits``, with ``at`` = ``now.timestamp()``."""
        by_id = (id(caller), id(plan), id(metered), requests)
        hit = self._limits_by_id.get(by_id)
        if (
            hit is not None and hit.caller is caller and hit.plan is plan
            and hit.metered is metered and hit.valid_from <= at < hit.valid_until
        ):  # fmt: skip
            return hit.limits
        key = (caller, plan, tuple(metered), requests)
        cached = self._limits_cache.get(key)
        if cached is None or not cached[0] <= at < cached[1]:
            limits = self._build_limits(caller, plan, metered, now, requests)
            valid_until = min(
                (limit.resets_at for limit in limits if isinstance(limit, CounterLimit)),
                default=at + LIMITS_CACHE_SECONDS,
            )
            if len(self._limits_cache) >= LIMITS_CACHE_MAX:
                self._limits_cache.clear()
                self._limits_by_id.clear()
            # Valid from now (a clock that goes back must not reuse a later day's buckets)
            # until the first bucket ends.
            cached = (at, min(valid_until, at + LIMITS_CACHE_SECONDS), limits)
            self._limits_cache[key] = cached
        if type(metered) is tuple:  # only an immutable sequence is memoised by identity
            if len(self._limits_by_id) >= LIMITS_CACHE_MAX:
                self._limits_by_id.clear()
            self._limits_by_id[by_id] = _LimitsById(caller, plan, metered, *cached)
        return cached[2]

    def _build_limits(
        self,
        caller: Caller,
        plan: Plan | None,
        metered: Sequence[Metered],
        now: datetime,
        requests: int | None = None,
    ) -> list[Limit]:
        limits: list[Limit] = []
        owner = caller.user_id  # every limit of a request is its user's (one cluster slot)
        if caller.key_id is not None:
            key = f"key:{caller.key_id}"
            if caller.key_rpm > 0:
                limits.append(
                    RateLimit(LimitKind.KEY_RPM, key, caller.key_rpm, MINUTE, owner=owner)
                )
            if caller.key_daily > 0:
                day, ends = self._utc_day.bucket(now)
                limits.append(
                    CounterLimit(LimitKind.KEY_DAILY, key, caller.key_daily, day, ends, owner=owner)
                )
        if metered and plan is not None:
            units = sum(m.weight for m in metered)
            subject = f"key:{caller.key_id}" if caller.key_id else f"user:{caller.user_id}"
            user = f"user:{caller.user_id}"
            if plan.qps > 0:
                limits.append(
                    RateLimit(
                        LimitKind.PLAN_QPS,
                        subject,
                        plan.qps,
                        SECOND,
                        cost=len(metered) if requests is None else requests,
                        owner=owner,
                    )
                )
            if plan.daily_limit > 0:
                day, ends = self._local_day(now)
                limits.append(
                    CounterLimit(
                        LimitKind.PLAN_DAILY, user, plan.daily_limit, day, ends, units, owner
                    )
                )
            if plan.monthly_limit > 0:
                month, ends = self._local_month(now)
                limits.append(
                    CounterLimit(
                        LimitKind.PLAN_MONTHLY,
                        user,
                        plan.monthly_limit,
                        month,
                        ends,
                        units,
                        owner,
                    )
                )
        return limits

    async def admit(
        self, caller: Caller, metered: Sequence[Metered] = (), *, requests: int | None = None
    ) -> Admission:
        """Reserve everything the request needs in one step, or refuse it whole.
        ``requests``: what the plan's QPS counts (default: one per metered operation; a
        GraphQL document reserving an upper bound counts its metered root fields).

        Raises ``RateLimited`` / ``QuotaExceeded`` (429) naming the refusing limit,
        or ``QuotaUnavailable`` when the store is down and the policy is to deny."""
        now = self._clock.now()
        at = now.timestamp()
        plan: Plan | None = None
        if metered:
            # perf (issue 18): the plan memo's fast path at the admission's instant (a
            # second clock read would only move its 30 s expiry by microseconds)
            cached = self._plan_cache.get(caller.plan_id)
            if cached is not None and at - cached[0] < PLAN_CACHE_SECONDS:
                plan = cached[1]
            else:
                plan = await self.plan(caller.plan_id)
        limits = self._limits_at(caller, plan, metered, now, at, requests)
        ops = tuple(metered)
        if not limits:
            return Admission(caller, plan, (), None, ops)
        try:
            decision = await self._gate.reserve(limits, at)
        except QuotaStoreUnavailable:
            if self._on_store_error is OnStoreError.ALLOW:
                log.warning("quota store unreachable: admitting without limits (policy allow)")
                return Admission(caller, plan, (), None, ops, degraded=True)
            log.error("quota store unreachable: refusing (policy deny)")
            raise QuotaUnavailable() from None
        if not decision.allowed:
            denied = decision.denied
            if (
                denied is not None and denied.kind is LimitKind.PLAN_MONTHLY
                and plan is not None and plan.pay_as_you_go and self._overage is not None
            ):  # fmt: skip
                return await self._pay_as_you_go(caller, plan, limits, ops, decision, now)
            raise _refusal(decision)
        return Admission(caller, plan, decision.states, decision.reservation, ops)

    async def _pay_as_you_go(
        self,
        caller: Caller,
        plan: Plan,
        limits: list[Limit],
        ops: tuple[Metered, ...],
        refused: Decision,
        now: datetime,
    ) -> Admission:
        """The monthly units are used up: reserve every other limit, then let the overage
        payer charge the wallet; if it refuses, give the reservation back and refuse."""
        assert self._overage is not None
        others = [limit for limit in limits if limit.kind is not LimitKind.PLAN_MONTHLY]
        try:
            decision = await self._gate.reserve(others, now.timestamp())
        except QuotaStoreUnavailable:
            raise QuotaUnavailable() from None
        if not decision.allowed:
            raise _refusal(decision)
        units = sum(m.weight for m in ops)
        verdict = await self._overage.charge(
            caller.user_id, plan, units, [m.operation for m in ops]
        )
        if verdict.allowed:
            return Admission(
                caller, plan, decision.states, decision.reservation, ops, extra_usage=verdict
            )
        if decision.reservation is not None:
            try:
                await self._gate.refund(decision.reservation, self._clock.now().timestamp())
            except QuotaStoreUnavailable:
                log.error("quota store unreachable: refund of a refused overage lost")
        error = _refusal(refused)
        reason = _OVERAGE_REFUSALS[verdict.reason or OverageRefusal.DISABLED]
        data = {**(error.data or {}), "extraUsage": verdict.data()}
        raise QuotaExceeded(reason, retry_after=error.retry_after, data=data,
                            states=error.states)  # fmt: skip

    async def refund(self, admission: Admission, failed: Metered) -> None:
        """Give back the plan units of one failed operation (its share of the request);
        for a call paid as extra usage, what its units cost."""
        paid = admission.extra_usage
        if paid is not None and paid.allowed and admission.plan is not None and self._overage:
            try:
                await self._overage.refund(admission.caller.user_id, admission.plan, failed.weight)
            except Exception:
                log.exception("overage refund of %s failed", failed.operation)
        await self.refund_units(admission, failed.weight, failed.operation)

    async def refund_units(self, admission: Admission, units: int, what: str = "units") -> None:
        """Give back ``units`` of the request's plan units (the unused part of a
        reservation)."""
        if admission.reservation is None or units <= 0:
            return
        counters = tuple(
            _with_cost(limit, units)
            for limit in admission.reservation.limits
            if isinstance(limit, CounterLimit)
            and limit.kind in (LimitKind.PLAN_DAILY, LimitKind.PLAN_MONTHLY)
        )
        if not counters:
            return
        try:
            await self._gate.refund(
                Reservation(counters, admission.reservation.at), self._clock.now().timestamp()
            )
        except QuotaStoreUnavailable:
            log.error("quota store unreachable: refund of %s lost", what)

    async def status(self, caller: Caller) -> QuotaStatus:
        """The caller's limits and what remains of them, charging nothing. A metered
        operation of weight 1 stands for "the plan's limits"."""
        now = self._clock.now()
        plan = await self.plan(caller.plan_id)
        limits = self.limits(caller, plan, (Metered("status", 1),), now)
        try:
            states = await self._gate.peek(limits, now.timestamp())
        except QuotaStoreUnavailable:
            raise QuotaUnavailable() from None
        return QuotaStatus(plan.id, plan.name, tuple(LimitReport.of(s) for s in states))

    async def restore_if_lost(self, settle: Callable[[], Awaitable[None]] | None = None) -> bool:
        """harden (issue 12): when the gate's store lost its state (Redis restarted empty),
        start the plan's day and month counters again from the usage roll-ups, so a restart
        hands out no fresh quota; the gate refuses meanwhile. ``settle`` runs first (the
        processes' unflushed usage reaching the roll-ups). ``True`` when it restored."""

        async def load() -> list[CounterLimit]:
            if settle is not None:
                await settle()
            now = self._clock.now()
            day, day_ends = self._local_day(now)
            month, month_ends = self._local_month(now)
            on_day, in_month = await self._used.units_by_user(now.astimezone(self._timezone).date())
            counters = [
                CounterLimit(
                    LimitKind.PLAN_DAILY, f"user:{user}", units, day, day_ends, units, user
                )
                for user, units in on_day.items()
            ]
            counters += [
                CounterLimit(LimitKind.PLAN_MONTHLY, f"user:{user}", units, month, month_ends,
                             units, user)
                for user, units in in_month.items()
            ]  # fmt: skip
            return counters

        restored = await self._gate.restore(load, self._clock.now().timestamp())
        if restored:
            log.warning("quota gate state was lost; plan usage restored from the roll-ups")
        return restored

    def _local_day(self, now: datetime) -> tuple[str, float]:
        return self._day_window.bucket(now)

    def _local_month(self, now: datetime) -> tuple[str, float]:
        return self._month_window.bucket(now)


_OVERAGE_REFUSALS = {
    OverageRefusal.DISABLED: "monthly quota exceeded; enable extra usage to continue",
    OverageRefusal.NOT_PAY_AS_YOU_GO: (
        "monthly quota exceeded; current plan does not support extra usage"
    ),
    OverageRefusal.CAP_EXCEEDED: "extra usage monthly cap reached",
    OverageRefusal.INSUFFICIENT_BALANCE: (
        "monthly quota exceeded; insufficient balance for extra usage"
    ),
}
"""The original's reasons (reference §3.6)."""


def _next_day(local: datetime, tz: tzinfo) -> datetime:
    return datetime.combine(local.date() + timedelta(days=1), time(), tz)


def _next_month(local: datetime, tz: tzinfo) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=tz)


class _CalendarWindow:
    """The current calendar bucket (label and end), recomputed only when time leaves it:
    time-zone arithmetic is a visible share of a cheap request."""

    def __init__(
        self, tz: tzinfo, next_start: Callable[[datetime, tzinfo], datetime], label: str
    ) -> None:
        self._tz = tz
        self._next_start = next_start
        self._label = label
        self._start = self._end = 0.0
        self._current = ""

    def bucket(self, now: datetime) -> tuple[str, float]:
        at = now.timestamp()
        if not self._start <= at < self._end:
            local = now.astimezone(self._tz)
            start = local.replace(hour=0, minute=0, second=0, microsecond=0)
            if self._label == "%Y-%m":
                start = start.replace(day=1)
            self._start = start.timestamp()
            self._end = self._next_start(local, self._tz).timestamp()
            self._current = local.strftime(self._label)
        return self._current, self._end


def _with_cost(limit: CounterLimit, cost: int) -> CounterLimit:
    return CounterLimit(
        limit.kind, limit.subject, limit.limit, limit.bucket, limit.resets_at, cost, limit.owner
    )


def _refusal(decision: Decision) -> RateLimited:
    denied = decision.denied
    assert denied is not None
    retry = max(1, math.ceil(decision.retry_after))
    # The states are uncharged on a refusal: what the refusing limit has used so far.
    used = next(
        (s.limit.limit - s.remaining for s in decision.states if s.limit == denied), denied.limit
    )
    states = decision.states
    match denied.kind:
        case LimitKind.KEY_RPM:
            data = {"limitRpm": denied.limit, "retryAfter": retry}
            return RateLimited("rate limit exceeded", retry_after=retry, data=data,
                                     states=states)  # fmt: skip
        case LimitKind.KEY_DAILY:
            data = {"limitDaily": denied.limit, "retryAfter": retry}
            return RateLimited("daily limit exceeded", retry_after=retry, data=data,
                                     states=states)  # fmt: skip
        case LimitKind.PLAN_QPS:
            data = {"limit": denied.limit, "retryAfter": retry}
            return RateLimited("QPS limit exceeded", retry_after=retry, data=data,
                                     states=states)  # fmt: skip
        case LimitKind.PLAN_DAILY:
            data = {"dailyLimit": denied.limit, "dailyUsed": used, "retryAfter": retry}
            return QuotaExceeded("daily quota exceeded", retry_after=retry, data=data,
                                 states=states)  # fmt: skip
        case LimitKind.PLAN_MONTHLY:
            data = {"monthlyLimit": denied.limit, "monthlyUsed": used, "retryAfter": retry}
            return QuotaExceeded("monthly quota exceeded", retry_after=retry, data=data,
                                 states=states)  # fmt: skip
    raise AssertionError(denied.kind)
