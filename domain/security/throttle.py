"""Brute-force protection: exponential back-off after failures, and windowed counters.

Both are decided and recorded atomically in one step by the store (a Redis Lua script,
or a lock in-process), so concurrent attempts can never slip past a limit (the classic
check-then-increment race)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from domain.errors import RateLimited


@dataclass(frozen=True, slots=True)
class BackoffRule:
    """``free`` attempts without waiting; then each further attempt must wait
    ``base_seconds * 2**(n - free)`` seconds after the previous one (n = attempts so far),
    capped at ``max_seconds``. Counts are forgotten ``reset_after`` seconds after the last
    attempt (automatic unlock)."""

    key: str
    free: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    reset_after: int = 24 * 3600

    def wait_after(self, attempts: int) -> float:
        if attempts < self.free:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2 ** (attempts - self.free)))


@dataclass(frozen=True, slots=True)
class WindowRule:
    """At most ``limit`` hits per ``window_seconds`` (window starts at the first hit)."""

    key: str
    limit: int
    window_seconds: int


class ThrottleStore(Protocol):
    async def acquire(self, rules: list[BackoffRule], now: float) -> float:
        """Atomically, for all rules at once: if any key must still wait, return the
        longest wait in seconds (> 0) and count nothing; otherwise count one attempt on
        every key, remember ``now`` as its last attempt, and return 0. An attempt is
        counted pessimistically as a failure until ``reset`` says it succeeded."""

    async def reset(self, key: str) -> None:
        """Forget a key's attempts (after a success, or an admin unlock)."""

    async def refund(self, key: str) -> None:
        """Take back one counted attempt (it succeeded), never below zero; keeps the rest
        (a shared address keeps its count of failures when one of its users succeeds)."""

    async def attempts(self, key: str) -> int:
        """Attempts counted for a key (0 when none or forgotten)."""

    async def hit(self, rules: list[WindowRule], now: float) -> float:
        """Atomically: if any window is full, return seconds until it reopens (> 0) and
        count nothing; otherwise count one hit in every window and return 0."""


class UnlimitedThrottle:
    """Allows everything. Only for services built without a store (unit tests of other
    rules); the composition root always passes a real one."""

    async def acquire(self, rules: list[BackoffRule], now: float) -> float:
        return 0.0

    async def reset(self, key: str) -> None:
        return None

    async def refund(self, key: str) -> None:
        return None

    async def attempts(self, key: str) -> int:
        return 0

    async def hit(self, rules: list[WindowRule], now: float) -> float:
        return 0.0


async def enforce_windows(
    store: ThrottleStore, rules: list[WindowRule], now: float, message: str | None = None
) -> None:
    """Count one hit in every window, or raise ``RateLimited`` counting nothing."""
    wait = await store.hit(rules, now)
    if wait > 0:
        raise RateLimited(message, retry_after=math.ceil(wait))


async def enforce_backoff(
    store: ThrottleStore, rules: list[BackoffRule], now: float, message: str | None = None
) -> None:
    """Count one attempt on every key, or raise ``RateLimited`` counting nothing."""
    wait = await store.acquire(rules, now)
    if wait > 0:
        raise RateLimited(message, retry_after=math.ceil(wait))
