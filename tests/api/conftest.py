"""Fixtures for API tests: ``api`` runs against SQLite (always) and against PostgreSQL +
Redis (when KARPOV_TEST_DATABASE_URL / KARPOV_TEST_REDIS_URL are set, as in CI)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.api.harness import Api, running_app
from tests.api.oauth_flow import linuxdo, linuxdo_server, oidc, oidc_server  # noqa: F401
from tests.fakes.hibp_server import FakeHibpServer

BREACHED_PASSWORD = "Pwned-Password-2024!"


@pytest.fixture
def hibp() -> FakeHibpServer:
    return FakeHibpServer({BREACHED_PASSWORD: 1234})


@pytest.fixture(params=["sqlite", "postgres+redis"])
def backend(request: pytest.FixtureRequest, sqlite_url: str) -> tuple[str, str | None]:
    """(database URL, Redis URL). The PostgreSQL variant skips only when its variables are
    unset, and fails when they are set but the servers are unreachable."""
    if request.param == "sqlite":
        return sqlite_url, None
    request.getfixturevalue("pg_engine")  # a clean, migrated database
    request.getfixturevalue("redis_client")  # a flushed Redis database
    return request.getfixturevalue("pg_url"), os.environ["KARPOV_TEST_REDIS_URL"]


@pytest_asyncio.fixture(loop_scope="session")
async def api(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Api]:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp) as (client, _):
        yield client


@pytest_asyncio.fixture(loop_scope="session")
async def sqlite_api(sqlite_url: str, hibp: FakeHibpServer) -> AsyncIterator[Api]:
    """SQLite only: for edge behaviour that does not depend on the backend."""
    async with running_app(sqlite_url, hibp=hibp) as (client, _):
        yield client
