"""``karpov worker``: the scheduled jobs on arq (Redis), over the same composition root
as the API (``build_container`` -> ``build_services``).

Every worker process runs arq's cron for each job; arq enqueues a tick under one unique
job id (``<name>:<tick start in ms>``), so N workers enqueue it once, and the job itself
claims (job, tick) in Redis before it runs (``JobRunner.run_tick``): a tick runs once even
when a late worker enqueues it after the first run's result expired. Retries with back-off
and the record of each run are ``JobRunner``'s, as in-process. SIGTERM: stop picking
jobs, give running ones ``KARPOV_SHUTDOWN_GRACE`` seconds, then cancel them; then the
container flushes its buffers.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, timedelta
from typing import Any

from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Worker
from prometheus_client import CollectorRegistry, start_http_server

from domain.jobs.model import JobSchedule
from gateway.container import HEARTBEAT_KEY
from gateway.jobs import job_schedules
from gateway.metrics import DomainMetrics, job_metrics
from gateway.settings import Settings

log = logging.getLogger("karpov.worker")

QUEUE = "karpov:jobs"
HEARTBEAT_EVERY = 30.0


def cron_times(every: timedelta) -> dict[str, Any]:
    """arq's cron fields for a tick of ``every`` (aligned on the UTC clock, like the
    ticks): a whole divisor of a minute, an hour or a day."""
    seconds = every.total_seconds()
    if seconds != int(seconds) or seconds <= 0:
        raise ValueError(f"a job interval must be whole seconds, not {seconds}")
    s = int(seconds)
    if s < 60 and 60 % s == 0:
        return {"second": set(range(0, 60, s))}
    if s % 60 == 0 and s < 3600 and 60 % (s // 60) == 0:
        return {"minute": set(range(0, 60, s // 60)), "second": 0}
    if s % 3600 == 0 and s <= 86400 and 24 % (s // 3600) == 0:
        return {"hour": set(range(0, 24, s // 3600)), "minute": 0, "second": 0}
    raise ValueError(f"a job interval must divide a minute, an hour or a day, not {s} s")


def tick_of(ctx: dict[str, Any], schedule: JobSchedule) -> int | None:
    """The tick arq enqueued this run for (from its unique job id), if it names one."""
    job_id = str(ctx.get("job_id") or "")
    stamp = job_id.rpartition(":")[2]
    if not stamp.isdigit():
        return None
    return int(int(stamp) / 1000 // schedule.every.total_seconds())


def cron_jobs(schedules: dict[str, JobSchedule]) -> list[CronJob]:
    jobs = []
    for name, schedule in sorted(schedules.items()):

        async def run(ctx: dict[str, Any], _name: str = name) -> str | None:
            runner = ctx["container"].services.jobs
            done = await runner.run_tick(_name, tick=tick_of(ctx, runner.schedule(_name)))
            return None if done is None else done.outcome.value

        run.__qualname__ = f"karpov_job_{name}"
        timeout = schedule.timeout * schedule.max_tries + schedule.jitter
        timeout += schedule.backoff * (2**schedule.max_tries)
        jobs.append(
            cron(
                run,
                name=f"karpov:{name}",
                unique=True,
                run_at_startup=False,
                max_tries=1,
                keep_result=max(schedule.every.total_seconds() * 2, 60.0),
                timeout=math.ceil(timeout.total_seconds()),
                **cron_times(schedule.every),
            )
        )
    return jobs


async def _heartbeat(ctx: dict[str, Any]) -> None:
    """``/readyz`` names a worker whose heartbeat is older than two minutes."""
    redis = ctx["container"].redis
    while True:
        try:
            now = ctx["container"].clock.now().timestamp()
            await redis.set(HEARTBEAT_KEY, str(now), ex=600)
        except Exception:
            log.warning("could not write the worker heartbeat")
        await asyncio.sleep(HEARTBEAT_EVERY)


def build_worker(settings: Settings) -> Worker:
    """An arq worker over a container built at its start-up (and closed at its end)."""
    from gateway.container import build_container

    if not settings.redis_url:
        raise ValueError("karpov worker needs KARPOV_REDIS_URL")
    probe = job_schedules(settings)

    registry = CollectorRegistry()
    jobs_observed, domain_observed = job_metrics(registry), DomainMetrics(registry)
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, registry=registry)

    async def startup(ctx: dict[str, Any]) -> None:
        container = await build_container(settings)
        container.services.jobs.add_observer(jobs_observed.observe)
        container.services.observations.add(domain_observed)
        ctx["container"] = container
        ctx["heartbeat"] = asyncio.create_task(_heartbeat(ctx))
        log.info("karpov worker started", extra={"jobs": ",".join(sorted(probe))})

    async def shutdown(ctx: dict[str, Any]) -> None:
        ctx["heartbeat"].cancel()
        await ctx["container"].close()

    return Worker(
        functions=[], cron_jobs=cron_jobs(probe), redis_settings=RedisSettings.from_dsn(
            settings.redis_url), queue_name=QUEUE, on_startup=startup, on_shutdown=shutdown,
        job_completion_wait=math.ceil(settings.shutdown_grace), timezone=UTC,
        max_jobs=16, health_check_key=f"{QUEUE}:health",
    )  # fmt: skip
