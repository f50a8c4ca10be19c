"""The quota gate in process, for a single process without Redis; also the arithmetic that
the Redis gate shares, so both decide identically.

Time is whole microseconds (``round(seconds * 1e6)``): every sum and comparison is exact,
in Python's integers here and in Lua's doubles (below 2**53) on Redis, so a burst of
``limit`` at one instant admits exactly ``limit`` units, never one more or one fewer.

Rates are GCRA. A rate limit emits one unit every ``interval`` = ``period / limit``
microseconds, rounded down to a whole microsecond (at least 1: rates above a million per
second are capped there). The state is the theoretical arrival time (TAT): when the
allowance is whole again. A request of ``cost`` units pushes the TAT by ``cost * interval``
and fits when the pushed TAT lies at most ``limit * interval`` ahead of ``now``: a burst of
exactly ``limit``, then one unit per ``interval``. Rounding the interval down lets each
unit come back at most one microsecond early, never late.

Counters hold the units used in their bucket. Once ``now`` reaches ``resets_at`` the
bucket's state is never read again: ``peek`` sees it empty, ``refund`` leaves it alone and
``reserve`` refuses to charge it (``ValueError``: the caller derives buckets from ``now``,
so an ended bucket is a caller's bug).

Decisions this module takes where the port leaves room (the Redis gate takes the same):

* A limit below 1, a cost below 1 or a period that is not positive is a ``ValueError``:
  an unlimited limit is left out by the caller, never passed.
* A cost above the limit never fits; it is refused like any other request, with the
  ``retry_after`` the arithmetic gives (the caller should not weigh an operation above a
  limit).
* A refused request reports each limit's uncharged state: ``remaining`` is what is truly
  left (for a limit without room, less than the cost), so a refusal can say how much of
  a quota is used.
* A limit listed twice in one request (equal kind and subject, and bucket for counters) is
  charged twice, and the second occurrence is checked with the first's charge included.
  Every state reported is the one after the whole decision.

Every method completes without awaiting, so each call is atomic under asyncio: concurrent
requests cannot slip past a limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitState,
    RateLimit,
    Reservation,
)

MICROS = 1_000_000

_SWEEP_EVERY = 1024
"""Calls between two sweeps of state that has run out."""


def micros(seconds: float) -> int:
    return round(seconds * MICROS)


RATE, COUNTER = 0, 1
"""Shapes in an encoded request."""


_ENCODED_MAX = 4096
_encoded: dict[tuple[str, bool, tuple[Limit, ...]], tuple[list[str], list[int], int]] = {}


def encode_limits(
    limits: Sequence[Limit], now_us: int, *, charging: bool, prefix: str = ""
) -> tuple[list[str], list[int]]:
    """What both gates decide on. Each limit's state name (after ``prefix``): limits with
    equal names share their state, a rate's owner, kind and subject, a counter's owner,
    kind, subject and bucket (``{u:<owner>}:r:<kind>:<subject>``,
    ``{u:<owner>}:c:<kind>:<subject>:<bucket>``: the owner is a Redis Cluster hash tag).
    And four whole numbers per limit: shape (``RATE`` or ``COUNTER``), limit, cost, and a
    rate's emission interval (µs per unit) or a counter's ``resets_at`` (µs).

    Refuses limits no gate can decide on (``ValueError``); ``charging`` adds the checks that
    only ``reserve`` needs. A caller's limits are the same request after request (until a
    bucket ends), so the encoding is memoised: it is a visible share of a cheap request."""
    key = (prefix, charging, tuple(limits))
    cached = _encoded.get(key)
    if cached is not None and now_us < cached[2]:
        return cached[0], cached[1]
    names, encoded = _encode(limits, now_us, charging=charging, prefix=prefix)
    ends = [encoded[4 * i + 3] for i in range(len(names)) if encoded[4 * i] == COUNTER]
    if len(_encoded) >= _ENCODED_MAX:
        _encoded.clear()
    # Valid until the first bucket ends: charging into an ended bucket must be refused.
    _encoded[key] = (names, encoded, min(ends, default=2**62) if charging else 2**62)
    return names, encoded


def _encode(
    limits: Sequence[Limit], now_us: int, *, charging: bool, prefix: str
) -> tuple[list[str], list[int]]:
    names: list[str] = []
    encoded: list[int] = []
    for limit in limits:
        most, cost = limit.limit, limit.cost
        if most < 1 or (charging and cost < 1):
            raise _invalid(limit, "limit and cost must be at least 1 (leave unlimited ones out)")
        if isinstance(limit, RateLimit):
            if not limit.period > 0:
                raise _invalid(limit, "period must be positive")
            names.append(f"{prefix}{{u:{limit.owner}}}:r:{limit.kind}:{limit.subject}")
            # Rounded down to whole µs, at least 1: see the module docstring.
            encoded += (RATE, most, cost, max(1, round(limit.period * MICROS) // most))
        else:
            resets_at = round(limit.resets_at * MICROS)
            if charging and resets_at <= now_us:
                raise _invalid(limit, f"bucket {limit.bucket!r} has ended")
            names.append(
                f"{prefix}{{u:{limit.owner}}}:c:{limit.kind}:{limit.subject}:{limit.bucket}"
            )
            encoded += (COUNTER, most, cost, resets_at)
    return names, encoded


def state_name(limit: Limit, prefix: str = "") -> str:
    """The name ``encode_limits`` gives a limit's state."""
    return encode_limits([limit], 0, charging=False, prefix=prefix)[0][0]


def _invalid(limit: Limit, why: str) -> ValueError:
    return ValueError(f"{limit.kind.value} of {limit.subject!r}: {why}")


def build_decision(limits: Sequence[Limit], now: float, outcome: Sequence[float]) -> Decision:
    """The port's ``Decision`` from the outcome both gates compute: the 1-based index of the
    first limit without room (0 when allowed), ``retry_after`` (µs), then ``remaining`` and
    ``reset_after`` (µs) per limit."""
    states = build_states(limits, outcome)
    denied = int(outcome[0])
    if denied:
        return Decision(False, states, limits[denied - 1], outcome[1] / MICROS)
    return Decision(True, states, None, 0.0, Reservation(tuple(limits), now))


def build_states(limits: Sequence[Limit], outcome: Sequence[float]) -> tuple[LimitState, ...]:
    # Limit i's figures sit at 2i and 2i + 1, counting limits from 1. (A list comprehension
    # is measurably cheaper than a generator here; this runs on every request.)
    return tuple(
        [
            LimitState(limit, int(outcome[2 * i]), outcome[2 * i + 1] / MICROS)
            for i, limit in enumerate(limits, 1)
        ]
    )


@dataclass(slots=True)
class _Bucket:
    used: int
    resets_at: int
    """µs; the state is dead from then on."""


class MemoryQuotaGate:
    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        """The process's memory is never lost while the process runs."""
        return False

    def __init__(self) -> None:
        self._tats: dict[str, int] = {}
        """Rate limits' TATs (µs) by state name."""
        self._buckets: dict[str, _Bucket] = {}
        self._latest = 0
        """The latest ``now`` seen (µs): what the sweep measures staleness against."""
        self._calls = 0

    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        if not limits:
            return Decision(True, ())
        now_us = micros(now)
        names, spec = encode_limits(limits, now_us, charging=True)
        self._tick(now_us)
        # Each state after this request's charges so far: a name listed twice sees the first.
        pending: dict[str, int] = {}
        fits: list[bool] = []
        denied, retry_us = 0, 0
        for i, name in enumerate(names):
            shape, most, cost, p = spec[4 * i : 4 * i + 4]
            before = pending.get(name)
            if shape == RATE:
                if before is None:
                    before = max(self._tats.get(name, now_us), now_us)
                # GCRA: the TAT this request pushes to must stay within limit * interval.
                after = before + cost * p
                room = after - now_us <= most * p
                if not room and not denied:
                    retry_us = after - most * p - now_us
            else:
                if before is None:
                    before = self._used(name, now_us)
                after = before + cost
                room = after <= most
                if not room and not denied:
                    retry_us = p - now_us
            fits.append(room)
            if room:
                pending[name] = after
            elif not denied:
                denied = i + 1

        if not denied:  # charge: all or nothing
            for i, name in enumerate(names):
                if spec[4 * i] == RATE:
                    self._tats[name] = pending[name]
                else:
                    self._buckets[name] = _Bucket(pending[name], spec[4 * i + 3])
        outcome = [denied, retry_us, *self._figures(names, spec, now_us)]
        return build_decision(limits, now, outcome)

    async def refund(self, reservation: Reservation, now: float) -> None:
        now_us = micros(now)
        for limit in reservation.limits:
            if not isinstance(limit, CounterLimit):
                continue  # the attempt did use the capacity a rate protects
            bucket = self._buckets.get(state_name(limit))
            if bucket is not None and now_us < bucket.resets_at:
                bucket.used = max(bucket.used - limit.cost, 0)

    async def peek(self, limits: Sequence[Limit], now: float) -> tuple[LimitState, ...]:
        now_us = micros(now)
        names, spec = encode_limits(limits, now_us, charging=False)
        return build_states(limits, [0, 0, *self._figures(names, spec, now_us)])

    def _figures(self, names: list[str], spec: list[int], now_us: int) -> list[int]:
        """Remaining whole units and µs until whole (rate) or the bucket ends, per limit."""
        figures: list[int] = []
        for i, name in enumerate(names):
            shape, most, _, p = spec[4 * i : 4 * i + 4]
            if shape == RATE:
                ahead = max(self._tats.get(name, now_us) - now_us, 0)
                figures += (max((most * p - ahead) // p, 0), ahead)
            elif now_us < p:
                figures += (max(most - self._used(name, now_us), 0), p - now_us)
            else:
                figures += (most, 0)  # an ended bucket is empty
        return figures

    def _used(self, name: str, now_us: int) -> int:
        bucket = self._buckets.get(name)
        if bucket is None or bucket.resets_at <= now_us:
            return 0
        return bucket.used

    def _tick(self, now_us: int) -> None:
        self._latest = max(self._latest, now_us)
        self._calls += 1
        if self._calls % _SWEEP_EVERY:
            return
        # A TAT in the past means a whole allowance, the same as no state at all.
        latest = self._latest
        self._tats = {k: tat for k, tat in self._tats.items() if tat > latest}
        self._buckets = {k: b for k, b in self._buckets.items() if b.resets_at > latest}
