"""What the quota context needs from the outside world: the gate's store (Redis, or
in-process), the plan catalog, and somewhere to record the usage of admitted calls.
Every store port has one contract suite (tests/contract) run against every
implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Protocol

from domain.quota.gate import CounterLimit, Decision, Limit, LimitState, Reservation
from domain.quota.metering import Metered
from domain.quota.overage import OverageVerdict
from domain.quota.plans import Plan


class QuotaGate(Protocol):
    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        """Atomically: if every limit has room for its ``cost``, charge them all and allow;
        otherwise charge nothing and refuse. ``now`` is epoch seconds (the caller's clock,
        so tests can move time). An empty ``limits`` is allowed without touching the store.
        Raises ``QuotaStoreUnavailable`` when the store cannot be reached."""

    async def refund(self, reservation: Reservation, now: float) -> None:
        """Give back the units of the reservation's ``CounterLimit``s (never below zero;
        a bucket that has ended is left alone). Rate limits are not refunded: the attempt
        did use the capacity they protect."""

    async def peek(self, limits: Sequence[Limit], now: float) -> tuple[LimitState, ...]:
        """The current state of each limit, charging nothing (``cost`` is ignored:
        ``remaining`` is whole units left)."""

    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        """If the store lost its state (a Redis restarted without persistence) or never had
        it: ``load`` the counters to start from (each one's ``cost`` is the units already
        used), write them and mark the state whole, once across processes; until then
        ``reserve`` and ``peek`` raise ``QuotaStoreUnavailable`` (no request gets fresh
        quota). ``False``, without calling ``load``, when the state is whole; a store that
        cannot lose its state always answers ``False``."""


class UsedUnits(Protocol):
    """Units used so far, from the durable usage roll-ups (the usage store implements it)."""

    async def units_by_user(self, day: date) -> tuple[dict[str, int], dict[str, int]]:
        """Per user: the units used on ``day`` and in its month (local calendar)."""


class PlanCatalog(Protocol):
    async def get(self, plan_id: str) -> Plan | None: ...

    async def list_active(self) -> list[Plan]:
        """Active plans by ``sort_order``."""


class OveragePayer(Protocol):
    """Pays for a metered call beyond a pay-as-you-go plan's monthly units (implemented by
    billing's ``OverageService``; a port, so quota does not import billing)."""

    async def charge(
        self, user_id: str, plan: Plan, units: int, operations: Sequence[str]
    ) -> OverageVerdict: ...


PlanOfUser = Callable[[str], Awaitable[str]]
"""The plan id of a user (for a signed-in session's metered calls)."""


class UsageLog(Protocol):
    """Where the request gate records each admitted metered call (implemented by
    ``domain.usage.service.UsageRecorder``; a port, so quota does not import usage)."""

    def record(
        self,
        *,
        user_id: str,
        key_id: str | None,
        metered: Metered,
        ok: bool,
        started: datetime,
    ) -> None: ...
