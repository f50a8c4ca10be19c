"""What the jobs context needs: a store of job state and failures, and tick claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from domain.jobs.model import JobFailure, JobRun, JobState

Job = Callable[[], Awaitable[str | None]]
"""A job: calls domain services; returns a short detail for admins (counts), or None."""

Sleep = Callable[[float], Awaitable[None]]


class JobStore(Protocol):
    async def record(self, run: JobRun, next_run_at: datetime, failure_id: str) -> None:
        """Store the run as the job's last one (counters +1); a failed run is also kept as
        a ``JobFailure`` with ``failure_id``."""

    async def states(self) -> list[JobState]: ...

    async def failures(self, *, limit: int) -> list[JobFailure]:
        """The most recent final failures first."""


class TickClaims(Protocol):
    async def claim(self, name: str, tick: int, ttl_seconds: float) -> bool:
        """True for exactly one caller per (job, tick), across every process that shares
        this store; the claim may be forgotten after ``ttl_seconds``."""


class ExpiredPurger(Protocol):
    async def purge_expired(self, now: datetime) -> dict[str, int]:
        """Delete expired sessions, sign-in challenges, one-time tokens and OAuth flow
        states; returns how many rows of each kind went."""
