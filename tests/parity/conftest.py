"""Parity runs every scenario on an app that also has OAuth providers (the fake Linux.do
and OpenID servers on loopback), so the OAuth routes can be compared with their twins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.api.conftest import backend, hibp  # noqa: F401  (shared fixtures)
from tests.api.harness import Api, running_app
from tests.api.oauth_flow import (  # noqa: F401  (shared fixtures)
    linuxdo,
    linuxdo_server,
    oauth_settings,
    oidc,
    oidc_server,
)
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.oauth_server import FakeOAuthServer
from tests.parity.pool_fake import NETEASE, QQ
from tests.support.upstreams import fake_upstreams


@pytest_asyncio.fixture(loop_scope="session")
async def api(
    backend: tuple[str, str | None],  # noqa: F811
    hibp: FakeHibpServer,  # noqa: F811
    linuxdo: FakeOAuthServer,  # noqa: F811
    oidc: FakeOAuthServer,  # noqa: F811
) -> AsyncIterator[Api]:
    database_url, redis_url = backend
    settings = oauth_settings(linuxdo, oidc)
    with fake_upstreams(QQ, NETEASE) as fakes:  # upstreams (issue 15): both on loopback
        settings = {**settings, **fakes.settings}
        async with running_app(database_url, redis_url=redis_url, hibp=hibp, **settings) as (
            client,
            _,
        ):
            yield client
