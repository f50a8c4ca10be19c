"""perf (issue 18): the reservations of one event-loop tick that carry the same limits are
decided by the store in one call.

Many concurrent requests of one caller (an API key under load) each reserve the same
limits: one script call apiece costs the API process its client work and Redis its script
run, k times per tick. Reserving ``k`` requests' costs at once is, for every limit, the
same decision as reserving them one after another at the same instant:

* a counter ends at ``used + k * cost`` either way, and has room for all k exactly when it
  has room for the last one;
* a GCRA rate pushes its TAT by ``k * cost * interval`` either way, and the test of the
  last request (``TAT - now <= limit * interval``) is the binding one, because the TAT
  only grows.

So when the combined reservation is allowed, every request is admitted and sees the
states it would have seen in its turn (the first in the tick the most remaining); nothing
is over- or under-admitted. When it is refused, some of the k might still fit: the batch
is decided again one request at a time, in arrival order (pipelined, so still one write),
exactly as without coalescing. Refunds, peeks and restores pass through.

The first request of a tick for a given set of limits leads its batch: it yields once to
the loop (``asyncio.sleep(0)``), so the requests already ready to run join, then makes
the store call. Alone, it reserves as before (one extra loop turn of latency). With
followers, the call runs as a task that hands each request its decision, so a request
cancelled while it waits (a client gone) leaves the others their answers, as it would
without coalescing: its own units stay charged, like a cancelled single reservation's.

Batches are keyed by the identity of the limits list: ``QuotaService`` memoises one list
per caller and operations, so the requests of one caller share it. (The batch holds the
list, so its id cannot be reused while the batch is open; two equal lists simply form two
batches, each decided exactly.)
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence

from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitState,
    RateLimit,
    Reservation,
)
from domain.quota.ports import QuotaGate


class _Batch:
    __slots__ = ("limits", "now", "waiters")

    def __init__(self, limits: Sequence[Limit], now: float) -> None:
        self.limits = limits
        self.now = now
        self.waiters: list[asyncio.Future[Decision]] = []
        """The followers, in arrival order (the leader is first and not listed)."""


class CoalescingGate:
    """A ``QuotaGate`` that decides the same-limits reservations of one loop tick in one
    call to ``inner`` (see the module docstring)."""

    def __init__(self, inner: QuotaGate) -> None:
        self._inner = inner
        self._open: dict[int, _Batch] = {}
        self._scaled: dict[tuple[int, int], tuple[Sequence[Limit], list[Limit]]] = {}
        """The limits of k requests at once, by (id of the limits, k): built once, since
        ``dataclasses.replace`` is a visible share of a small batch."""

    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        if not limits:
            return Decision(True, ())
        batch = self._open.get(id(limits))
        if batch is not None and batch.limits is limits:
            waiter: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
            batch.waiters.append(waiter)
            return await waiter
        batch = _Batch(limits, now)
        self._open[id(limits)] = batch
        try:
            await asyncio.sleep(0)  # let the requests ready in this tick join
        except BaseException:
            del self._open[id(limits)]
            if batch.waiters:  # cancelled while others joined: they still get answers
                self._spawn(batch)
            raise
        del self._open[id(limits)]
        if not batch.waiters:
            return await self._inner.reserve(limits, now)
        # The leader's decision is the first; it waits like the others, so its own
        # cancellation does not abandon theirs.
        mine: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        batch.waiters.insert(0, mine)
        self._spawn(batch)
        return await mine

    def _spawn(self, batch: _Batch) -> None:
        task = asyncio.ensure_future(self._decide(batch))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)

    async def _decide(self, batch: _Batch) -> None:
        waiters = batch.waiters
        try:
            decisions = await decide_together(
                self._inner.reserve, batch.limits,
                self._scaled_for(batch.limits, len(waiters)), batch.now, len(waiters),
            )  # fmt: skip
        except asyncio.CancelledError:  # the loop is shutting down
            for waiter in waiters:
                waiter.cancel()
            raise
        except Exception as error:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(error)
            return
        for waiter, decision in zip(waiters, decisions, strict=True):
            if not waiter.done():
                waiter.set_result(decision)

    def _scaled_for(self, limits: Sequence[Limit], count: int) -> list[Limit]:
        cached = self._scaled.get((id(limits), count))
        if cached is not None and cached[0] is limits:
            return cached[1]
        scaled = scaled_limits(limits, count)
        if len(self._scaled) >= _SCALED_MAX:
            self._scaled.clear()
        self._scaled[(id(limits), count)] = (limits, scaled)  # holding the list keeps its id
        return scaled

    async def refund(self, reservation: Reservation, now: float) -> None:
        await self._inner.refund(reservation, now)

    async def peek(self, limits: Sequence[Limit], now: float) -> tuple[LimitState, ...]:
        return await self._inner.peek(limits, now)

    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        return await self._inner.restore(load, now)


_SCALED_MAX = 4096
_TASKS: set[asyncio.Task[None]] = set()
"""The batches being decided (the loop keeps only weak references to tasks)."""


def scaled_limits(limits: Sequence[Limit], count: int) -> list[Limit]:
    """``limits`` with ``count`` times their costs: ``count`` requests reserved at once."""
    return [dataclasses.replace(limit, cost=limit.cost * count) for limit in limits]


async def decide_together(
    reserve: Callable[[Sequence[Limit], float], Awaitable[Decision]],
    limits: Sequence[Limit],
    scaled: Sequence[Limit],
    now: float,
    count: int,
) -> list[Decision]:
    """``count`` reservations of ``limits`` at ``now`` (``scaled``: the same limits with
    ``count`` times their costs): one call for all of them when they all fit, else one
    call each, in order (the decisions ``count`` sequential calls would have given)."""
    together = await reserve(scaled, now)
    if not together.allowed:
        return list(await asyncio.gather(*(reserve(limits, now) for _ in range(count))))
    reservation = Reservation(tuple(limits), now)
    return [
        Decision(
            True, _states_in_turn(limits, together.states, count - 1 - turn), None, 0.0, reservation
        )
        for turn in range(count)
    ]


def _states_in_turn(
    limits: Sequence[Limit], after_all: Sequence[LimitState], later: int
) -> tuple[LimitState, ...]:
    """What a request sees when ``later`` requests of the batch are charged after it: each
    limit has their costs still remaining, and a rate is whole again that much sooner."""
    states = []
    for limit, state in zip(limits, after_all, strict=True):
        back = later * limit.cost
        reset = state.reset_after
        if isinstance(limit, RateLimit):
            # ``max(sooner, 0.0)`` without the call (max keeps its first argument unless
            # the second is greater: the same value, -0.0 and NaN included)
            sooner = reset - back * limit.period / limit.limit
            reset = 0.0 if sooner < 0.0 else sooner
        states.append(LimitState(limit, state.remaining + back, reset))
    return tuple(states)
