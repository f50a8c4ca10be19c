"""The scheduled jobs at the edges (issue 17), on SQLite and on PostgreSQL + Redis:
``GET /v1/admin/jobs`` and ``adminJobs`` show each job's last run, outcome, duration and
next run and the final failures (admins only); ``/readyz`` names a stale worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from domain.clock import SystemClock
from domain.jobs.model import JobOutcome
from tests.api.harness import ADMIN_TOKEN, Api, running_app
from tests.api.test_pool_api import signed_in_user
from tests.fakes.hibp_server import FakeHibpServer

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}


@pytest_asyncio.fixture(loop_scope="session")
async def env(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> AsyncIterator[tuple[Api, Any, SystemClock]]:
    database_url, redis_url = backend
    clock = SystemClock()  # sessions in Redis expire on the real clock
    async with running_app(database_url, redis_url=redis_url, hibp=hibp, clock=clock) as (
        api,
        app,
    ):
        yield api, app, clock


async def test_admins_see_every_job_its_last_run_and_final_failures(
    env: tuple[Api, Any, SystemClock],
) -> None:
    api, app, _clock = env
    runner = app.state.container.services.jobs
    run = await runner.run("purge_expired")
    assert run.outcome is JobOutcome.OK
    answer = await api.get("/v1/admin/jobs", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    jobs = {j["name"]: j for j in data["jobs"]}
    assert set(jobs) == {
        "mail_outbox", "pool_health", "pool_refresh", "purge_expired", "usage_retention",
        "order_expiry", "subscription_advance", "usage_rollup_repair", "payment_reconciliation",
    }  # fmt: skip
    purge = jobs["purge_expired"]
    assert (purge["runs"], purge["failures"], purge["lastOutcome"]) == (1, 0, "ok")
    assert purge["everySeconds"] == 600 and purge["lastDurationMs"] >= 0
    assert purge["lastRunAt"] is not None and purge["nextRunAt"] is not None
    assert jobs["pool_health"]["runs"] == 0 and jobs["pool_health"]["lastRunAt"] is None
    assert data["failures"] == []
    graphql = await api.gql(
        "{ adminJobs { runner jobs { name runs lastOutcome } } }", headers=ADMIN
    )
    gql_jobs = {j["name"]: j for j in graphql["data"]["adminJobs"]["jobs"]}
    assert gql_jobs["purge_expired"] == {"name": "purge_expired", "runs": 1, "lastOutcome": "ok"}
    assert graphql["data"]["adminJobs"]["runner"] == data["runner"]


async def test_a_failed_job_is_listed_with_its_error(env: tuple[Api, Any, SystemClock]) -> None:
    api, app, _ = env
    container = app.state.container
    original = container.adapters.expired

    class Broken:
        async def purge_expired(self, now: object) -> dict[str, int]:
            raise RuntimeError("the database is read-only")

    runner = container.services.jobs
    job = runner._jobs["purge_expired"]
    broken = Broken()

    async def failing() -> str:
        await broken.purge_expired(None)
        return ""

    runner._jobs["purge_expired"] = type(job)(job.schedule, failing)
    runner._sleep = _no_wait
    try:
        run = await runner.run("purge_expired")
    finally:
        runner._jobs["purge_expired"] = job
    assert original is container.adapters.expired
    assert run.outcome is JobOutcome.FAILED and run.attempts == 3
    data = (await api.get("/v1/admin/jobs", headers=ADMIN)).json()["data"]
    (failure,) = data["failures"]
    assert failure["name"] == "purge_expired" and failure["attempts"] == 3
    assert failure["error"] == "RuntimeError: the database is read-only"
    purge = {j["name"]: j for j in data["jobs"]}["purge_expired"]
    assert (purge["lastOutcome"], purge["failures"]) == ("failed", 1)


async def _no_wait(seconds: float) -> None:
    return None


async def test_only_admins_see_the_jobs(env: tuple[Api, Any, SystemClock]) -> None:
    api, _, _ = env
    anonymous = await api.get("/v1/admin/jobs")
    assert anonymous.status_code == 401, anonymous.text
    graphql = await api.gql("{ adminJobs { runner } }")
    assert graphql["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_readyz_names_a_stale_worker_without_failing(
    env: tuple[Api, Any, SystemClock],
) -> None:
    api, app, clock = env
    container = app.state.container
    ready = await api.http.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready")
    if container.redis is None:
        return  # without Redis there is no worker to report on (jobs run in-process)
    stale = clock.now().timestamp() - 300
    await container.redis.set("karpov:worker:heartbeat", str(stale))
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.text.startswith("ready (worker: stale (last heartbeat 30")
    await container.redis.set("karpov:worker:heartbeat", str(clock.now().timestamp()))
    assert (await api.http.get("/readyz")).text == "ready"


async def test_a_signed_in_user_is_refused_403(env: tuple[Api, Any, SystemClock]) -> None:
    api, _, _ = env
    user = await signed_in_user(api, "jobs-user@example.com")
    refused = await user.get("/v1/admin/jobs")
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] == "the background jobs are visible to admins only"
