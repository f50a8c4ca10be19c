"""CORS for /graphql and /v1 (``KARPOV_CORS_ORIGINS``): the preflight and response matrix
in process, then a real page on another loopback origin driving the API in headless
Chromium, with cookies."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from gateway.cors import normalise_origin
from gateway.settings import ConfigError, load_settings
from tests.api.harness import STRONG_PASSWORD, running_app
from tests.support.live import (
    chromium_dump_dom,
    free_socket,
    live_karpov,
    require_chromium,
    serve,
)

LISTED = "http://app.example"
UNLISTED = "http://evil.example"


@pytest.fixture
async def http(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(sqlite_url, cors_origins=f"{LISTED}, https://admin.example:8443") as (
        api,
        _,
    ):
        yield api.http


def preflight(origin: str, method: str = "POST", headers: str = "content-type") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@pytest.mark.parametrize("path", ["/graphql", "/v1/auth/login", "/v1/auth/api-keys/abc"])
async def test_a_listed_origin_gets_a_204_preflight_with_methods_headers_and_max_age(
    http: httpx.AsyncClient, path: str
) -> None:
    response = await http.options(
        path, headers=preflight(LISTED, headers="content-type, authorization")
    )
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == LISTED
    assert response.headers["access-control-allow-credentials"] == "true"
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST"} <= methods
    if path != "/graphql":
        assert {"PATCH", "DELETE"} <= methods
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "authorization", "x-csrf-token", "x-api-key"} <= allowed
    assert {"apollo-require-preflight", "graphql-preflight"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    assert "Origin" in response.headers["vary"]


@pytest.mark.parametrize(
    "origin", [UNLISTED, "http://app.example:8080", "null", "https://app.example"]
)
async def test_any_other_origin_is_refused_at_the_preflight(
    http: httpx.AsyncClient, origin: str
) -> None:
    for path in ("/graphql", "/v1/auth/login"):
        response = await http.options(path, headers=preflight(origin))
        assert response.status_code == 403
        assert "access-control-allow-origin" not in response.headers
        assert "access-control-allow-credentials" not in response.headers
        assert "Origin" in response.headers["vary"]
        body = response.json()
        if path == "/graphql":
            assert body["errors"][0]["extensions"]["code"] == "CORS_ORIGIN_REFUSED"
        else:
            assert body["code"] == 40300
        assert "KARPOV_CORS_ORIGINS" in response.text


async def test_origins_compare_exactly_after_normalising_case_and_default_form(
    http: httpx.AsyncClient,
) -> None:
    for origin in ("HTTP://APP.EXAMPLE", "https://admin.example:8443"):
        response = await http.options("/graphql", headers=preflight(origin))
        assert response.status_code == 204, origin
        assert response.headers["access-control-allow-origin"] == origin  # echoed as sent


async def test_answers_carry_credentials_only_for_a_listed_origin_and_always_vary(
    http: httpx.AsyncClient,
) -> None:
    body = {"query": "{ __typename }"}
    listed = await http.post("/graphql", json=body, headers={"Origin": LISTED})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == LISTED
    assert listed.headers["access-control-allow-credentials"] == "true"
    assert "x-request-id" in listed.headers["access-control-expose-headers"]
    assert listed.headers["vary"] == "Origin"
    for headers in ({"Origin": UNLISTED}, {}):
        other = await http.post("/graphql", json=body, headers=headers)
        assert other.status_code == 200  # same-origin POSTs carry Origin too: never refused
        assert "access-control-allow-origin" not in other.headers
        assert "access-control-allow-credentials" not in other.headers
        assert other.headers["vary"] == "Origin"
    v1 = await http.get("/v1/config/runtime", headers={"Origin": LISTED})
    assert v1.headers["access-control-allow-origin"] == LISTED
    health = await http.get("/healthz", headers={"Origin": LISTED})
    assert "access-control-allow-origin" not in health.headers  # only /graphql and /v1


async def test_nothing_listed_is_same_origin_only(sqlite_url: str) -> None:
    async with running_app(sqlite_url) as (api, _):
        response = await api.http.options("/graphql", headers=preflight(LISTED))
        assert response.status_code == 403
        answer = await api.http.post("/graphql", json={"query": "{ __typename }"},
                                     headers={"Origin": LISTED})  # fmt: skip
        assert "access-control-allow-origin" not in answer.headers
        # An OPTIONS that is not a preflight is the GraphQL endpoint's own.
        plain = await api.http.options("/graphql")
        assert plain.status_code == 204
        assert plain.headers["allow"] == "GET, POST, OPTIONS"


def test_cors_origins_must_be_origins() -> None:
    assert load_settings(cors_origins="https://A.example/, http://b.example:81").cors_origins == [
        "https://a.example",
        "http://b.example:81",
    ]
    for bad in ("*", "app.example", "https://app.example/path", "ftp://x.example"):
        with pytest.raises(ConfigError, match="KARPOV_CORS_ORIGINS"):
            load_settings(cors_origins=bad)
    assert normalise_origin("http://localhost:3000") == "http://localhost:3000"


# -- a real browser on another origin ----------------------------------------------------------

PAGE = """<!doctype html><html><body><pre id="result">pending</pre><script>
const api = %(api)s;
const email = "cors-" + Math.random().toString(16).slice(2) + "@example.com";
async function gql(query, variables) {
  const response = await fetch(api, {
    method: "POST", credentials: "include", headers: {"content-type": "application/json"},
    body: JSON.stringify({query, variables}),
  });
  return response.json();
}
(async () => {
  const out = {};
  try {
    out.typename = (await gql("{ __typename }")).data.__typename;
    const input = {email, password: %(password)s};
    await gql("mutation($input: AccountRegisterInput!) {" +
      " accountRegister(input: $input) { errors { code } } }", {input});
    const login = await gql("mutation($input: AccountLoginInput!) {" +
      " accountLogin(input: $input) { result { user { email } } errors { code } } }", {input});
    out.login = login.data.accountLogin.result.user.email === email;
    // The session cookie the API set is sent back: the viewer is this user.
    out.viewer = (await gql("{ viewer { email } }")).data.viewer.email === email;
  } catch (error) {
    out.error = String(error);
  }
  document.getElementById("result").textContent = JSON.stringify(out);
})();
</script></body></html>"""


def page_app(api: str) -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(
            PAGE % {"api": json.dumps(api), "password": json.dumps(STRONG_PASSWORD)}
        )

    return Starlette(routes=[Route("/", page)])


def page_result(dom: str) -> dict[str, object]:
    match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert match, dom[:2000]
    result: dict[str, object] = json.loads(unescape(match.group(1)))
    return result


def test_a_page_on_a_listed_origin_signs_in_and_uses_its_cookie_in_headless_chromium(
    sqlite_url: str,
) -> None:
    chromium = require_chromium()
    # Two ports of localhost: two origins of one site, as app.example and api.example are
    # (the session cookie is SameSite=Lax, so a frontend on another site would not get it).
    page_socket = free_socket()
    page_origin = f"http://localhost:{page_socket.getsockname()[1]}"
    with live_karpov(sqlite_url, cors_origins=page_origin) as base:
        api = base.replace("127.0.0.1", "localhost") + "/graphql"
        with (
            serve(page_app(api), lifespan="off", sock=page_socket) as page_base,
            tempfile.TemporaryDirectory() as profile,
        ):
            result = page_result(chromium_dump_dom(chromium, f"{page_origin}/", Path(profile)))
            assert result == {"typename": "Query", "login": True, "viewer": True}, result
            # The same page from an origin that is not listed cannot read a thing.
            unlisted = f"{page_base}/"  # http://127.0.0.1:<port>: another origin
            refused = page_result(chromium_dump_dom(chromium, unlisted, Path(profile)))
            assert "typename" not in refused
            assert "Failed to fetch" in str(refused.get("error")), refused
