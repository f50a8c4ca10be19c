"""The quota gate's model: the limits one request is checked against, decided and reserved
atomically by the gate's store (``ports.QuotaGate``).

A request is checked against a handful of limits at once (the key's requests per minute
and per UTC day on every API-key request; for metered operations also the plan's QPS and
its daily and monthly units). All of them are decided and reserved together: either every
limit has room and every one is charged, or nothing is charged and the caller learns which
limit refused and when to retry. On Redis this is one Lua script (one round trip); the
in-process implementation keeps the same contract for the embedded default.

Two shapes of limit:

* :class:`RateLimit` is GCRA over ``period`` seconds: a burst of ``limit`` units is
  allowed at once, after which units come back at ``limit / period`` per second. Exact
  under concurrency, one value of state per subject.
* :class:`CounterLimit` is a calendar counter (a UTC day, a day or month in the configured
  time zone): ``limit`` units per ``bucket``, reset when the bucket ends at ``resets_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class LimitKind(StrEnum):
    """Which rule a limit enforces; names the /v1 envelope, the headers and the GraphQL
    ``rateLimit`` entries."""

    KEY_RPM = "key_rpm"
    KEY_DAILY = "key_daily"
    PLAN_QPS = "plan_qps"
    PLAN_DAILY = "plan_daily"
    PLAN_MONTHLY = "plan_monthly"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """GCRA: at most ``limit`` units in any ``period`` seconds, bursts included."""

    kind: LimitKind
    subject: str
    """Whose allowance this is, e.g. ``key:<id>`` or ``user:<id>``; with ``kind`` it names
    the stored state, so two limits with equal kind and subject share one allowance."""
    limit: int
    period: float
    cost: int = 1
    owner: str = ""
    """The user whose request draws on this allowance (``Caller.user_id``): the gate's
    store keeps a request's state together by owner (one Redis Cluster slot per user)."""


@dataclass(frozen=True, slots=True)
class CounterLimit:
    """At most ``limit`` units per calendar ``bucket`` (e.g. ``20261127``, ``2026-11``);
    the bucket's state may be forgotten after ``resets_at`` (epoch seconds)."""

    kind: LimitKind
    subject: str
    limit: int
    bucket: str
    resets_at: float
    cost: int = 1
    owner: str = ""
    """As ``RateLimit.owner``."""


Limit = RateLimit | CounterLimit


@dataclass(slots=True)
class LimitState:
    """One limit as the caller sees it after the decision. (Results are plain, not
    frozen, dataclasses: one request builds several of them, and a frozen dataclass costs
    three times as much to create. Treat them as read-only.)"""

    limit: Limit
    remaining: int
    """Units still available after the decision; for the refusing limit, what is left
    (less than the request's cost, possibly 0)."""
    reset_after: float
    """Seconds until the allowance is whole again (rate) or the bucket ends (counter)."""


@dataclass(slots=True)
class Reservation:
    """What an admitted request was charged; hand it back to ``refund``."""

    limits: tuple[Limit, ...]
    at: float


@dataclass(slots=True)
class Decision:
    allowed: bool
    states: tuple[LimitState, ...]
    """One per requested limit, in the order given."""
    denied: Limit | None = None
    """The first limit (in the order given) that had no room; None when allowed."""
    retry_after: float = 0.0
    """Seconds until ``denied`` has room for this request's cost (> 0 when refused)."""
    reservation: Reservation | None = None
    """Present when allowed and at least one limit was charged."""


class QuotaStoreUnavailable(Exception):
    """The gate's store could not be reached; the caller applies the configured policy
    (``KARPOV_QUOTA_ON_REDIS_ERROR``)."""
