"""Brute-force protection: exponential back-off after failures, and windowed counters.

Both are decided and recorded atomically in one step by the store (a Redis Lua script,
or a lock in-process), so concurrent attempts can never slip past a limit (the classic
check-then-increment race)."""

from __future__ import annotations

import math

from domain.errors import RateLimited
from domain.security.model import BackoffRule, WindowRule
from domain.security.ports import ThrottleStore


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
