"""The pool when its Redis goes away: leasing answers 503 ``POOL_UNAVAILABLE`` (never a
500, never an uncounted lease), a release is harmless, and leasing works again once
Redis is back. Our own ``redis-server`` on a free port, stopped by its PID."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from domain.clock import SystemClock
from domain.leases import LeaseResult
from domain.pool.commands import AddCredential
from domain.pool.errors import PoolUnavailable
from domain.principal import AuthMethod, Principal, Role
from gateway.adapters import Adapters
from gateway.bootstrap import build_services
from persistence.sql.engine import create_engine
from tests.support.services import offline, unit_settings

ADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server, "redis-server is needed for this fault test"
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_leasing_without_redis_is_a_503_and_recovers(
    own_redis: OwnRedis, sqlite_url: str
) -> None:
    engine = create_engine(sqlite_url)
    redis = Redis(port=own_redis.port, socket_timeout=1, socket_connect_timeout=1)
    clock = SystemClock()
    adapters = Adapters.sql(engine, redis, quota_redis=redis, clock=clock, outbound=offline())
    pool = build_services(adapters, unit_settings(), clock).pool
    try:
        command = AddCredential("netease", "one", "eyJjb29raWUiOiAiTVVTSUNfVT14In0=")
        await pool.add(ADMIN, command)
        lease = await pool.acquire("netease", "song")
        assert lease is not None

        own_redis.stop()
        with pytest.raises(PoolUnavailable) as caught:
            await pool.acquire("netease", "song")
        assert caught.value.http_status == 503
        await pool.release(lease, LeaseResult.OK)  # harmless

        own_redis.start()
        again = None
        for _ in range(50):  # the client reconnects on its next command
            try:
                again = await pool.acquire("netease", "song")
                break
            except PoolUnavailable:
                await asyncio.sleep(0.1)
        assert again is not None
    finally:
        await redis.aclose()
        await engine.dispose()
