"""Pool leases are exclusive across processes: two OS processes share one credential
with ``maxConcurrency`` 2 on one PostgreSQL and one Redis, each calling a fake upstream
from several tasks at once; the upstream, counting the calls in flight, never sees more
than 2 (and does see 2: the limit is used, not just respected). Runs where PostgreSQL
and Redis are configured, like every PostgreSQL/Redis test."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import SystemClock
from domain.pool.commands import AddCredential
from domain.principal import AuthMethod, Principal, Role
from gateway.adapters import Adapters
from gateway.bootstrap import build_services
from tests.support.services import MASTER_KEY, offline, unit_settings

ROOT = Path(__file__).resolve().parents[2]
CALLS_PER_PROCESS = 60
CALL_SECONDS = 0.02


class CountingUpstream:
    """An HTTP upstream that holds each call briefly and records the most in flight at
    once, per credential (the ``X-Credential`` header)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.calls = 0
        self.credentials: set[str] = set()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with upstream.lock:
                    upstream.in_flight += 1
                    upstream.calls += 1
                    upstream.peak = max(upstream.peak, upstream.in_flight)
                    upstream.credentials.add(self.headers.get("X-Credential", ""))
                time.sleep(CALL_SECONDS)
                with upstream.lock:
                    upstream.in_flight -= 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/song"

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[CountingUpstream]:
        upstream = cls()
        thread = threading.Thread(target=upstream.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield upstream
        finally:
            upstream.server.shutdown()
            upstream.server.server_close()
            thread.join(timeout=10)


async def one_shared_credential(engine: AsyncEngine, redis: Redis) -> str:
    clock = SystemClock()
    adapters = Adapters.sql(engine, redis, quota_redis=redis, clock=clock, outbound=offline())
    pool = build_services(adapters, unit_settings(), clock).pool
    admin = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
    command = AddCredential(
        provider="netease",
        label="shared",
        payload_base64="eyJjb29raWUiOiAiTVVTSUNfVT1zaGFyZWQifQ==",
        max_concurrency=2,
        requests_per_second=1000,
    )
    return (await pool.add(admin, command)).id


async def test_two_processes_never_exceed_max_concurrency(
    pg_engine: AsyncEngine, pg_url: str, redis_client: Redis
) -> None:
    credential_id = await one_shared_credential(pg_engine, redis_client)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KARPOV_DATABASE_URL": pg_url,
        "KARPOV_REDIS_URL": os.environ["KARPOV_TEST_REDIS_URL"],
        "KARPOV_MASTER_KEY": MASTER_KEY,
    }
    with CountingUpstream.running() as upstream:
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.support.pool_lease_worker",
                "--upstream",
                upstream.url,
                "--calls",
                str(CALLS_PER_PROCESS),
                "--parallel",
                "6",
                cwd=ROOT,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        outputs = [await asyncio.wait_for(w.communicate(), timeout=180) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
        assert out.decode().startswith(f"done {CALLS_PER_PROCESS} "), out.decode()
    refused = [int(out.decode().split()[2]) for out, _ in outputs]
    assert upstream.calls == 2 * CALLS_PER_PROCESS
    assert upstream.credentials == {credential_id}
    assert upstream.peak == 2, upstream.peak
    assert all(r > 0 for r in refused)  # 12 callers, 2 slots: acquisitions were refused
    assert upstream.in_flight == 0
