"""What the security context (audit log, throttling) needs from persistence. Each port has
one contract suite run against every implementation."""

from __future__ import annotations

from typing import Protocol

from domain.paging import Page
from domain.security.model import AuditEvent, AuditFilter, BackoffRule, WindowRule


class AuditStore(Protocol):
    async def append(self, event: AuditEvent) -> None: ...

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        """Newest first (``created_at`` descending, then id)."""


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
