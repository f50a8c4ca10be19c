"""The job topology with real processes (issue 17):

* two ``karpov worker`` processes on one PostgreSQL and our own Redis run each tick of a
  job exactly once (arq's unique cron ids plus the Redis tick claim), and stop on SIGTERM;
* ``karpov serve`` without Redis runs the same jobs on its in-process scheduler (what
  ``make run`` does), visible at ``GET /v1/admin/jobs``, and stops cleanly on SIGTERM;
* SIGTERM under load: requests already admitted finish (and their effects are in the
  database); the process exits 0."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from sqlalchemy import text

from persistence.sql.engine import create_engine
from tests.support.processes import Karpov, OwnRedis, free_port, wait_for_port
from tests.support.services import MASTER_KEY

ADMIN_TOKEN = "worker-topology-admin-token"


def stopped_cleanly(code: int, server: Karpov) -> bool:
    """uvicorn re-raises SIGTERM after its graceful shutdown (exit by the signal), once
    the lifespan closed the container."""
    return code in (0, -signal.SIGTERM) and "Application shutdown complete" in server.output()


async def sql(url: str, statement: str, **params: Any) -> list[dict[str, Any]]:
    """Run one statement on the test database (in a transaction of its own) and return its
    rows: the tests read and nudge what the processes under test share."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(statement), params)
            return [dict(row) for row in result.mappings()] if result.returns_rows else []
    finally:
        await engine.dispose()


async def job_state(url: str, name: str) -> dict[str, Any]:
    rows = await sql(url, "SELECT * FROM job_states WHERE name = :n", n=name)
    return rows[0] if rows else {}


async def count_users(url: str) -> int:
    return int((await sql(url, "SELECT count(*) AS n FROM users"))[0]["n"])


@pytest.fixture
def own_redis(tmp_path: Path) -> Any:
    server = OwnRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def test_two_workers_run_each_tick_of_a_job_once(
    pg_engine: object, pg_url: str, own_redis: OwnRedis, tmp_path: Path
) -> None:
    env = {
        "KARPOV_DATABASE_URL": pg_url, "KARPOV_REDIS_URL": own_redis.url,
        "KARPOV_MASTER_KEY": MASTER_KEY, "KARPOV_JOB_JITTER": "0.2",
        "KARPOV_JOB_INTERVALS": json.dumps({"purge_expired": 1}), "KARPOV_LOG_LEVEL": "info",
    }  # fmt: skip
    metrics_ports = [free_port(), free_port()]
    workers = [
        Karpov(["worker"], {**env, "KARPOV_WORKER_METRICS_PORT": str(port)},
               tmp_path / f"worker{i}.log")
        for i, port in enumerate(metrics_ports)
    ]  # fmt: skip
    redis = Redis.from_url(own_redis.url)
    runs_seen: list[float] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # both workers are up and running their crons
            if any(w.process.poll() is not None for w in workers):
                break
            if all("karpov worker started" in w.output() for w in workers):
                break
            time.sleep(0.2)
        assert all("karpov worker started" in w.output() for w in workers)
        time.sleep(6)  # both workers see about six ticks of purge_expired
        for port in metrics_ports:  # each worker's own Prometheus endpoint
            text_ = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            assert "karpov_job_runs_total" in text_ and "karpov_pool_leases_total" in text_
            runs_seen.append(job_runs(text_, "purge_expired"))
    finally:
        codes = [w.terminate() for w in workers]
    assert codes == [0, 0], "\n".join(w.output() for w in workers)
    keys: list[bytes] = list(redis.scan_iter("karpov:jobs:tick:purge_expired:*"))
    ticks = {int(k.rsplit(b":", 1)[1]) for k in keys}
    redis.close()
    state = asyncio.run(job_state(pg_url, "purge_expired"))
    assert len(ticks) >= 4, [w.output() for w in workers]
    # Every claimed tick ran once: as many runs as ticks, never one per worker.
    assert state["runs"] == len(ticks) and state["failures"] == 0
    # the two workers' metrics add up to the runs (each tick counted by the worker that ran
    # it; a tick may still finish between the scrape and the stop)
    assert sum(runs_seen) >= 3 and sum(runs_seen) <= state["runs"] <= sum(runs_seen) + 2
    assert max(ticks) - min(ticks) + 1 >= len(ticks)


def test_sigterm_lets_a_worker_finish_its_running_job(
    pg_engine: object, pg_url: str, own_redis: OwnRedis, tmp_path: Path
) -> None:
    """A ``pool_health`` run is under way (the QQ Music check hangs on a server that never
    answers, until the check's 5 s bound) when the worker gets SIGTERM: the worker takes no
    new job, lets the running one finish within ``KARPOV_SHUTDOWN_GRACE`` (its failure is
    stored with the credential and the run recorded), then exits 0."""
    silent = socket.socket()  # accepts connections (the kernel's backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    qq_url = f"http://127.0.0.1:{silent.getsockname()[1]}/cgi-bin/musicu.fcg"
    credential_id = asyncio.run(add_qq_credential(pg_url, qq_url))
    env = {
        "KARPOV_DATABASE_URL": pg_url, "KARPOV_REDIS_URL": own_redis.url,
        "KARPOV_MASTER_KEY": MASTER_KEY, "KARPOV_JOB_JITTER": "0",
        "KARPOV_JOB_INTERVALS": json.dumps({"pool_health": 1}), "KARPOV_QQMUSIC_API_URL": qq_url,
        "KARPOV_SHUTDOWN_GRACE": "15",
    }  # fmt: skip
    worker = Karpov(["worker"], env, tmp_path / "worker.log")
    redis = Redis.from_url(own_redis.url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.process.poll() is None:
            if list(redis.scan_iter("karpov:jobs:tick:pool_health:*")):
                break  # a run has claimed its tick: it is checking
            time.sleep(0.1)
        assert list(redis.scan_iter("karpov:jobs:tick:pool_health:*")), worker.output()
        sigterm_at = time.monotonic()
    finally:
        code = worker.terminate()
        silent.close()
    waited = time.monotonic() - sigterm_at
    claimed = len(list(redis.scan_iter("karpov:jobs:tick:pool_health:*")))
    redis.close()
    state = asyncio.run(job_state(pg_url, "pool_health"))
    assert code == 0, worker.output()
    assert waited >= 3.0, (waited, state)  # it waited for the hanging check
    assert state["runs"] == claimed >= 1, worker.output()  # every started run finished
    assert asyncio.run(check_failures(pg_url, credential_id)) == claimed


async def add_qq_credential(url: str, qq_url: str) -> str:
    from domain.pool.commands import AddCredential
    from domain.principal import AuthMethod, Principal, Role
    from gateway.container import build_container
    from gateway.settings import load_settings

    settings = load_settings(database_url=url, master_key=MASTER_KEY, qqmusic_api_url=qq_url,
                             jobs_in_process=False)  # fmt: skip
    container = await build_container(settings)
    try:
        cookie = base64.b64encode(b"uin=o12345; qqmusic_key=Q_H_L_hanging").decode()
        admin = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
        added = await container.services.pool.add(admin, AddCredential("qqmusic", "hangs", cookie))
        return added.id
    finally:
        await container.close()


async def check_failures(url: str, credential_id: str) -> int:
    rows = await sql(url, "SELECT check_failures FROM pool_credentials WHERE id = :id",
                     id=credential_id)  # fmt: skip
    return int(rows[0]["check_failures"])


def job_runs(metrics: str, job: str) -> float:
    prefix = f'karpov_job_runs_total{{job="{job}",outcome="ok"}} '
    return sum(float(line[len(prefix):]) for line in metrics.splitlines()
               if line.startswith(prefix))  # fmt: skip


def serve(url: str, port: int, tmp_path: Path, name: str, **more: str) -> Karpov:
    env = {
        "KARPOV_DATABASE_URL": url, "KARPOV_MASTER_KEY": MASTER_KEY,
        "KARPOV_ADMIN_TOKENS": ADMIN_TOKEN, "KARPOV_HIBP_MODE": "off",
        "KARPOV_JOB_INTERVALS": json.dumps({"purge_expired": 1, "mail_outbox": 2}),
        "KARPOV_JOB_JITTER": "0", **more,
    }  # fmt: skip
    server = Karpov(["serve", "--port", str(port)], env, tmp_path / f"{name}.log")
    try:
        wait_for_port(port, 60)
    except RuntimeError:
        server.terminate()
        raise AssertionError(server.output()) from None
    return server


def test_serve_without_redis_runs_the_jobs_in_process(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    started = time.time()
    server = serve(sqlite_url, port, tmp_path, "serve")
    try:
        base = f"http://127.0.0.1:{port}"
        deadline, jobs = time.monotonic() + 30, {}
        while time.monotonic() < deadline:
            answer = httpx.get(f"{base}/v1/admin/jobs", headers={"X-Admin-Key": ADMIN_TOKEN})
            assert answer.status_code == 200, answer.text
            body = answer.json()["data"]
            jobs = {j["name"]: j for j in body["jobs"]}
            if jobs["purge_expired"]["runs"] >= 2 and jobs["mail_outbox"]["runs"] >= 1:
                break
            time.sleep(0.3)
        assert body["runner"] == "in-process"
        assert jobs["purge_expired"]["lastOutcome"] == "ok", jobs
        assert jobs["purge_expired"]["runs"] >= 2 and jobs["mail_outbox"]["runs"] >= 1
        # A 5-minute job first runs at the next epoch-aligned tick: not at all, unless this
        # test happened to span one of those boundaries.
        boundaries = int(time.time() // 300) - int(started // 300)
        assert jobs["pool_health"]["everySeconds"] == 300
        assert jobs["pool_health"]["runs"] <= boundaries, (jobs["pool_health"], boundaries)
        anonymous = httpx.get(f"{base}/v1/admin/jobs")
        assert anonymous.status_code in (401, 403)
        metrics = httpx.get(f"{base}/metrics").text
        assert 'karpov_job_runs_total{job="purge_expired",outcome="ok"}' in metrics
        assert 'karpov_job_duration_seconds_count{job="purge_expired"}' in metrics
        for counted in ("pool_leases", "pool_releases", "pool_health_checks",
                        "payment_callbacks", "upstream_calls"):  # fmt: skip
            assert f"# TYPE karpov_{counted}_total counter" in metrics
    finally:
        code = server.terminate()
    assert stopped_cleanly(code, server), server.output()


def test_sigterm_under_load_finishes_admitted_requests(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    server = serve(sqlite_url, port, tmp_path, "load", KARPOV_REGISTER_PER_IP_PER_HOUR="0")
    base = f"http://127.0.0.1:{port}"
    results: list[int | str] = []
    finished: list[float] = []
    lock = threading.Lock()
    csrf = httpx.get(f"{base}/v1/config/runtime").cookies["csrf_token"]

    def register(i: int) -> None:
        body = {"email": f"load{i}@example.com", "password": "a long and unusual passphrase 9"}
        try:
            answer = httpx.post(
                f"{base}/v1/auth/register", json=body, timeout=30,
                headers={"X-CSRF-Token": csrf}, cookies={"csrf_token": csrf},
            )  # fmt: skip
            status: int | str = answer.status_code
        except httpx.HTTPError as error:
            status = type(error).__name__
        with lock:
            results.append(status)
            if status == 200:
                finished.append(time.monotonic())

    threads = [threading.Thread(target=register, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # requests are in flight (argon2 hashing)
    sigterm_at = time.monotonic()
    code = server.terminate()
    for thread in threads:
        thread.join(30)
    assert stopped_cleanly(code, server), server.output()
    ok = [r for r in results if r == 200]
    assert ok, results
    assert any(t > sigterm_at for t in finished), results  # in flight at SIGTERM, finished
    assert all(r == 200 or isinstance(r, str) for r in results), results  # no 5xx
    assert asyncio.run(count_users(sqlite_url)) == len(ok)  # every answered call is stored


def test_sigterm_under_load_keeps_the_usage_event_of_every_admitted_metered_call(
    pg_engine: object, pg_url: str, own_redis: OwnRedis, tmp_path: Path
) -> None:
    """Metered API-key calls (``GET /v1/local/search/songs``) from eight clients at once;
    SIGTERM while they run: the server finishes what it admitted, flushes its buffered
    usage events at shutdown, and the database holds exactly one event per answered call
    (nothing lost, nothing invented)."""
    asyncio.run(unlimited_free_plan(pg_url))  # every call admitted: only SIGTERM stops them
    port = free_port()
    server = serve(pg_url, port, tmp_path, "metered", KARPOV_REDIS_URL=own_redis.url)
    base = f"http://127.0.0.1:{port}"
    browser = httpx.Client(base_url=base)
    csrf = browser.get("/v1/config/runtime").cookies["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    body = {"email": "metered@example.com", "password": "a long and unusual passphrase 9"}
    assert browser.post("/v1/auth/register", json=body, headers=headers).status_code == 200
    assert browser.post("/v1/auth/login", json=body, headers=headers).status_code == 200
    made = browser.post("/v1/auth/api-keys", json={"name": "load"}, headers=headers)
    assert made.status_code == 200, made.text
    key = made.json()["plaintext"]  # the grpc-gateway shape: the message itself
    answered: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def call() -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
            while not stop.is_set():
                try:
                    status = client.get("/v1/local/search/songs", params={"q": "dawn"}).status_code
                except httpx.HTTPError as error:  # the server stopped accepting
                    with lock:
                        refused.append(type(error).__name__)
                    return
                with lock:
                    answered.append(status)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(answered) < 100 and time.monotonic() < deadline:  # under load
        time.sleep(0.05)
    code = server.terminate()
    stop.set()
    for thread in threads:
        thread.join(30)
    assert stopped_cleanly(code, server), server.output()
    ok = answered.count(200)
    assert ok >= 100 and set(answered) == {200}, (set(answered), server.output())  # no 5xx
    assert asyncio.run(count_usage_events(pg_url)) == ok, server.output()


async def unlimited_free_plan(url: str) -> None:
    await sql(url, "UPDATE plans SET qps = :q, daily_limit = :d, monthly_limit = :m "
              "WHERE id = 'free'", q=10**9, d=10**9, m=10**9)  # fmt: skip


async def count_usage_events(url: str) -> int:
    rows = await sql(url, "SELECT count(*) AS n FROM usage_events WHERE operation = 'local.search'")
    return int(rows[0]["n"])


def test_two_api_processes_and_one_worker_expire_an_order_and_renew_a_subscription_once(
    pg_engine: object, pg_url: str, own_redis: OwnRedis, tmp_path: Path
) -> None:
    """The deployment topology: two API processes and one worker on one PostgreSQL and
    Redis. An order made on one API process, overdue, is expired by the worker's
    ``order_expiry`` job and reads expired on the other; a subscription bought through
    them (paid by callbacks to the other process), at the end of its period, is renewed
    by the worker's ``subscription_advance`` job from the wallet, once; every tick of each
    job ran once (as many runs as claimed ticks)."""
    shared = {
        "KARPOV_REDIS_URL": own_redis.url, "KARPOV_BILLING_MOCK_PAYMENTS": "true",
        "KARPOV_JOB_INTERVALS": json.dumps({"order_expiry": 1, "subscription_advance": 1}),
    }  # fmt: skip
    ports = [free_port(), free_port()]
    servers = [serve(pg_url, port, tmp_path, f"api{i}", **shared) for i, port in enumerate(ports)]
    worker_env = {
        "KARPOV_DATABASE_URL": pg_url, "KARPOV_MASTER_KEY": MASTER_KEY, "KARPOV_JOB_JITTER": "0",
        **shared,
    }  # fmt: skip
    worker = Karpov(["worker"], worker_env, tmp_path / "worker.log")
    try:
        a, b = (httpx.Client(base_url=f"http://127.0.0.1:{port}") for port in ports)
        csrf = a.get("/v1/config/runtime").cookies["csrf_token"]
        headers = {"X-CSRF-Token": csrf}
        body = {"email": "topology@example.com", "password": "a long and unusual passphrase 9"}
        assert a.post("/v1/auth/register", json=body, headers=headers).status_code == 200
        login = a.post("/v1/auth/login", json=body, headers=headers)
        assert login.status_code == 200, login.text
        order = a.post(
            "/v1/billing/orders", json={"planId": "pro", "paymentProvider": "mock"},
            headers=headers,
        )  # fmt: skip
        assert order.status_code == 200, order.text
        order_id = order.json()["data"]["orderId"]

        # -- a subscription, paid by callbacks that reach the other API process --
        topup = a.post("/v1/billing/balance/topup", headers=headers,
                       json={"amountCents": 100_000, "paymentProvider": "mock"})  # fmt: skip
        assert topup.status_code == 200, topup.text
        pay_on(b, topup.json()["data"]["orderId"], 100_000)
        bought = a.post(
            "/v1/billing/orders", json={"planId": "pro", "paymentProvider": "mock"},
            headers={**headers, "Idempotency-Key": "buy-pro-once"},
        )  # fmt: skip
        assert bought.status_code == 200, bought.text
        bought_id = bought.json()["data"]["orderId"]
        price = a.get(f"/v1/billing/orders/{bought_id}").json()["data"]["amountMinor"]
        pay_on(b, bought_id, price)
        subscription = a.get("/v1/billing/subscription").json()["data"]
        assert subscription["status"] == "active" and subscription["autoRenew"], subscription

        asyncio.run(make_overdue(pg_url, order_id))  # as if its 30 minutes had passed
        asyncio.run(end_period(pg_url, subscription["id"]))  # as if its month had passed
        deadline, status, renewed = time.monotonic() + 90, "", False
        while time.monotonic() < deadline and not (status == "expired" and renewed):
            status = asyncio.run(order_status(pg_url, order_id))
            now = a.get("/v1/billing/subscription").json()["data"]
            renewed = now["currentPeriodStart"] != subscription["currentPeriodStart"]
            time.sleep(0.3)
        assert status == "expired", worker.output()
        assert renewed, worker.output()
        time.sleep(2.5)  # a few more ticks of both jobs: nothing renews twice
        same_user_on_b = httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", cookies=a.cookies)
        seen = same_user_on_b.get(f"/v1/billing/orders/{order_id}")
        assert seen.status_code == 200 and seen.json()["data"]["status"] == "expired", seen.text
        now = a.get("/v1/billing/subscription").json()["data"]
        assert now["status"] == "active" and now["id"] == subscription["id"], now
        start, end = (
            datetime.fromisoformat(now[k]) for k in ("currentPeriodStart", "currentPeriodEnd")
        )
        assert start != datetime.fromisoformat(subscription["currentPeriodStart"])  # a new period
        assert end - start >= timedelta(days=28) and end > datetime.now(UTC), now
        ledger = a.get("/v1/billing/balance/transactions").json()["data"]["items"]
        renewals = [e for e in ledger if e["kind"] == "subscription"]
        assert [e["amountCents"] for e in renewals] == [-price], ledger
        balance = a.get("/v1/billing/balance").json()["data"]["balanceCents"]
        assert int(balance) == 100_000 - price
        jobs = b.get("/v1/admin/jobs", headers={"X-Admin-Key": ADMIN_TOKEN}).json()["data"]
        assert jobs["runner"] == "worker"
        by_name = {j["name"]: j for j in jobs["jobs"]}
        for name in ("order_expiry", "subscription_advance"):
            assert by_name[name]["lastOutcome"] == "ok" and by_name[name]["runs"] >= 1
    finally:
        codes = [worker.terminate(), *(s.terminate() for s in servers)]
    assert codes[0] == 0, worker.output()
    assert all(stopped_cleanly(c, s) for c, s in zip(codes[1:], servers, strict=True))
    redis = Redis.from_url(own_redis.url)
    for name in ("order_expiry", "subscription_advance"):
        keys: list[bytes] = list(redis.scan_iter(f"karpov:jobs:tick:{name}:*"))
        state = asyncio.run(job_state(pg_url, name))
        assert state["runs"] == len(keys) >= 3 and state["failures"] == 0  # each tick once
    redis.close()


def pay_on(api: httpx.Client, order_id: str, amount_minor: int) -> None:
    """The mock provider's notify, to ``api`` (another process than the one that made the
    order)."""
    amount = f"{amount_minor // 100}.{amount_minor % 100:02d}"
    answer = api.post("/v1/billing/callback/mock", data={"order_id": order_id, "amount": amount})
    assert answer.status_code == 200 and answer.text.strip('"') == "ok", answer.text


async def end_period(url: str, subscription_id: str) -> None:
    await sql(url, "UPDATE subscriptions SET current_period_end = now() - interval '1 second'"
              " WHERE id = :id", id=subscription_id)  # fmt: skip


async def make_overdue(url: str, order_id: str) -> None:
    await sql(url, "UPDATE billing_orders SET expires_at = now() - interval '1 second' "
              "WHERE id = :id", id=order_id)  # fmt: skip


async def order_status(url: str, order_id: str) -> str:
    rows = await sql(url, "SELECT status FROM billing_orders WHERE id = :id", id=order_id)
    return str(rows[0]["status"])
