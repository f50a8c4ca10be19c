"""Scheduled background jobs: their schedules, runs, stored state and final failures."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class JobOutcome(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class JobSchedule:
    """``every``: the tick length (a job runs once per tick across every process);
    ``max_tries`` tries, the n-th retry after ``backoff * 2**(n-1)``; a start delayed by up
    to ``jitter`` so that N processes do not hit the database on the same instant."""

    name: str
    every: timedelta
    max_tries: int = 3
    backoff: timedelta = timedelta(seconds=2)
    jitter: timedelta = timedelta(seconds=0)
    timeout: timedelta = timedelta(minutes=5)
    description: str = ""

    def tick(self, now: datetime) -> int:
        """Which tick ``now`` is in (ticks are aligned on the epoch)."""
        return int(now.timestamp() // self.every.total_seconds())

    def next_run(self, now: datetime) -> datetime:
        seconds = (self.tick(now) + 1) * self.every.total_seconds()
        return datetime.fromtimestamp(seconds, tz=now.tzinfo)

    def retry_delay(self, attempt: int) -> timedelta:
        """The wait before the try after ``attempt`` (1-based) failed."""
        return timedelta(seconds=self.backoff.total_seconds() * 2 ** (attempt - 1))


@dataclass(frozen=True, slots=True)
class JobRun:
    name: str
    tick: int
    started_at: datetime
    finished_at: datetime
    attempts: int
    outcome: JobOutcome
    error: str | None = None
    detail: str | None = None

    @property
    def duration_ms(self) -> int:
        return max(int((self.finished_at - self.started_at).total_seconds() * 1000), 0)


@dataclass(frozen=True, slots=True)
class JobState:
    """What the store keeps of one job: its last run and its counters."""

    name: str
    last_run_at: datetime | None = None
    last_duration_ms: int | None = None
    last_outcome: JobOutcome | None = None
    last_error: str | None = None
    last_detail: str | None = None
    next_run_at: datetime | None = None
    runs: int = 0
    failures: int = 0


@dataclass(frozen=True, slots=True)
class JobFailure:
    """A run that failed on its last try."""

    id: str
    name: str
    failed_at: datetime
    attempts: int
    error: str


@dataclass(frozen=True, slots=True)
class JobView:
    """One scheduled job as an admin sees it."""

    name: str
    description: str
    every_seconds: int
    max_tries: int
    last_run_at: datetime | None
    last_duration_ms: int | None
    last_outcome: str | None
    last_error: str | None
    last_detail: str | None
    next_run_at: datetime
    runs: int
    failures: int


@dataclass(frozen=True, slots=True)
class JobsOverview:
    jobs: tuple[JobView, ...]
    failures: tuple[JobFailure, ...]
    """The most recent final failures first."""
    runner: str
    """Where the jobs run: ``worker`` (arq on Redis) or ``in-process`` (inside serve)."""
