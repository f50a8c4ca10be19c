"""Upstreams on by default, but unreachable (upstreams, issue 15), on SQLite and on
PostgreSQL + Redis: QQ Music and NetEase answer music queries unless
``KARPOV_MUSIC_UPSTREAMS`` turns them off; where nothing listens at their origins (the test
harness's default: a dead loopback port), every route that reaches them answers a clear 502
in our error shape (never a 500), and with ``KARPOV_MUSIC_UPSTREAMS=none`` a 503 naming the
setting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN, Api, running_app
from tests.api.test_api_keys import create_key, signed_in, with_key
from tests.fakes.hibp_server import FakeHibpServer

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
ROUTES = ["/v1/qqmusic/songs/003OUlho2HcRHC", "/v1/netease/search/songs?q=moon"]


@dataclass
class Env:
    api: Api
    app: Any


async def music_key(env: Env, email: str) -> tuple[Api, dict[str, str]]:
    browser = await signed_in(env, email)  # type: ignore[arg-type]
    _, key = await create_key(browser, scopes=["music:read"])
    return env.api.fresh(), with_key(key)


@pytest_asyncio.fixture(loop_scope="session")
async def dead(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp) as (api, app):
        yield Env(api, app)


@pytest_asyncio.fixture(loop_scope="session")
async def off(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    async with running_app(
        database_url, redis_url=redis_url, hibp=hibp, music_upstreams="none"
    ) as (api, app):
        yield Env(api, app)


@pytest.mark.parametrize("path", ROUTES)
async def test_an_unreachable_upstream_is_a_502_in_our_shape(dead: Env, path: str) -> None:
    api, key = await music_key(dead, f"dead{len(path)}@example.com")
    response = await api.get(path, headers=key)
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["code"] == 50200 and body["message"], body


async def test_an_unreachable_upstream_is_a_graphql_error_not_internal(dead: Env) -> None:
    api, key = await music_key(dead, "deadgql@example.com")
    result = await api.gql(
        'query { search(provider: NETEASE, query: "moon") { totalCount } }',
        {},
        key,
    )
    codes = [e["extensions"]["code"] for e in result["errors"]]
    assert codes == ["MUSIC_UPSTREAM_FAILED"], result


async def test_qr_and_netease_logins_with_nothing_listening_are_502s(dead: Env) -> None:
    qr = await dead.api.post("/v1/admin/login/qr/start", {"platform": "qq"}, headers=ADMIN)
    assert qr.status_code == 502, qr.text
    assert qr.json()["code"] == 14 and qr.json()["message"]  # grpc-gateway: UNAVAILABLE
    key = await dead.api.post("/v1/netease/auth/login/qr/key", {}, headers=ADMIN)
    assert key.status_code == 502, key.text
    assert key.json()["code"] == 50200 and key.json()["message"]


@pytest.mark.parametrize("path", ROUTES)
async def test_turned_off_upstreams_are_a_503_naming_the_setting(off: Env, path: str) -> None:
    api, key = await music_key(off, f"off{len(path)}@example.com")
    response = await api.get(path, headers=key)
    assert response.status_code == 503, response.text
    assert "KARPOV_MUSIC_UPSTREAMS" in response.json()["message"]
    providers = await api.gql("{ musicProviders { name available } }", {}, key)
    available = {p["name"]: p["available"] for p in providers["data"]["musicProviders"]}
    assert available == {"LOCAL": True, "QQMUSIC": False, "NETEASE": False}
