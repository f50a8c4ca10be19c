"""The quota gate is exact across processes: two real server processes (uvicorn, the
real application plus the metered test operation) on one PostgreSQL and one Redis.

With a limit of N, 10×N concurrent calls spread over both processes admit exactly N; the
units of calls that fail upstream come back. Runs where PostgreSQL and Redis are
configured (CI), like every PostgreSQL/Redis test.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.harness import STRONG_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
MASTER_KEY = "cd" * 32
N = 10
WEIGHT = 3  # the metered test operation weighs 3 units, like a song URL
GATE_TIMEOUT = "10"
"""The servers' quota-gate timeout (seconds). In production it is 0.25 s so that a dead
Redis fails fast; here 100 calls arrive at once on a possibly loaded machine, and a call
the gate gave up on would be answered 503 instead of 200/429, which is not what the test
is about. The exact-limit assertions stay exact."""
CLIENT_TIMEOUT = httpx.Timeout(60.0)
"""The test's HTTP clients wait as long as a loaded machine needs."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not become ready")


@pytest.fixture
def servers(pg_engine: AsyncEngine, pg_url: str, redis_client: object) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "KARPOV_DATABASE_URL": pg_url,
        "KARPOV_REDIS_URL": os.environ["KARPOV_TEST_REDIS_URL"],
        "KARPOV_MASTER_KEY": MASTER_KEY,
        "KARPOV_HIBP_MODE": "off",
        "KARPOV_ARGON2_MEMORY_KIB": "64",
        "KARPOV_ARGON2_TIME_COST": "1",
        "KARPOV_LOG_LEVEL": "warning",
        "KARPOV_QUOTA_GATE_TIMEOUT": GATE_TIMEOUT,
    }
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for _ in range(2):
            port = _free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "--factory",
                        "tests.support.metered_app:create",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
        for base, process in zip(bases, processes, strict=True):
            _wait_ready(base, process)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest_asyncio.fixture(loop_scope="session")
async def quota_plan(pg_engine: AsyncEngine) -> AsyncIterator[None]:
    """The free plan without a QPS limit and with N calls' worth of daily units, so the
    daily units are the limit under test (set before the servers read the plan)."""
    async with pg_engine.begin() as conn:
        await conn.execute(
            text("UPDATE plans SET qps = 0, daily_limit = :d WHERE id = 'free'"), {"d": N * WEIGHT}
        )
    yield
    async with pg_engine.begin() as conn:
        await conn.execute(text("UPDATE plans SET qps = 5, daily_limit = 100 WHERE id = 'free'"))


async def _key(base: str, email: str, **limits: int) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=CLIENT_TIMEOUT) as client:
        await client.get("/v1/config/runtime")
        csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
        register = await client.post(
            "/v1/auth/register", json={"email": email, "password": STRONG_PASSWORD}, headers=csrf
        )
        assert register.status_code == 200, register.text
        login = await client.post(
            "/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD}, headers=csrf
        )
        assert login.status_code == 200, login.text
        created = await client.post(
            "/v1/auth/api-keys", json={"name": "load", **limits}, headers=csrf
        )
        assert created.status_code == 200, created.text
        return str(created.json()["plaintext"])


async def _spread(bases: list[str], key: str, path: str, calls: int) -> list[httpx.Response]:
    """``calls`` concurrent requests, alternating between the two processes."""
    limits = httpx.Limits(max_connections=50)
    clients = [
        httpx.AsyncClient(base_url=base, limits=limits, timeout=CLIENT_TIMEOUT) for base in bases
    ]
    try:
        return await asyncio.gather(
            *(clients[i % 2].get(path, headers={"X-API-Key": key}) for i in range(calls))
        )
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.asyncio(loop_scope="session")
async def test_per_key_daily_limit_admits_exactly_n_across_two_processes(
    servers: list[str],
) -> None:
    key = await _key(servers[0], "daily@example.com", rateLimitDaily=N)
    responses = await _spread(servers, key, "/v1/auth/me", 10 * N)
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == N, statuses
    assert statuses.count(429) == 9 * N
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["code"] == 42900
    assert refused.json()["message"] == "daily limit exceeded"
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.asyncio(loop_scope="session")
async def test_plan_units_admit_exactly_n_metered_calls_across_two_processes(
    quota_plan: None, servers: list[str]
) -> None:
    key = await _key(servers[1], "units@example.com")
    responses = await _spread(servers, key, "/v1/test/metered", 10 * N)
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == N, statuses
    assert statuses.count(429) == 9 * N
    refused = next(r for r in responses if r.status_code == 429)
    body = refused.json()
    assert body["code"] == 42901
    assert body["data"]["dailyLimit"] == N * WEIGHT
    assert body["data"]["dailyUsed"] == N * WEIGHT


@pytest.mark.asyncio(loop_scope="session")
async def test_failed_upstream_calls_give_their_units_back(
    quota_plan: None, servers: list[str]
) -> None:
    key = await _key(servers[0], "refund@example.com")
    failed = await _spread(servers, key, "/v1/test/metered?fail=1", N)
    assert [r.status_code for r in failed] == [502] * N
    assert failed[0].json()["code"] == 50200
    # Every unit came back: the whole allowance is still there, exactly.
    responses = await _spread(servers, key, "/v1/test/metered", 10 * N)
    assert [r.status_code for r in responses].count(200) == N
