"""An in-process Karpov for API tests: the real app, real database, real Redis (when
configured), and a fake HIBP range server behind our real HIBP client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

from domain.accounts.passwords import Argon2PasswordHasher
from domain.accounts.ports import PasswordHasher
from domain.clock import Clock
from gateway.app import create_app
from gateway.container import build_container
from gateway.settings import Settings, load_settings
from rest.router import Route
from tests.fakes.hibp_server import FakeHibpServer

ADMIN_TOKEN = "test-admin-token-0123456789"
STRONG_PASSWORD = "Correct-Horse-42-Battery"
OTHER_STRONG_PASSWORD = "Another#Strong#Pass99"
NO_INTERNET = (
    "qqmusic_api_url", "qqmusic_ptlogin_url", "qqmusic_graph_url", "wechat_open_url",
    "wechat_long_poll_url", "netease_api_url",
)  # fmt: skip
"""upstreams (issue 15): the upstream origins a test app gets unless it aims them at its
fakes, a loopback port where nothing listens (QQ Music and NetEase are on by default)."""


class Api:
    """An HTTP client that behaves like a browser for CSRF: it keeps cookies and echoes the
    ``csrf_token`` cookie in ``X-CSRF-Token`` on unsafe requests."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def prime_csrf(self) -> str:
        if "csrf_token" not in self.http.cookies:
            await self.http.get("/v1/config/runtime")
        return self.http.cookies["csrf_token"]

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(headers or {})
        if method not in ("GET", "HEAD", "OPTIONS") and "X-CSRF-Token" not in headers:
            headers["X-CSRF-Token"] = await self.prime_csrf()
        return await self.http.request(method, path, json=json, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, json=json, **kwargs)

    async def patch(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def fresh(self) -> Api:
        """Another browser: same app, empty cookie jar."""
        return Api(httpx.AsyncClient(transport=self.http._transport, base_url=self.http.base_url))


@asynccontextmanager
async def running_app(
    database_url: str,
    *,
    redis_url: str | None = None,
    hibp: FakeHibpServer | None = None,
    clock: Clock | None = None,
    query: type | None = None,
    extra_routes: Sequence[Route] = (),
    hasher: PasswordHasher | None = None,
    **overrides: Any,
) -> AsyncIterator[tuple[Api, Any]]:
    overrides.setdefault("admin_tokens", ADMIN_TOKEN)
    overrides.setdefault("hibp_url", "http://hibp.test/range/")
    overrides.setdefault("hibp_mode", "fail-open")
    overrides.setdefault("master_key", "ab" * 32)
    # -- upstreams (issue 15): never the internet; a test aims them at its fakes --
    for name in NO_INTERNET:
        overrides.setdefault(name, "http://127.0.0.1:9/" + name)
    overrides.setdefault("jobs_in_process", False)  # worker (issue 17): tests run jobs by hand
    settings: Settings = load_settings(database_url=database_url, redis_url=redis_url, **overrides)
    fake = hibp or FakeHibpServer({})
    hibp_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
    cheap = hasher or Argon2PasswordHasher(time_cost=1, memory_cost_kib=64)

    async def factory(s: Settings) -> Any:
        return await build_container(s, clock=clock, http=hibp_http, hasher=cheap)

    app = create_app(settings, container_factory=factory, query=query, extra_routes=extra_routes)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c), app
    await hibp_http.aclose()


def test_redis_url() -> str | None:
    return os.environ.get("KARPOV_TEST_REDIS_URL") or None


async def data_of(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    result = await api.gql(query, variables, headers)
    assert "errors" not in result, result
    return result["data"]  # type: ignore[no-any-return]


async def error_of(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The one error of a failed query; its data must be null (or, for a nullable root
    field that failed alone, every root field null)."""
    result = await api.gql(query, variables, headers)
    data = result.get("data")
    assert data is None or all(value is None for value in data.values()), result
    assert len(result["errors"]) == 1, result
    return result["errors"][0]  # type: ignore[no-any-return]
