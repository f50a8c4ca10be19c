"""The scheduled jobs (issue 17): the runner's retries and back-off on a controllable
clock, the record admins see, once per tick, the in-process scheduler, and each job's
domain operation (pool health streaks, refresh before expiry, purge, retention, outbox)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.billing.callbacks import CallbackFilter
from domain.billing.commands import CreateOrder
from domain.billing.errors import PaymentProviderFailed
from domain.billing.model import OrderStatus
from domain.billing.money import Money
from domain.billing.ports import CallbackOutcome, ProviderOrderStatus
from domain.clock import ManualClock
from domain.jobs.errors import JobsAdminRequired
from domain.jobs.model import JobOutcome, JobSchedule
from domain.jobs.service import JobRunner, ScheduledJob, Scheduler
from domain.music.errors import UpstreamUnreachable
from domain.pool.commands import AddCredential
from domain.pool.model import CredentialStatus
from domain.principal import AuthMethod, Principal, Role
from domain.quota.metering import Metered
from gateway.jobs import SCHEDULE, job_schedules
from integrations.payments import MockProvider
from persistence.memory.jobs import MemoryJobStore
from tests.fakes.pool_lifecycle import RENEWED_EXPIRY, ScriptedLifecycle
from tests.support.billing import new_user
from tests.support.services import Built, build, offline, unit_settings

ADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
USER = Principal(AuthMethod.SESSION, user_id="u" * 32, session_id="s")
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class ClockSleep:
    """A ``sleep`` that moves the manual clock instead of waiting, and remembers waits."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(seconds)


def flaky(failures: int) -> tuple[list[int], Any]:
    calls: list[int] = []

    async def job() -> str:
        calls.append(len(calls) + 1)
        if len(calls) <= failures:
            raise OSError(f"down {len(calls)}")
        return "done"

    return calls, job


def runner_with(
    job: Any, clock: ManualClock, sleep: ClockSleep, *, tries: int = 3, every: int = 60
) -> tuple[JobRunner, MemoryJobStore]:
    store = MemoryJobStore()
    schedule = JobSchedule(
        name="flaky", every=timedelta(seconds=every), max_tries=tries,
        backoff=timedelta(seconds=2), description="a flaky job",
    )  # fmt: skip
    runner = JobRunner(
        jobs=[ScheduledJob(schedule, job)], store=store, claims=store, clock=clock, sleep=sleep
    )
    return runner, store


async def test_a_failure_is_retried_with_doubling_back_off() -> None:
    clock = ManualClock(T0)
    sleep = ClockSleep(clock)
    calls, job = flaky(2)
    runner, _ = runner_with(job, clock, sleep)
    run = await runner.run("flaky")
    assert calls == [1, 2, 3]
    assert sleep.waits == [2.0, 4.0]  # 2 s, then 4 s
    assert (run.outcome, run.attempts, run.error, run.detail) == (JobOutcome.OK, 3, None, "done")
    assert run.duration_ms == 6000  # the back-off, on the controllable clock


async def test_after_its_last_try_a_failure_is_recorded_and_shown_to_admins() -> None:
    clock = ManualClock(T0)
    sleep = ClockSleep(clock)
    calls, job = flaky(10)
    runner, _store = runner_with(job, clock, sleep)
    run = await runner.run("flaky")
    assert calls == [1, 2, 3] and run.outcome is JobOutcome.FAILED
    assert run.error == "OSError: down 3"
    overview = await runner.overview(ADMIN)
    (view,) = overview.jobs
    assert (view.name, view.runs, view.failures, view.last_outcome) == ("flaky", 1, 1, "failed")
    assert view.last_error == "OSError: down 3" and view.last_duration_ms == 6000
    assert view.next_run_at == datetime(2026, 3, 1, 12, 1, tzinfo=UTC)
    (failure,) = overview.failures
    assert (failure.name, failure.attempts, failure.error) == ("flaky", 3, "OSError: down 3")
    with pytest.raises(JobsAdminRequired):
        await runner.overview(USER)


async def test_each_tick_runs_once_however_many_runners_see_it() -> None:
    clock = ManualClock(T0)
    sleep = ClockSleep(clock)
    calls, job = flaky(0)
    runner, _store = runner_with(job, clock, sleep)
    results = await asyncio.gather(*(runner.run_tick("flaky") for _ in range(5)))
    assert len([r for r in results if r is not None]) == 1 and calls == [1]
    clock.advance(60)  # the next tick
    assert await runner.run_tick("flaky") is not None and calls == [1, 2]


async def test_the_in_process_scheduler_runs_at_each_new_tick_and_stops_gracefully() -> None:
    clock = ManualClock(T0)
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    async def slow() -> str:
        started.set()
        await release.wait()
        finished.append(1)
        return "ok"

    store = MemoryJobStore()
    schedule = JobSchedule(name="slow", every=timedelta(seconds=10))
    runner = JobRunner(jobs=[ScheduledJob(schedule, slow)], store=store, claims=store, clock=clock)
    scheduler = Scheduler(runner, clock, poll=0.01)
    task = asyncio.create_task(scheduler.run_forever())
    await asyncio.sleep(0.05)
    assert not started.is_set()  # the first run waits for the next tick
    clock.advance(10)
    await asyncio.wait_for(started.wait(), 2)
    stopping = asyncio.create_task(scheduler.stop(grace=5))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # it waits for the running job
    release.set()
    await asyncio.wait_for(stopping, 2)
    await asyncio.wait_for(task, 2)
    assert finished == [1]
    (state,) = await store.states()
    assert state.runs == 1 and state.last_outcome is JobOutcome.OK


def test_every_job_has_a_schedule_and_intervals_are_settable() -> None:
    schedules = job_schedules(unit_settings(job_intervals={"pool_health": 60}))
    assert set(schedules) == set(SCHEDULE) == {
        "mail_outbox", "pool_health", "pool_refresh", "purge_expired", "usage_retention",
        "order_expiry", "subscription_advance", "usage_rollup_repair", "payment_reconciliation",
    }  # fmt: skip
    assert schedules["order_expiry"].every == timedelta(minutes=1)
    assert schedules["payment_reconciliation"].every == timedelta(minutes=1)
    assert schedules["subscription_advance"].every == timedelta(minutes=1)
    assert schedules["pool_health"].every == timedelta(seconds=60)
    assert schedules["pool_refresh"].every == timedelta(minutes=30)
    assert "pool_refresh" not in job_schedules(unit_settings(pool_refresh_interval=0))


async def test_the_order_expiry_job_expires_overdue_orders(clock: ManualClock) -> None:
    built = build(clock, settings=unit_settings(billing_mock_payments=True))
    _, me = await new_user(built.adapters.uow)
    order = await built.services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
    clock.advance(timedelta(minutes=31))
    run = await built.services.jobs.run("order_expiry")
    assert (run.outcome, run.detail) == (JobOutcome.OK, "1")
    assert (await built.services.orders.get(me, order.id)).status is OrderStatus.EXPIRED
    assert (await built.services.jobs.run("order_expiry")).detail == "0"  # idempotent
    assert (await built.services.jobs.run("subscription_advance")).outcome is JobOutcome.OK
    assert set(billing_jobs_of(built)) == {
        "order_expiry", "subscription_advance", "payment_reconciliation",
    }  # fmt: skip


def billing_jobs_of(built: Built) -> list[str]:
    billing = ("order_expiry", "subscription_advance", "payment_reconciliation")
    return [n for n in built.services.jobs.schedules if n in billing]


class QueriedMock(MockProvider):
    """The mock channel, whose order query answers what the test says (the provider took
    the money but its notify never arrived; still pending; the provider is down)."""

    def __init__(self) -> None:
        super().__init__()
        self.paid: set[str] = set()
        self.down: set[str] = set()
        self.queries: list[str] = []
        self.amounts: dict[str, Money] = {}

    async def query_order(self, order_id: str) -> ProviderOrderStatus:
        self.queries.append(order_id)
        if order_id in self.down:
            raise PaymentProviderFailed()
        if order_id in self.paid:
            return ProviderOrderStatus(
                CallbackOutcome.PAID, f"txn-{order_id}", self.amounts[order_id]
            )
        return ProviderOrderStatus(CallbackOutcome.PENDING)


async def test_the_reconciliation_job_fulfils_orders_paying_over_five_minutes_once(
    clock: ManualClock,
) -> None:
    built = build(clock, settings=unit_settings(billing_mock_payments=True, job_backoff=0))
    provider = QueriedMock()
    built.services.orders.register(provider)
    users = [await new_user(built.adapters.uow) for _ in range(3)]
    paid, pending, down = [
        await built.services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
        for _, me in users
    ]
    assert paid.status is OrderStatus.PAYING
    provider.amounts = {o.id: o.amount for o in (paid, pending, down)}
    provider.paid.add(paid.id)
    provider.down.add(down.id)
    jobs = built.services.jobs

    clock.advance(timedelta(minutes=4))  # too fresh: the notify may still be on its way
    young = await jobs.run("payment_reconciliation")
    assert (young.outcome, young.detail, provider.queries) == (
        JobOutcome.OK,
        "checked=0 fulfilled=0 errors=0",
        [],
    )
    clock.advance(timedelta(minutes=2))
    run = await jobs.run("payment_reconciliation")
    assert (run.outcome, run.detail) == (JobOutcome.OK, "checked=3 fulfilled=1 errors=1")
    assert (await built.services.orders.get(users[0][1], paid.id)).status is OrderStatus.COMPLETED
    assert (await built.services.orders.get(users[1][1], pending.id)).status is OrderStatus.PAYING
    assert (await built.services.orders.get(users[2][1], down.id)).status is OrderStatus.PAYING
    async with built.adapters.uow() as uow:
        bought, waiting = await uow.users.get(users[0][0]), await uow.users.get(users[1][0])
        assert bought is not None and bought.plan_id == "pro"
        assert waiting is not None and waiting.plan_id != "pro"
        assert len((await uow.invoices.list_for_user(users[0][0], limit=10, offset=0)).items) == 1

    # the provider's late notify takes the same idempotent path: acknowledged, nothing new
    late = await built.services.payment_callbacks.receive(
        "mock", MockProvider.callback_params(paid.id, paid.amount), None
    )
    assert late.record.result.value == "duplicate"
    records = await built.services.payment_callbacks.list(
        ADMIN, CallbackFilter(order_id=paid.id), limit=10, offset=0
    )
    assert sorted((r.params.get("source", "provider"), r.result.value) for r in records.items) == [
        ("provider", "duplicate"), ("reconciliation", "fulfilled"),
    ]  # fmt: skip
    assert (await built.services.payment_callbacks.list(
        ADMIN, CallbackFilter(order_id=pending.id), limit=10, offset=0)).total == 0  # fmt: skip

    again = await jobs.run("payment_reconciliation")  # the completed order is not asked again
    assert again.detail == "checked=2 fulfilled=0 errors=1"
    provider.down.add(pending.id)  # every query fails: the run fails, visible to admins
    failed = await jobs.run("payment_reconciliation")
    assert failed.outcome is JobOutcome.FAILED and "every provider query failed" in (
        failed.error or ""
    )
    overview = await jobs.overview(ADMIN)
    assert [f.name for f in overview.failures] == ["payment_reconciliation"]


# -- the jobs' domain operations ------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def lifecycle() -> ScriptedLifecycle:
    return ScriptedLifecycle("qqmusic")


@pytest.fixture
def clock_built(clock: ManualClock, lifecycle: ScriptedLifecycle) -> Built:
    return build(clock, outbound=offline(credential_lifecycles=(lifecycle,)))


def b64(**data: Any) -> str:
    return base64.b64encode(json.dumps({"cookie": "c", **data}).encode()).decode()


async def test_three_failed_health_checks_in_a_row_disable_a_credential(
    clock_built: Built, lifecycle: ScriptedLifecycle
) -> None:
    pool, jobs = clock_built.services.pool, clock_built.services.jobs
    fresh = await pool.add(ADMIN, AddCredential("qqmusic", "three", b64()))
    for n in range(1, 4):
        lifecycle.failure = UpstreamUnreachable("down")
        run = await jobs.run("pool_health")
        assert run.detail == f"checked=1 failed=1 disabled={int(n == 3)}"
        stored = await pool.get(ADMIN, fresh.id)
        assert stored.check_failures == n
    assert stored.status is CredentialStatus.DISABLED
    await jobs.run("pool_health")  # disabled: no longer checked
    assert (await pool.get(ADMIN, fresh.id)).check_failures == 3


async def test_a_passed_check_ends_the_streak(
    clock_built: Built, lifecycle: ScriptedLifecycle
) -> None:
    pool, jobs = clock_built.services.pool, clock_built.services.jobs
    credential = await pool.add(ADMIN, AddCredential("qqmusic", "one", b64()))
    for _ in range(2):
        lifecycle.failure = UpstreamUnreachable("down")
        await jobs.run("pool_health")
    assert (await pool.get(ADMIN, credential.id)).check_failures == 2
    await jobs.run("pool_health")
    after = await pool.get(ADMIN, credential.id)
    assert after.check_failures == 0 and after.status is CredentialStatus.ACTIVE


async def test_a_hanging_check_counts_as_a_failure_after_its_timeout(
    clock_built: Built, lifecycle: ScriptedLifecycle
) -> None:
    pool = clock_built.services.pool
    credential = await pool.add(ADMIN, AddCredential("qqmusic", "one", b64()))
    gate = asyncio.Event()

    async def hang(secret: object) -> None:
        await gate.wait()

    lifecycle.check = hang  # type: ignore[method-assign]
    sweep = await pool.check_all(concurrency=8, timeout=0.05)
    assert (sweep.checked, sweep.failed) == (1, 1)
    assert (await pool.get(ADMIN, credential.id)).check_failures == 1


async def test_qq_logins_with_under_two_hours_left_are_refreshed(
    clock_built: Built, clock: ManualClock, lifecycle: ScriptedLifecycle
) -> None:
    pool, jobs = clock_built.services.pool, clock_built.services.jobs
    soon = int((T0 + timedelta(minutes=90)).timestamp())
    later = int((T0 + timedelta(hours=5)).timestamp())
    expiring = await pool.add(ADMIN, AddCredential("qqmusic", "soon", b64(expires=soon)))
    fine = await pool.add(ADMIN, AddCredential("qqmusic", "later", b64(expires=later)))
    run = await jobs.run("pool_refresh")
    assert run.detail == "1"
    assert [s.credential_id for s in lifecycle.refreshed] == [expiring.id]
    assert (await pool.get(ADMIN, expiring.id)).expires_at == RENEWED_EXPIRY
    assert (await pool.get(ADMIN, fine.id)).expires_at == datetime.fromtimestamp(later, UTC)


async def test_usage_retention_prunes_old_events(clock_built: Built, clock: ManualClock) -> None:
    recorder = clock_built.services.usage_recorder
    recorder.record(user_id="u1", key_id=None, metered=Metered("song", 1), ok=True, started=T0)
    await recorder.flush()
    clock.advance(timedelta(days=91))
    run = await clock_built.services.jobs.run("usage_retention")
    assert run.outcome is JobOutcome.OK and run.detail == "1"
    repair = await clock_built.services.jobs.run("usage_rollup_repair")
    assert (repair.outcome, repair.detail) == (JobOutcome.OK, "0")  # nothing drifted
