"""One app wired to local fakes of both upstreams (QQ Music and NetEase), on the backend
under test, with a manual clock: the environment of the upstream API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from domain.clock import ManualClock
from tests.api.harness import Api, running_app
from tests.api.test_api_keys import start_of_test_day
from tests.fakes.hibp_server import FakeHibpServer
from tests.support.upstreams import Fakes, fake_upstreams


@dataclass
class UpstreamEnv:
    api: Api
    app: Any
    clock: ManualClock
    fakes: Fakes


@asynccontextmanager
async def upstream_env(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> AsyncIterator[UpstreamEnv]:
    database_url, redis_url = backend
    clock = ManualClock(start_of_test_day())
    with fake_upstreams() as fakes:
        async with running_app(
            database_url, redis_url=redis_url, hibp=hibp, clock=clock, **fakes.settings
        ) as (api, app):
            yield UpstreamEnv(api, app, clock, fakes)
