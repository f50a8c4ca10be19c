"""Shared backend fixtures: migrated SQLite and PostgreSQL engines, a clean Redis database.

PostgreSQL and Redis tests run only when ``KARPOV_TEST_DATABASE_URL`` /
``KARPOV_TEST_REDIS_URL`` are set (the only reason to skip). A set but unreachable server is
a failure, never a skip: CI must not go green by silently testing less.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from persistence.migrate import upgrade_to_head
from persistence.sql.engine import create_engine, ping
from persistence.sql.tables import APP_TABLES
from tests.support.redis_cluster import OwnRedisCluster

# upstreams (issue 15): QQ Music and NetEase are on by default; no test (nor a server it
# starts) may reach them on the internet, so their origins default to a dead loopback port.
for _setting in (
    "QQMUSIC_API_URL", "QQMUSIC_PTLOGIN_URL", "QQMUSIC_GRAPH_URL", "WECHAT_OPEN_URL",
    "WECHAT_LONG_POLL_URL", "NETEASE_API_URL",
):  # fmt: skip
    os.environ.setdefault(f"KARPOV_{_setting}", f"http://127.0.0.1:9/{_setting.lower()}")

PG_URL_VAR = "KARPOV_TEST_DATABASE_URL"
REDIS_URL_VAR = "KARPOV_TEST_REDIS_URL"


def sqlite_url_for(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_url() -> str:
    """The test PostgreSQL database, emptied and migrated to head once per session."""
    url = os.environ.get(PG_URL_VAR)
    if not url:
        pytest.skip(f"{PG_URL_VAR} is not set")
    engine = create_engine(url)
    try:
        try:
            await ping(engine)
        except Exception as exc:
            pytest.fail(f"{PG_URL_VAR} is set but PostgreSQL is unreachable: {exc!r}")
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    await upgrade_to_head(url)
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated test database; every app table is empty at the start."""
    engine = create_engine(pg_url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(APP_TABLES)} RESTART IDENTITY CASCADE"))
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy (cheaper than migrating again)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    await upgrade_to_head(sqlite_url_for(path))
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _sqlite_template: Path) -> str:
    """A fresh SQLite database file, migrated to head."""
    path = tmp_path / "karpov.db"
    shutil.copyfile(_sqlite_template, path)
    return sqlite_url_for(path)


@pytest_asyncio.fixture(loop_scope="session")
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def redis_client() -> AsyncIterator[Redis]:
    """A client on the test Redis database, flushed before the test."""
    url = os.environ.get(REDIS_URL_VAR)
    if not url:
        pytest.skip(f"{REDIS_URL_VAR} is not set")
    client = Redis.from_url(url)
    try:
        await client.flushdb()
    except Exception as exc:
        await client.aclose()
        pytest.fail(f"{REDIS_URL_VAR} is set but Redis is unreachable: {exc!r}")
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedisCluster]:
    """issue 18: our own three-primary Redis Cluster for the session (stopped by PID at the
    end). Skipped only without ``redis-server`` when ``KARPOV_TEST_REDIS_URL`` is unset; a
    Redis run (the variable set) fails instead of testing less."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        if os.environ.get(REDIS_URL_VAR):
            pytest.fail(f"{REDIS_URL_VAR} is set but redis-server/redis-cli are not installed")
        pytest.skip("redis-server is not installed")
    cluster = OwnRedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()
