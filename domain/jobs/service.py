"""Running scheduled jobs: once per tick across processes, with retries and back-off, and
a record of every run (the last one per job, and each final failure) for admins.

Both runners use this: ``karpov worker`` (arq's cron enqueues each tick once, by a unique
job id) and the in-process ``Scheduler`` inside ``karpov serve`` without Redis. Either
way ``run_tick`` first claims the (job, tick) in the shared ``TickClaims``, so a tick runs
once even when two runners see it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from domain.clock import Clock
from domain.errors import Unauthenticated
from domain.ids import new_id
from domain.jobs.errors import JobsAdminRequired, JobUnknown
from domain.jobs.model import JobOutcome, JobRun, JobSchedule, JobsOverview, JobState, JobView
from domain.jobs.ports import Job, JobStore, Sleep, TickClaims
from domain.principal import Principal

log = logging.getLogger("karpov.jobs")

MAX_ERROR = 500
FAILURES_SHOWN = 50


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    schedule: JobSchedule
    job: Job


class JobRunner:
    def __init__(
        self,
        *,
        jobs: Sequence[ScheduledJob],
        store: JobStore,
        claims: TickClaims,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        runner: str = "in-process",
    ) -> None:
        self._jobs: dict[str, ScheduledJob] = {j.schedule.name: j for j in jobs}
        if len(self._jobs) != len(jobs):
            raise ValueError("two scheduled jobs share a name")
        self._store = store
        self._claims = claims
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        self.runner = runner
        self._observers: list[Callable[[JobRun], None]] = []

    def add_observer(self, observer: Callable[[JobRun], None]) -> None:
        """Called with every finished run (metrics); an observer's failure is logged."""
        self._observers.append(observer)

    @property
    def schedules(self) -> Mapping[str, JobSchedule]:
        return {name: j.schedule for name, j in self._jobs.items()}

    def schedule(self, name: str) -> JobSchedule:
        found = self._jobs.get(name)
        if found is None:
            raise JobUnknown(field="name")
        return found.schedule

    async def run_tick(self, name: str, *, tick: int | None = None) -> JobRun | None:
        """Run ``name`` for the current tick unless another process already claimed it
        (``None`` then)."""
        schedule = self.schedule(name)
        tick = schedule.tick(self._clock.now()) if tick is None else tick
        ttl = max(schedule.every.total_seconds() * 2, 60.0)
        if not await self._claims.claim(name, tick, ttl):
            return None
        jitter = schedule.jitter.total_seconds()
        if jitter > 0:
            await self._sleep(self._rng.uniform(0, jitter))
        return await self.run(name, tick=tick)

    async def run(self, name: str, *, tick: int | None = None) -> JobRun:
        """Run once now, retrying a failure ``max_tries`` times with back-off; the run is
        recorded (a final failure as well, with its error)."""
        found = self._jobs.get(name)
        if found is None:
            raise JobUnknown(field="name")
        schedule = found.schedule
        started = self._clock.now()
        tick = schedule.tick(started) if tick is None else tick
        error: str | None = None
        detail: str | None = None
        attempt = 0
        for attempt in range(1, schedule.max_tries + 1):
            try:
                detail = await asyncio.wait_for(found.job(), schedule.timeout.total_seconds())
                error = None
                break
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # a job's failure is recorded, never raised
                error = (f"{type(failure).__name__}: {failure}".rstrip(": "))[:MAX_ERROR]
                log.warning("job %s failed (try %d of %d)", name, attempt, schedule.max_tries,
                            extra={"job": name, "error": error})  # fmt: skip
                if attempt < schedule.max_tries:
                    await self._sleep(schedule.retry_delay(attempt).total_seconds())
        finished = self._clock.now()
        run = JobRun(
            name=name, tick=tick, started_at=started, finished_at=finished, attempts=attempt,
            outcome=JobOutcome.OK if error is None else JobOutcome.FAILED, error=error,
            detail=detail,
        )  # fmt: skip
        await self._store.record(run, schedule.next_run(finished), new_id())
        for observe in self._observers:
            try:
                observe(run)
            except Exception:
                log.exception("a job observer failed")
        if error is not None:
            log.error("job %s failed after %d tries", name, attempt, extra={"job": name})
        return run

    async def overview(self, principal: Principal) -> JobsOverview:
        """Every scheduled job with its last run and next run, and the final failures."""
        if not principal.is_authenticated:
            raise Unauthenticated()
        if not principal.is_admin:
            raise JobsAdminRequired()
        now = self._clock.now()
        states = {s.name: s for s in await self._store.states()}
        views = []
        for name, job in sorted(self._jobs.items()):
            s = states.get(name) or JobState(name=name)
            schedule = job.schedule
            views.append(
                JobView(
                    name=name, description=schedule.description,
                    every_seconds=int(schedule.every.total_seconds()),
                    max_tries=schedule.max_tries, last_run_at=s.last_run_at,
                    last_duration_ms=s.last_duration_ms,
                    last_outcome=s.last_outcome.value if s.last_outcome else None,
                    last_error=s.last_error, last_detail=s.last_detail,
                    next_run_at=schedule.next_run(now), runs=s.runs, failures=s.failures,
                )
            )  # fmt: skip
        failures = await self._store.failures(limit=FAILURES_SHOWN)
        return JobsOverview(jobs=tuple(views), failures=tuple(failures), runner=self.runner)


class Scheduler:
    """The in-process runner (``karpov serve`` without Redis): wakes every ``poll``
    seconds and starts each job whose tick changed since it last looked, at most one run
    per job at a time. ``stop`` takes no new runs and waits for running ones."""

    def __init__(self, runner: JobRunner, clock: Clock, *, poll: float = 1.0) -> None:
        self._runner = runner
        self._clock = clock
        self._poll = poll
        self._seen: dict[str, int] = {}
        self._running: dict[str, asyncio.Task[JobRun | None]] = {}
        self._stopping = asyncio.Event()

    def _start_due(self) -> None:
        now = self._clock.now()
        for name, schedule in self._runner.schedules.items():
            tick = schedule.tick(now)
            seen = self._seen.setdefault(name, tick)  # the first run is at the next tick
            busy = name in self._running and not self._running[name].done()
            if tick > seen and not busy:
                self._seen[name] = tick
                self._running[name] = asyncio.create_task(self._runner.run_tick(name, tick=tick))

    async def run_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                self._start_due()
            except Exception:
                log.exception("the job scheduler failed to start a job")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll)

    async def stop(self, grace: float) -> None:
        """Start nothing more; give running jobs ``grace`` seconds, then cancel them."""
        self._stopping.set()
        running = [t for t in self._running.values() if not t.done()]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(BaseException):  # cancelled on purpose
                    await task
                log.warning("a job was cancelled at shutdown")
