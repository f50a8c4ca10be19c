"""The scheduled jobs: each one calls a domain operation through the services that
``build_services`` made (the API's composition root), so a job and a request never
disagree about a rule. The same list runs in ``karpov worker`` (arq on Redis) and inside
``karpov serve`` without Redis (``domain.jobs.service.Scheduler``).

To add a job: a line in ``SCHEDULE`` and its function in ``job_functions`` (calling the
domain operation); its tick may be overridden with ``KARPOV_JOB_INTERVALS``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from domain.billing.callbacks import RECONCILE_AFTER, CallbackService
from domain.billing.channels import PaymentChannelService
from domain.billing.orders import OrderService
from domain.billing.subscriptions import SubscriptionService
from domain.clock import Clock
from domain.jobs.model import JobSchedule
from domain.jobs.ports import ExpiredPurger, Job
from domain.jobs.service import ScheduledJob
from domain.mail.outbox import MailOutbox
from domain.pool.service import HEALTH_CONCURRENCY, HEALTH_TIMEOUT, PoolService
from domain.usage.service import UsageRecorder
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class JobDependencies:
    pool: PoolService
    outbox: MailOutbox
    usage: UsageRecorder
    expired: ExpiredPurger
    clock: Clock
    orders: OrderService
    subscriptions: SubscriptionService
    callbacks: CallbackService  # payments (issue 16): reconciliation
    channels: PaymentChannelService


def _job(call: Callable[[], Awaitable[object]]) -> Job:
    async def run() -> str | None:
        result = await call()
        return None if result is None else str(result)

    return run


SCHEDULE: dict[str, tuple[float, str]] = {
    "mail_outbox": (15, "deliver the mail outbox (retries with back-off)"),
    "pool_health": (
        300,
        "health-check every active pool credential (8 at once, 5 s each; the third "
        "failure in a row disables it)",
    ),
    "pool_refresh": (
        1800,
        "refresh queued pool credentials, and QQ Music logins with under 2 h of validity left",
    ),
    "purge_expired": (
        600,
        "delete expired sessions, sign-in challenges, one-time tokens and OAuth states",
    ),
    "usage_retention": (
        3600,
        "delete usage events older than KARPOV_USAGE_EVENT_RETENTION (roll-ups are kept)",
    ),
    "usage_rollup_repair": (
        3600,
        "recompute the two days before today's usage roll-ups from their events (fixes drift)",
    ),
    # billing (issue 14): its clock-driven domain operations
    "order_expiry": (60, "mark open orders past their TTL expired (OrderService.expire_overdue)"),
    "subscription_advance": (
        60,
        "renew, mark past due or end subscriptions whose period or grace is over "
        "(SubscriptionService.advance)",
    ),
    # payments (issue 16): reconciliation
    "payment_reconciliation": (
        60,
        "ask the provider about orders paying for over 5 min; a paid one is fulfilled "
        "through the callback path (CallbackService.reconcile_paying)",
    ),
}
"""Every scheduled job: its default tick (seconds) and what it does."""


def job_schedules(settings: Settings) -> dict[str, JobSchedule]:
    """The schedules alone (``karpov worker`` registers its cron jobs from them before
    any service exists); ``KARPOV_JOB_INTERVALS`` overrides a tick."""
    schedules = {}
    defaults = {**{name: every for name, (every, _) in SCHEDULE.items()},
                "pool_refresh": settings.pool_refresh_interval}  # fmt: skip
    for name, (_, description) in SCHEDULE.items():
        seconds = settings.job_intervals.get(name, defaults[name])
        if seconds <= 0:
            continue
        schedules[name] = JobSchedule(
            name=name, every=timedelta(seconds=seconds), description=description,
            max_tries=settings.job_max_tries, backoff=timedelta(seconds=settings.job_backoff),
            jitter=timedelta(seconds=min(settings.job_jitter, seconds / 4)),
        )  # fmt: skip
    return schedules


def billing_jobs(deps: JobDependencies) -> dict[str, Job]:
    """Billing's clock-driven operations (issues 14 and 16), scheduled as they are: order
    expiry and subscription renewal / past_due / expiry, every minute; and payment
    reconciliation: the providers are asked about orders ``paying`` over 5 min, and a paid
    one is fulfilled through the callback path (the same row lock and idempotence)."""

    async def reconcile() -> str:
        await deps.channels.refresh()  # the channels an admin configured, in this process too
        return str(await deps.callbacks.reconcile_paying(older_than=RECONCILE_AFTER))

    return {
        "order_expiry": _job(deps.orders.expire_overdue),
        "subscription_advance": _job(deps.subscriptions.advance),
        "payment_reconciliation": reconcile,
    }


def job_functions(deps: JobDependencies, settings: Settings) -> dict[str, Job]:
    async def purge() -> str:
        counts = await deps.expired.purge_expired(deps.clock.now())
        return ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "0"

    async def pool_health() -> str:
        sweep = await deps.pool.check_all(concurrency=HEALTH_CONCURRENCY, timeout=HEALTH_TIMEOUT)
        return f"checked={sweep.checked} failed={sweep.failed} disabled={sweep.disabled}"

    retention = settings.usage_event_retention
    return {
        "mail_outbox": _job(deps.outbox.deliver_due),
        "pool_health": pool_health,
        "pool_refresh": _job(deps.pool.refresh_due),
        "purge_expired": purge,
        "usage_retention": _job(lambda: deps.usage.prune(retention)),
        "usage_rollup_repair": _job(deps.usage.repair_rollups),
        **billing_jobs(deps),
    }


def scheduled_jobs(deps: JobDependencies, settings: Settings) -> list[ScheduledJob]:
    """Each schedule with its function (a schedule without one is a bug: it raises)."""
    functions = job_functions(deps, settings)
    schedules = job_schedules(settings)
    if set(functions) != set(SCHEDULE):
        raise ValueError(f"jobs without a schedule or function: {set(functions) ^ set(SCHEDULE)}")
    return [ScheduledJob(schedules[name], functions[name]) for name in sorted(schedules)]
