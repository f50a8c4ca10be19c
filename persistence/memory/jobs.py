"""In-process job state, tick claims and final failures (one process only)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.jobs.model import JobFailure, JobOutcome, JobRun, JobState


class MemoryJobStore:
    """``JobStore`` and ``TickClaims`` for a single process."""

    def __init__(self) -> None:
        self._states: dict[str, JobState] = {}
        self._ticks: dict[str, int] = {}
        self._failures: list[JobFailure] = []

    async def claim(self, name: str, tick: int, ttl_seconds: float) -> bool:
        if self._ticks.get(name, -1) >= tick:
            return False
        self._ticks[name] = tick
        return True

    async def record(self, run: JobRun, next_run_at: datetime, failure_id: str) -> None:
        failed = run.outcome is JobOutcome.FAILED
        state = self._states.get(run.name) or JobState(name=run.name)
        self._states[run.name] = replace(
            state, last_run_at=run.started_at, last_duration_ms=run.duration_ms,
            last_outcome=run.outcome, last_error=run.error, last_detail=run.detail,
            next_run_at=next_run_at, runs=state.runs + 1,
            failures=state.failures + (1 if failed else 0),
        )  # fmt: skip
        if failed:
            self._failures.append(
                JobFailure(failure_id, run.name, run.finished_at, run.attempts, run.error or "")
            )

    async def states(self) -> list[JobState]:
        return list(self._states.values())

    async def failures(self, *, limit: int) -> list[JobFailure]:
        ordered = sorted(self._failures, key=lambda f: (f.failed_at, f.id), reverse=True)
        return ordered[:limit]


class MemoryExpiredPurger:
    """The in-process stores answer only live entries by themselves (each read checks
    the expiry); nothing is kept on disk to purge, so this reports no rows."""

    async def purge_expired(self, now: datetime) -> dict[str, int]:
        return {}
