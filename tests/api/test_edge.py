"""The HTTP edge, observed from outside: security headers, request ids, the body limit,
CSRF, admin tokens, client IPs, the API-key seam, health/readiness, metrics, 404/405,
the OpenAPI document and docs page, GraphiQL, and GraphQL error handling."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from domain.accounts.passwords import Argon2PasswordHasher
from gateway.app import create_app
from gateway.container import Container, build_container
from gateway.graphiql import GRAPHIQL_ASSETS
from gateway.logs import JsonFormatter
from gateway.settings import Settings, load_settings
from gateway.swagger import SWAGGER_ASSETS, SWAGGER_CSP
from rest.routes import ROUTES
from schema.limits import DocumentLimits
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app

MAX_DEPTH = DocumentLimits().max_depth
PEER_IP = "203.0.113.7"  # the harness's ASGI client address
ONE_MIB = 1024 * 1024
UNREACHABLE_DB = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"

SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "content-security-policy": "default-src 'self'",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "permissions-policy": "geolocation=(), microphone=(), camera=()",
}
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


# -- helpers ------------------------------------------------------------------------------


@asynccontextmanager
async def edge_app(
    database_url: str,
    *,
    redis_url: str | None = None,
    wrap: Callable[[Container], Container] | None = None,
    raise_app_exceptions: bool = True,
    **overrides: Any,
) -> AsyncIterator[tuple[Api, Any]]:
    """Like ``running_app``, but any setting may be overridden (``admin_tokens`` too), the
    built container may be altered (``wrap``), and app exceptions can be seen as the 500 a
    real server would send. HIBP is off, so nothing is fetched."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "admin_tokens": ADMIN_TOKEN,
        "hibp_mode": "off",
        "master_key": "ab" * 32,
        **overrides,
    }
    settings: Settings = load_settings(**values)
    cheap = Argon2PasswordHasher(time_cost=1, memory_cost_kib=64)

    async def factory(s: Settings) -> Container:
        container = await build_container(s, hasher=cheap)
        return wrap(container) if wrap else container

    app = create_app(settings, container_factory=factory)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(
            app=app, client=(PEER_IP, 50000), raise_app_exceptions=raise_app_exceptions
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c), app


async def sign_in(
    api: Api, email: str = "alice@example.com", headers: dict[str, str] | None = None
) -> str:
    """Register (if needed) and log in through /v1; the Api keeps the sid cookie."""
    registered = await api.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    assert registered.status_code in (200, 409), registered.text
    login = await api.post(
        "/v1/auth/login", {"email": email, "password": STRONG_PASSWORD}, headers=headers
    )
    assert login.status_code == 200, login.text
    return str(login.json()["sid"])


def csrf_set_cookies(response: httpx.Response) -> list[str]:
    return [c for c in response.headers.get_list("set-cookie") if c.startswith("csrf_token=")]


def assert_security_headers(response: httpx.Response, *, csp: str = "default-src 'self'") -> None:
    for name, value in SECURITY_HEADERS.items():
        expected = csp if name == "content-security-policy" else value
        assert response.headers.get_list(name) == [expected], (response.url, name)


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A request body without Content-Length (sent chunked)."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        yield b"x" * piece
        sent += piece


class Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        ref = values.get("src") if tag == "script" else values.get("href")
        if tag in ("script", "link", "a") and ref:
            self.refs.append(ref)


def refs_of(html: str) -> list[str]:
    parser = Refs()
    parser.feed(html)
    parser.close()
    return parser.refs


class FormattedRecords(logging.Handler):
    """Formats with the platform's JsonFormatter at emit time (inside the request)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_logs() -> Iterator[FormattedRecords]:
    handler = FormattedRecords()
    loggers = [logging.getLogger("karpov.graphql"), logging.getLogger("karpov.rest")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


# -- security headers ----------------------------------------------------------------------


async def test_security_headers_are_on_every_kind_of_response(sqlite_api: Api) -> None:
    api = sqlite_api
    responses = [
        await api.http.get("/healthz"),
        await api.http.get("/readyz"),
        await api.http.get("/metrics"),
        await api.http.get("/v1/config/runtime"),
        await api.http.get("/v1/docs/openapi.json"),
        await api.http.get("/static/graphiql/init.js"),
        await api.http.get("/nope"),  # 404
        await api.http.delete("/healthz"),  # 405
        await api.http.get("/v1/auth/me"),  # 401
        await api.http.post("/v1/auth/login", json={}),  # 403 csrf
        await api.http.post(
            "/graphql",
            content=b'{"query": "{ viewer { id } }"}',
            headers={"Content-Type": "text/plain"},
        ),  # 400 csrf
        await api.http.get("/v1/admin/users", headers={"X-Admin-Key": "wrong"}),  # 403
        await api.http.post("/v1/auth/login", content=b"x" * (ONE_MIB + 1)),  # 413
        await api.post("/graphql", json={"query": "{ viewer { id } }"}),  # GraphQL error
    ]
    for response in responses:
        assert_security_headers(response)
    # The /v1 reference has its own policy: Swagger UI's icons are data: SVGs.
    assert_security_headers(await api.http.get("/v1/docs"), csp=SWAGGER_CSP)


async def test_graphiql_page_has_its_own_csp_allowing_data_fonts_and_images(
    sqlite_api: Api,
) -> None:
    page = await sqlite_api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers.get_list("content-security-policy")
    assert len(csp) == 1, csp  # replaced, not duplicated by the default policy
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp[0].split(";")}
    assert directives["default-src"] == "default-src 'self'"
    assert directives["img-src"] == "img-src 'self' data:"
    assert directives["font-src"] == "font-src 'self' data:"
    assert_security_headers(page, csp=csp[0])


# -- request id ----------------------------------------------------------------------------


async def test_request_id_is_generated_when_absent(sqlite_api: Api) -> None:
    first = await sqlite_api.http.get("/healthz")
    second = await sqlite_api.http.get("/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(SANE_REQUEST_ID.match(i) for i in ids), ids
    assert ids[0] != ids[1]
    assert first.headers.get_list("x-request-id") == [ids[0]]


async def test_a_sane_request_id_is_echoed(sqlite_api: Api) -> None:
    given = "trace-01.ABC_z:9"
    response = await sqlite_api.http.get("/nope", headers={"X-Request-Id": given})
    assert response.status_code == 404
    assert response.headers.get_list("x-request-id") == [given]


@pytest.mark.parametrize(
    "given", ["has spaces in it", "a" * 500, "<script>alert(1)</script>", "é-unicode"]
)
async def test_a_malformed_request_id_is_replaced(sqlite_api: Api, given: str) -> None:
    response = await sqlite_api.http.get(
        "/healthz", headers=[(b"x-request-id", given.encode("utf-8"))]
    )
    replaced = response.headers["x-request-id"]
    assert replaced != given
    assert SANE_REQUEST_ID.match(replaced)


async def test_request_id_of_a_128_char_id_is_kept(sqlite_api: Api) -> None:
    given = "b" * 128
    response = await sqlite_api.http.get("/healthz", headers={"X-Request-Id": given})
    assert response.headers["x-request-id"] == given


# -- body size limit -----------------------------------------------------------------------


async def test_declared_oversized_body_is_413_before_the_app_runs(sqlite_api: Api) -> None:
    # No CSRF header: had the request reached CSRF (or the route), it would be 403.
    response = await sqlite_api.http.post(
        "/v1/auth/login",
        content=b"x" * (ONE_MIB + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == 41300
    assert isinstance(body["message"], str) and body["message"]
    assert set(body) == {"code", "message"}


async def test_a_body_of_exactly_the_limit_is_accepted(sqlite_api: Api) -> None:
    response = await sqlite_api.post(
        "/v1/auth/login", content=b" " * ONE_MIB, headers={"Content-Type": "application/json"}
    )
    assert response.status_code != 413
    assert response.status_code < 500, response.text


async def test_declared_oversized_graphql_body_is_a_graphql_shaped_413(sqlite_api: Api) -> None:
    response = await sqlite_api.http.post(
        "/graphql", content=b"x" * (ONE_MIB + 1), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize(
    "path",
    [
        "/graphql",
        pytest.param(
            "/v1/auth/login",
        ),
    ],
)
async def test_a_chunked_body_over_the_limit_is_413(sqlite_api: Api, path: str) -> None:
    response = await sqlite_api.post(
        path, content=chunks(ONE_MIB + 64 * 1024), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text


async def test_max_body_bytes_from_the_environment_is_respected(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KARPOV_MAX_BODY_BYTES", "2048")
    async with running_app(sqlite_url) as (api, _):
        over = await api.http.post("/v1/auth/login", content=b"x" * 2049)
        assert over.status_code == 413
        assert over.json()["code"] == 41300
        under = await api.post(
            "/v1/auth/login",
            json={"email": "nobody@example.com", "password": "x" * 1500},
        )
        assert under.status_code not in (413, 500), under.text
        chunked = await api.post(
            "/graphql",
            content=chunks(4096, size=1024),
            headers={"Content-Type": "application/json"},
        )
        assert chunked.status_code == 413


# -- CSRF ----------------------------------------------------------------------------------


async def test_first_response_sets_the_csrf_cookie_as_the_original(sqlite_api: Api) -> None:
    response = await sqlite_api.http.get("/v1/config/runtime")
    assert response.status_code == 200
    [cookie] = csrf_set_cookies(response)
    parts = [p.strip() for p in cookie.split(";")]
    name, value = parts[0].split("=", 1)
    assert name == "csrf_token"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", value), value  # >= 32 random bytes, base64url
    attributes = {k.lower(): v for k, _, v in (p.partition("=") for p in parts[1:])}
    assert attributes["max-age"] == "604800"
    assert attributes["path"] == "/"
    assert attributes["samesite"].lower() == "lax"
    assert "httponly" not in attributes  # the page's script must read it
    assert "secure" not in attributes  # the public base URL is http here


async def test_a_request_carrying_the_cookie_gets_no_new_one(sqlite_api: Api) -> None:
    token = await sqlite_api.prime_csrf()
    again = await sqlite_api.http.get("/v1/config/runtime")
    assert csrf_set_cookies(again) == []
    assert sqlite_api.http.cookies["csrf_token"] == token


async def test_each_new_browser_gets_its_own_token(sqlite_api: Api) -> None:
    other = sqlite_api.fresh()
    async with other.http:
        assert await other.prime_csrf() != await sqlite_api.prime_csrf()


async def test_unsafe_request_without_the_header_is_403_40301(sqlite_api: Api) -> None:
    await sqlite_api.prime_csrf()  # the cookie is there, the header is not
    response = await sqlite_api.http.post(
        "/v1/auth/login", json={"email": "a@example.com", "password": "x"}
    )
    assert response.status_code == 403
    assert response.json() == {"code": 40301, "message": "csrf token mismatch"}


async def test_unsafe_request_without_cookie_or_header_is_403(sqlite_api: Api) -> None:
    response = await sqlite_api.http.post("/v1/auth/register", json={})
    assert response.status_code == 403
    assert response.json() == {"code": 40301, "message": "csrf token mismatch"}


async def test_a_csrf_rejection_still_hands_out_a_token(sqlite_api: Api) -> None:
    response = await sqlite_api.http.post("/v1/auth/register", json={})
    assert response.status_code == 403
    assert len(csrf_set_cookies(response)) == 1


async def test_mismatched_token_is_403(sqlite_api: Api) -> None:
    token = await sqlite_api.prime_csrf()
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", "x", token + "x"):
        response = await sqlite_api.post(
            "/v1/auth/login",
            json={"email": "a@example.com", "password": "x"},
            headers={"X-CSRF-Token": wrong},
        )
        assert response.status_code == 403, wrong
        assert response.json()["code"] == 40301


async def test_header_without_the_cookie_is_403(sqlite_api: Api) -> None:
    response = await sqlite_api.http.post(
        "/v1/auth/login", json={}, headers={"X-CSRF-Token": "made-up-token"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == 40301


async def test_matching_token_passes(sqlite_api: Api) -> None:
    sid = await sign_in(sqlite_api)  # register and login are unsafe: they went through
    assert sid
    logout = await sqlite_api.post("/v1/auth/logout", json={})
    assert logout.status_code == 200, logout.text


async def test_a_graphql_post_a_browser_could_send_cross_site_is_a_graphql_shaped_400(
    sqlite_api: Api,
) -> None:
    await sqlite_api.prime_csrf()  # the double-submit cookie plays no part on /graphql
    response = await sqlite_api.http.post(
        "/graphql", content=b'{"query": "{ runtimeConfig { timezone } }"}',
        headers={"Content-Type": "text/plain"},
    )  # fmt: skip
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert "cross-site request forgery" in error["message"]
    assert "application/json" in error["message"]
    assert error["extensions"]["code"] == "CSRF_FAILED"


async def test_header_credentials_are_exempt_from_csrf(sqlite_api: Api) -> None:
    sid = await sign_in(sqlite_api)
    stranger = sqlite_api.fresh()  # no cookies at all: a non-browser client
    async with stranger.http as http:
        by_header = await http.post(
            "/v1/auth/sessions/revoke-others", headers={"X-Session-Id": sid}
        )
        assert by_header.status_code == 200, by_header.text
        by_bearer = await http.post(
            "/v1/auth/sessions/revoke-others", headers={"Authorization": f"Bearer {sid}"}
        )
        assert by_bearer.status_code == 200, by_bearer.text
        by_admin = await http.post(
            "/graphql",
            json={"query": "{ adminUsers { totalCount } }"},
            headers={"X-Admin-Key": ADMIN_TOKEN},
        )
        assert by_admin.status_code == 200, by_admin.text
        assert by_admin.json()["data"]["adminUsers"]["totalCount"] == 1
        # An unknown session by header is an auth failure, not a CSRF failure.
        unknown = await http.post("/v1/auth/logout", headers={"X-Session-Id": "nope"})
        assert unknown.status_code == 401
    # Bearer + cookie: the header credential is what authenticates, so no CSRF needed.
    mixed = await sqlite_api.http.post(
        "/v1/auth/sessions/revoke-others", headers={"Authorization": f"Bearer {sid}"}
    )
    assert mixed.status_code == 200


async def test_a_cookie_session_is_not_exempt(sqlite_api: Api) -> None:
    await sign_in(sqlite_api)
    response = await sqlite_api.http.post("/v1/auth/sessions/revoke-others")
    assert response.status_code == 403
    assert response.json()["code"] == 40301


async def test_safe_methods_never_need_the_token(sqlite_api: Api) -> None:
    await sign_in(sqlite_api)
    me = await sqlite_api.http.get("/v1/auth/me")
    assert me.status_code == 200
    head = await sqlite_api.http.head("/healthz")
    assert head.status_code == 200
    query = await sqlite_api.http.get(
        "/graphql", params={"query": "{ viewer { email } }"}, headers={"Accept": "application/json"}
    )
    assert query.status_code == 200, query.text
    assert query.json()["data"]["viewer"]["email"] == "alice@example.com"


# -- admin token ---------------------------------------------------------------------------


async def test_a_valid_admin_token_lists_users(api: Api) -> None:
    await sign_in(api)
    response = await api.http.get("/v1/admin/users", headers={"X-Admin-Key": ADMIN_TOKEN})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200
    assert body["message"] == "success"
    assert "alice@example.com" in json.dumps(body["data"])


async def test_a_wrong_admin_token_is_403(api: Api) -> None:
    for wrong in ("wrong", ADMIN_TOKEN + "x", ADMIN_TOKEN[:-1], ""):
        response = await api.http.get("/v1/admin/users", headers={"X-Admin-Key": wrong})
        assert response.status_code == 403, wrong
        assert response.json() == {"code": 40300, "message": "admin token invalid"}


async def test_admin_tokens_can_be_several(sqlite_url: str) -> None:
    async with edge_app(sqlite_url, admin_tokens=" first-token , second-token ") as (api, _):
        for token in ("first-token", "second-token"):
            response = await api.http.get("/v1/admin/users", headers={"X-Admin-Key": token})
            assert response.status_code == 200, token


async def test_no_admin_tokens_configured_means_admin_disabled(sqlite_url: str) -> None:
    async with edge_app(sqlite_url, admin_tokens="") as (api, _):
        response = await api.http.get("/v1/admin/users", headers={"X-Admin-Key": ADMIN_TOKEN})
        assert response.status_code == 403
        assert response.json() == {"code": 40300, "message": "admin disabled"}
        empty = await api.http.get("/v1/admin/users", headers={"X-Admin-Key": ""})
        assert empty.status_code == 403
        assert empty.json()["message"] == "admin disabled"


async def test_a_plain_user_session_is_forbidden_from_admin(api: Api) -> None:
    await sign_in(api)
    response = await api.http.get("/v1/admin/users")
    assert response.status_code == 403, response.text
    assert response.json()["code"] == 40300


async def test_anonymous_admin_request_is_401(api: Api) -> None:
    response = await api.http.get("/v1/admin/users")
    assert response.status_code == 401
    assert response.json()["code"] == 40100


# -- client IP -----------------------------------------------------------------------------


async def current_session_ip(api: Api) -> str | None:
    response = await api.get("/v1/auth/sessions")
    assert response.status_code == 200, response.text
    [current] = [s for s in response.json()["data"]["items"] if s["current"]]
    return current["ip"]  # type: ignore[no-any-return]


async def test_forwarded_for_is_ignored_without_trusted_proxies(
    backend: tuple[str, str | None],
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url) as (api, _):
        await sign_in(api, headers={"X-Forwarded-For": "198.51.100.9"})
        assert await current_session_ip(api) == PEER_IP


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("198.51.100.1, 203.0.113.50", "198.51.100.1"),  # skip our own proxy hops
        ("192.0.2.66, 198.51.100.1", "198.51.100.1"),  # the left-most entry is spoofable
        ("203.0.113.50, 203.0.113.51", "203.0.113.50"),  # all hops trusted
        ("not-an-ip", PEER_IP),
        ("192.0.2.66, garbage", PEER_IP),
        ("", PEER_IP),
    ],
)
async def test_forwarded_for_from_a_trusted_proxy(
    backend: tuple[str, str | None], forwarded: str, expected: str
) -> None:
    database_url, redis_url = backend
    behind_proxy = running_app(database_url, redis_url=redis_url, trusted_proxies="203.0.113.0/24")
    async with behind_proxy as (api, _):
        await sign_in(api, headers={"X-Forwarded-For": forwarded})
        assert await current_session_ip(api) == expected


async def test_forwarded_for_is_ignored_when_the_peer_is_not_a_trusted_proxy(
    sqlite_url: str,
) -> None:
    async with running_app(sqlite_url, trusted_proxies="10.0.0.0/8") as (api, _):
        await sign_in(api, headers={"X-Forwarded-For": "198.51.100.1"})
        assert await current_session_ip(api) == PEER_IP


# -- API-key seam --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{"X-API-Key": "mk_whatever"}, {"Authorization": "Bearer mk_whatever"}]
)
async def test_api_keys_are_not_accepted_yet(sqlite_api: Api, headers: dict[str, str]) -> None:
    response = await sqlite_api.http.get("/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"code": 40100, "message": "invalid api key"}
    graphql = await sqlite_api.http.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers=headers
    )
    assert graphql.status_code == 401
    assert graphql.json()["errors"][0]["message"] == "invalid api key"


# -- health and readiness ------------------------------------------------------------------


async def test_healthz_and_readyz(api: Api) -> None:
    health = await api.http.get("/healthz")
    assert (health.status_code, health.text) == (200, "ok")
    assert health.headers["content-type"].startswith("text/plain")
    ready = await api.http.get("/readyz")
    assert (ready.status_code, ready.text) == (200, "ready")
    assert csrf_set_cookies(health) == csrf_set_cookies(ready) == []


@pytest.mark.parametrize(
    ("database", "redis", "down"),
    [
        (UNREACHABLE_DB, None, {"database"}),
        ("sqlite", UNREACHABLE_REDIS, {"redis"}),
        (UNREACHABLE_DB, UNREACHABLE_REDIS, {"database", "redis"}),
    ],
)
async def test_readyz_names_what_is_down(
    sqlite_url: str, database: str, redis: str | None, down: set[str]
) -> None:
    database_url = sqlite_url if database == "sqlite" else database
    # The lifespan starts although the dependencies are unreachable.
    async with edge_app(database_url, redis_url=redis) as (api, _):
        health = await api.http.get("/healthz")
        assert health.status_code == 200
        ready = await api.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.headers["content-type"].startswith("text/plain")
        for name in {"database", "redis"}:
            assert (name in ready.text) == (name in down), ready.text


@pytest.mark.parametrize(
    ("database", "redis"), [(UNREACHABLE_DB, None), ("sqlite", UNREACHABLE_REDIS)]
)
async def test_a_session_store_outage_still_answers_through_the_edge(
    sqlite_url: str, database: str, redis: str | None
) -> None:
    database_url = sqlite_url if database == "sqlite" else database
    async with edge_app(database_url, redis_url=redis, raise_app_exceptions=False) as (api, _):
        response = await api.http.get("/v1/auth/me", headers={"X-Session-Id": "some-session"})
        assert "x-request-id" in response.headers
        assert_security_headers(response)
        assert response.status_code in (401, 503), response.text
        assert response.headers["content-type"].startswith("application/json")


# -- metrics -------------------------------------------------------------------------------


async def test_metrics_use_route_templates_not_raw_ids(sqlite_api: Api) -> None:
    raw_id = "0123456789abcdef0123456789abcdef"
    for _ in range(2):
        response = await sqlite_api.http.get(
            f"/v1/admin/users/{raw_id}", headers={"X-Admin-Key": ADMIN_TOKEN}
        )
        assert response.status_code == 404
    await sqlite_api.http.get(f"/nowhere/{raw_id}")
    metrics = await sqlite_api.http.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert raw_id not in metrics.text
    samples = {
        (s.labels["method"], s.labels["route"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(metrics.text)
        if family.name == "karpov_http_requests"
        for s in family.samples
        if s.name == "karpov_http_requests_total"
    }
    assert samples[("GET", "/v1/admin/users/{id}", "404")] == 2
    assert ("GET", "/v1/admin/users", "200") not in samples


# -- 404 and 405 ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nope", "/v1/nope", "/v1/auth/nope/deeper", "/static/x"])
async def test_unknown_paths_are_404_envelopes(sqlite_api: Api, path: str) -> None:
    response = await sqlite_api.http.get(path)
    assert response.status_code == 404
    assert response.json() == {"code": 40400, "message": "not found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/healthz"), ("GET", "/v1/auth/login"), ("PUT", "/v1/auth/me")],
)
async def test_wrong_method_is_a_405_envelope(sqlite_api: Api, method: str, path: str) -> None:
    response = await sqlite_api.request(method, path)
    assert response.status_code == 405
    assert response.json() == {"code": 40500, "message": "method not allowed"}


async def test_a_405_says_which_methods_are_allowed(sqlite_api: Api) -> None:
    response = await sqlite_api.http.get("/v1/auth/login")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


# -- OpenAPI and docs ----------------------------------------------------------------------


async def test_openapi_json_lists_every_route(sqlite_api: Api) -> None:
    response = await sqlite_api.http.get("/v1/docs/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == {(route.method, route.path) for route in ROUTES}
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


async def test_openapi_yaml_is_the_same_document(sqlite_api: Api) -> None:
    as_json = (await sqlite_api.http.get("/v1/docs/openapi.json")).json()
    response = await sqlite_api.http.get("/v1/docs/openapi.yaml")
    assert response.status_code == 200
    assert "yaml" in response.headers["content-type"]
    assert yaml.safe_load(response.text) == as_json


async def test_docs_page_links_both_documents(sqlite_api: Api) -> None:
    page = await sqlite_api.http.get("/v1/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    refs = refs_of(page.text)
    assert "/v1/docs/openapi.json" in refs
    assert "/v1/docs/openapi.yaml" in refs
    for ref in refs:
        assert (await sqlite_api.http.get(ref, headers={"Accept": "text/html"})).status_code == 200
    for route in ROUTES:
        assert route.path in page.text  # the <noscript> table
    # Swagger UI, from our own assets only: every one is linked and served, nothing else is.
    for name in SWAGGER_ASSETS:
        assert f"/static/swagger-ui/{name}" in refs
    assert not [r for r in refs if "//" in r], refs
    assert "data-url='/v1/docs/openapi.json'" in page.text


async def test_graphiql_page_loads_every_asset_from_us(sqlite_api: Api) -> None:
    page = await sqlite_api.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    refs = refs_of(page.text)
    assert {ref.rsplit("/", 1)[-1] for ref in refs} == set(GRAPHIQL_ASSETS)
    for ref in refs:
        assert ref.startswith("/static/graphiql/"), ref
        asset = await sqlite_api.http.get(ref)
        assert asset.status_code == 200, ref
        assert asset.content, ref
        assert_security_headers(asset)


# -- GraphQL errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(
            "{ viewer { ",
            id="syntax",
        ),
        pytest.param("{ noSuchField }", id="unknown-field"),
    ],
)
async def test_invalid_documents_are_200_with_parse_or_validation_failed(
    sqlite_api: Api, query: str
) -> None:
    response = await sqlite_api.post("/graphql", json={"query": query})
    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None
    assert body["errors"]
    code = "GRAPHQL_PARSE_FAILED" if query.startswith("{ viewer") else "GRAPHQL_VALIDATION_FAILED"
    assert all(e["extensions"]["code"] == code for e in body["errors"])


def nested(depth: int) -> str:
    return "{ " + "f { " * (depth - 1) + "leaf" + " }" * (depth - 1) + " }"


async def test_a_query_deeper_than_the_limit_is_rejected(sqlite_api: Api) -> None:
    too_deep = await sqlite_api.gql(nested(MAX_DEPTH + 2))
    assert too_deep.get("data") is None
    depth_errors = [e for e in too_deep["errors"] if "maximum operation depth" in e["message"]]
    assert depth_errors, too_deep
    assert f"depth of {MAX_DEPTH}" in depth_errors[0]["message"]
    assert depth_errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    shallow = await sqlite_api.gql(nested(MAX_DEPTH - 1))
    assert not [e for e in shallow["errors"] if "maximum operation depth" in e["message"]]


def break_runtime(container: Container) -> Container:
    container.services = dataclasses.replace(container.services, runtime=None)  # type: ignore[arg-type]
    return container


async def test_an_unexpected_resolver_error_is_masked_and_logged_with_the_request_id(
    sqlite_url: str, json_logs: FormattedRecords
) -> None:
    async with edge_app(sqlite_url, wrap=break_runtime) as (api, _):
        response = await api.post(
            "/graphql",
            json={"query": "{ runtimeConfig { timezone } }"},
            headers={"X-Request-Id": "trace-graphql-1"},
        )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"] == "internal error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "trace-graphql-1"}
    assert error["path"] == ["runtimeConfig"]
    for leak in ("NoneType", "AttributeError", "email_verification", "Traceback"):
        assert leak not in response.text
    [line] = [line for line in json_logs.lines if line["logger"] == "karpov.graphql"]
    assert line["request_id"] == "trace-graphql-1"
    assert line["level"] == "error"
    assert "AttributeError" in line["exception"]


async def test_an_unexpected_rest_error_is_masked_and_logged_with_the_request_id(
    sqlite_url: str, json_logs: FormattedRecords
) -> None:
    async with edge_app(sqlite_url, wrap=break_runtime) as (api, _):
        response = await api.http.get(
            "/v1/config/runtime", headers={"X-Request-Id": "trace-rest-1"}
        )
    assert response.status_code == 500
    assert response.json() == {"code": 50000, "message": "internal error"}
    assert response.headers["x-request-id"] == "trace-rest-1"
    assert "NoneType" not in response.text
    [line] = [line for line in json_logs.lines if line["logger"] == "karpov.rest"]
    assert line["request_id"] == "trace-rest-1"
    assert "AttributeError" in line["exception"]
