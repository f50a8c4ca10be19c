"""The one backend fixture of every contract suite (Litestar's single ``store`` fixture,
Strawberry's one ``http_client`` over every adapter).

A suite says which backends implement its port with ``pytestmark =
pytest.mark.backends("memory", "sqlite", "postgres", "redis")`` (a test may narrow it with
its own marker), and takes its implementation from ``backend.adapters``: the very bundle
the application builds (``gateway.adapters.Adapters.memory`` / ``.sql``), so each suite
checks what production wires. ``redis`` is the SQL bundle on SQLite with Redis for what
Redis keeps (sessions, throttles, challenges, flows, e-mail codes, the quota gate).
PostgreSQL and Redis run only when their variables are set (``tests/conftest.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import Clock, SystemClock
from domain.ids import new_id
from gateway.adapters import Adapters
from tests.contract.users import add_user
from tests.support.services import offline

KINDS = ("memory", "sqlite", "postgres", "redis")


@dataclass
class Backend:
    kind: str
    adapters: Adapters
    engine: AsyncEngine | None = None
    """The database under the bundle (SQL kinds and ``redis``), for looking underneath."""
    redis: Redis | None = None
    database_url: str | None = None
    """For a second engine on the same database ("another process"; SQL kinds)."""

    async def create_user(self, user_id: str) -> None:
        """Make ``user_id`` exist, for rows that belong to a user (SQL foreign keys)."""
        await add_user(self.adapters.uow, user_id)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*kinds): the backends (memory, sqlite, postgres, redis) a "
        "contract suite or test runs against",
    )  # fmt: skip


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: mark the suite with backends()")
    unknown = set(marker.args) - set(KINDS)
    if unknown:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: unknown backends {unknown}")
    metafunc.parametrize("backend", marker.args, indirect=True)


@pytest.fixture
def clock() -> Clock:
    """The bundle's clock; a suite overrides it (a ``ManualClock``) where time matters."""
    return SystemClock()


@pytest.fixture
def backend(request: pytest.FixtureRequest, clock: Clock) -> Backend:
    kind: str = request.param
    outbound = offline()
    if kind == "memory":
        return Backend(kind, Adapters.memory(clock, outbound=outbound))
    if kind == "redis":
        redis: Redis = request.getfixturevalue("redis_client")
        request.getfixturevalue("quota_state_whole")
        engine: AsyncEngine = request.getfixturevalue("sqlite_engine")
        adapters = Adapters.sql(engine, redis, quota_redis=redis, clock=clock, outbound=outbound)
        return Backend(kind, adapters, engine, redis)
    sqlite = kind == "sqlite"
    engine = request.getfixturevalue("sqlite_engine" if sqlite else "pg_engine")
    url: str = request.getfixturevalue("sqlite_url" if sqlite else "pg_url")
    adapters = Adapters.sql(engine, None, quota_redis=None, clock=clock, outbound=outbound)
    return Backend(kind, adapters, engine, None, url)


@pytest.fixture
async def quota_state_whole(redis_client: Redis) -> None:
    """The deployment's quota gate refuses until its state is restored (``restore``); a
    contract test starts from a whole, empty state."""
    await redis_client.set("karpov:quota:whole:2", "1")


@pytest.fixture
async def alice(backend: Backend) -> str:
    user_id = new_id()
    await backend.create_user(user_id)
    return user_id


@pytest.fixture
async def bob(backend: Backend) -> str:
    user_id = new_id()
    await backend.create_user(user_id)
    return user_id
