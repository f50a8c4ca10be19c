"""The input boundary (issue 12, item 2), as a corpus of hostile requests: every class of
bad input the issue lists, on both edges and both backends. Each answer is a clear 4xx
naming what was wrong (or a 503 for a dependency), never a 500, and always with our
headers (request id, security headers).

Cases: lone surrogates and NUL in every kind of string (JSON bodies, query parameters,
headers, cookies, GraphQL variables and inline literals), integers past any sane range,
datetimes out of range or without a zone, JSON nested 100,000 deep, non-UTF-8 bodies,
non-ASCII CSRF tokens and cookies, oversized request headers (431)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.fakes.hibp_server import FakeHibpServer

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
SURROGATE = "\ud800"
NUL = "\x00"
HUGE = 10**30
DEEP = 100_000


def raw_json(value: Any) -> bytes:
    """JSON with lone surrogates kept as escapes (``json.dumps`` does that by default)."""
    return json.dumps(value).encode("ascii")


def deep_json(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@dataclass
class Signed:
    api: Api
    key_id: str
    headers: dict[str, str] = field(default_factory=dict)


@pytest_asyncio.fixture(loop_scope="session")
async def signed(backend: tuple[str, str | None]) -> AsyncIterator[Signed]:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=FakeHibpServer({})) as (
        api,
        _,
    ):
        creds = {"email": "bad-input@example.com", "password": STRONG_PASSWORD}
        assert (await api.post("/v1/auth/register", creds)).status_code == 200
        assert (await api.post("/v1/auth/login", creds)).status_code == 200
        created = await api.post("/v1/auth/api-keys", {"name": "k"})
        assert created.status_code == 200, created.text
        yield Signed(api=api, key_id=str(created.json()["id"]))


def assert_clear(response: httpx.Response, status: int | tuple[int, ...], named: str) -> None:
    """A clear refusal: the status, our headers, and the field named in the message."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers.get("x-request-id"), response.headers
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert named.lower() in response.text.lower(), response.text


async def post_raw(
    api: Api, path: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.request(
        "POST", path, content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip


# -- /v1: JSON bodies ---------------------------------------------------------------------

V1_BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("register email surrogate", "/v1/auth/register",
     {"email": f"a{SURROGATE}@example.com", "password": STRONG_PASSWORD}, "email"),
    ("register password surrogate", "/v1/auth/register",
     {"email": "x@example.com", "password": f"pw{SURROGATE}"}, "password"),
    ("login password surrogate", "/v1/auth/login",
     {"email": "x@example.com", "password": SURROGATE}, "password"),
    ("login email nul", "/v1/auth/login",
     {"email": f"x{NUL}@example.com", "password": "x"}, "email"),
    ("reset token surrogate", "/v1/auth/password/reset",
     {"token": SURROGATE, "newPassword": STRONG_PASSWORD}, "token"),
    ("reset request email nul", "/v1/auth/password/reset/request",
     {"email": f"x{NUL}@example.com"}, "email"),
    ("send code email surrogate", "/v1/auth/email/send-code",
     {"email": f"{SURROGATE}@example.com"}, "email"),
    ("verify token nul", "/v1/auth/email/verify", {"token": NUL}, "token"),
    ("totp verify code surrogate", "/v1/auth/totp/verify",
     {"challengeId": "c", "code": SURROGATE}, "code"),
    ("key name nul", "/v1/auth/api-keys", {"name": f"k{NUL}"}, "name"),
    ("key description nul", "/v1/auth/api-keys", {"name": "k", "description": NUL},
     "description"),
    ("key scope surrogate", "/v1/auth/api-keys", {"name": "k", "scopes": [SURROGATE]},
     "scopes"),
    ("nested key surrogate", "/v1/auth/api-keys", {"name": "k", "x": {SURROGATE: 1}}, "x"),
    ("key rpm huge", "/v1/auth/api-keys", {"name": "k", "rateLimitRpm": HUGE},
     "rateLimitRpm"),
    ("key expiry out of range", "/v1/auth/api-keys",
     {"name": "k", "expiresAt": "9999-12-31T23:59:59-14:00"}, "expiresAt"),
    ("key expiry without zone", "/v1/auth/api-keys",
     {"name": "k", "expiresAt": "2030-01-01T00:00:00"}, "expiresAt"),
    ("key expiry year 0001", "/v1/auth/api-keys",
     {"name": "k", "expiresAt": "0001-01-01T00:00:00+14:00"}, "expiresAt"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "named"), [c[1:] for c in V1_BODIES],
                         ids=[c[0] for c in V1_BODIES])  # fmt: skip
async def test_v1_bodies(signed: Signed, path: str, body: dict[str, Any], named: str) -> None:
    response = await post_raw(signed.api, path, raw_json(body))
    assert_clear(response, 400, named)


async def test_v1_rotation_grace_beyond_range(signed: Signed) -> None:
    path = f"/v1/auth/api-keys/{signed.key_id}/rotate"
    for grace in (HUGE, -HUGE, 2**63):
        response = await post_raw(signed.api, path, raw_json({"graceSeconds": grace}))
        assert_clear(response, 400, "graceSeconds")


async def test_v1_update_with_bad_strings(signed: Signed) -> None:
    response = await signed.api.request(
        "PATCH", f"/v1/auth/api-keys/{signed.key_id}",
        content=raw_json({"description": f"d{NUL}"}),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert_clear(response, 400, "description")


async def test_v1_json_nested_deep_and_non_utf8(signed: Signed) -> None:
    assert_clear(await post_raw(signed.api, "/v1/auth/login", deep_json(DEEP)), 400, "deep")
    assert_clear(await post_raw(signed.api, "/v1/auth/login", deep_json(40)), 400, "deep")
    body = b'{"email": "\xff\xfe@example.com", "password": "x"}'
    assert_clear(await post_raw(signed.api, "/v1/auth/login", body), 400, "UTF-8")


# -- /v1: query parameters and paths ------------------------------------------------------

V1_QUERIES: list[tuple[str, str, dict[str, str], str]] = [
    ("users email nul", "/v1/admin/users", {"email": NUL}, "email"),
    ("users limit huge", "/v1/admin/users", {"limit": str(HUGE)}, "limit"),
    ("users offset huge", "/v1/admin/users", {"offset": str(-HUGE)}, "offset"),
    ("audit actor nul", "/v1/admin/audit", {"actor": f"a{NUL}"}, "actor"),
    ("audit since without zone", "/v1/admin/audit", {"since": "2026-01-01"}, "since"),
    ("audit until out of range", "/v1/admin/audit",
     {"until": "9999-12-31T23:59:59-14:00"}, "until"),
    ("audit since garbage", "/v1/admin/audit", {"since": "yesterday"}, "since"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "params", "named"), [c[1:] for c in V1_QUERIES],
                         ids=[c[0] for c in V1_QUERIES])  # fmt: skip
async def test_v1_query_parameters(
    signed: Signed, path: str, params: dict[str, str], named: str
) -> None:
    response = await signed.api.get(path, params=params, headers=ADMIN)
    assert_clear(response, 400, named)


async def test_v1_usage_days_huge(signed: Signed) -> None:
    response = await signed.api.get("/v1/usage/history", params={"days": str(HUGE)})
    assert_clear(response, 400, "days")


async def test_v1_path_with_nul(signed: Signed) -> None:
    response = await signed.api.get("/v1/auth/api-keys/%00")
    assert_clear(response, 400, "path")


# -- headers and cookies, on both edges ---------------------------------------------------

EDGE_PATHS = ("/v1/auth/login", "/graphql")


@pytest.mark.parametrize("path", EDGE_PATHS)
async def test_non_ascii_csrf_header_and_cookie(signed: Signed, path: str) -> None:
    fresh = signed.api.fresh()
    body = raw_json({"query": "{ __typename }"} if path == "/graphql" else {"email": "x"})
    # A non-ASCII token in the header: refused as a CSRF failure, never a 500.
    response = await fresh.http.post(
        path, content=body,
        headers=[(b"content-type", b"application/json"), (b"x-csrf-token", "ü€".encode())],
    )  # fmt: skip
    assert_clear(response, (400, 403), "csrf")
    # A non-ASCII csrf_token cookie: ignored (a fresh one is issued), so CSRF fails.
    response = await fresh.http.post(
        path, content=body,
        headers=[(b"content-type", b"application/json"), (b"x-csrf-token", b"abc"),
                 (b"cookie", "csrf_token=ü€".encode())],
    )  # fmt: skip
    if path == "/graphql":
        # issue 11: /graphql has no double-submit cookie (Apollo's csrfPrevention): a JSON
        # POST with a preflight-only header passes, and the odd cookie changes nothing.
        assert response.status_code == 200, response.text
        return
    assert_clear(response, 403, "csrf")
    assert "csrf_token=" in response.headers.get("set-cookie", "")
    # Both non-ASCII and equal: still no 500.
    response = await fresh.http.post(
        path, content=body,
        headers=[(b"content-type", b"application/json"), (b"x-csrf-token", "ü".encode()),
                 (b"cookie", "csrf_token=ü".encode())],
    )  # fmt: skip
    assert_clear(response, (400, 403), "csrf")


@pytest.mark.parametrize("path", EDGE_PATHS)
@pytest.mark.parametrize(
    "name", ["x-session-id", "x-api-key", "x-admin-key", "authorization", "x-csrf-token"]
)
async def test_non_ascii_or_nul_credential_headers(signed: Signed, path: str, name: str) -> None:
    prefix = b"Bearer " if name == "authorization" else b""
    for value in ("ü€".encode(), b"abc\x00def"):
        response = await signed.api.fresh().http.get(
            path if path != "/graphql" else "/graphql?query=%7B__typename%7D",
            headers=[(name.encode(), prefix + value)],
        )
        assert response.status_code in (400, 401, 403), (name, response.text)
        assert response.headers.get("x-request-id")


@pytest.mark.parametrize("path", EDGE_PATHS)
async def test_oversized_request_headers_are_431(signed: Signed, path: str) -> None:
    response = await signed.api.fresh().http.get(path, headers={"X-Padding": "a" * 70_000})
    assert_clear(response, 431, "header")
    many = [(f"x-h{i}".encode(), b"a" * 100) for i in range(1000)]
    response = await signed.api.fresh().http.get(path, headers=many)
    assert_clear(response, 431, "header")


@pytest.mark.parametrize("path", EDGE_PATHS)
async def test_query_parameter_with_nul(signed: Signed, path: str) -> None:
    response = await signed.api.get(path, params={"q": f"x{NUL}"})
    assert_clear(response, 400, "q")


# -- GraphQL ------------------------------------------------------------------------------

LOGIN = """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
    errors { code field message } } }"""
REGISTER = """mutation($i: AccountRegisterInput!) { accountRegister(input: $i) {
    errors { code field message } } }"""
KEY_CREATE = """mutation($i: ApiKeyCreateInput!) { apiKeyCreate(input: $i) {
    issued { plaintext } errors { code field message } } }"""
AUDIT = """query($f: AuditEventFilter) { adminAuditEvents(filter: $f) { edges { node { id } } } }"""


def no_internal(response: httpx.Response, named: str) -> dict[str, Any]:
    """A GraphQL answer that refused the input: 200 or 400, our headers, an error (top
    level or in the payload) naming the field, and nothing masked as INTERNAL."""
    assert response.status_code in (200, 400), (response.status_code, response.text)
    assert response.headers.get("x-request-id")
    body: dict[str, Any] = response.json()
    text = json.dumps(body)
    assert "INTERNAL" not in text, text
    assert "error" in text.lower(), text
    assert named.lower() in text.lower(), text
    return body


GQL_VARIABLES: list[tuple[str, str, dict[str, Any], str]] = [
    ("login password surrogate", LOGIN,
     {"i": {"email": "x@example.com", "password": SURROGATE}}, "password"),
    ("login email nul", LOGIN, {"i": {"email": f"x{NUL}@example.com", "password": "x"}},
     "email"),
    ("register email surrogate", REGISTER,
     {"i": {"email": f"{SURROGATE}@example.com", "password": STRONG_PASSWORD}}, "email"),
    ("key name nul", KEY_CREATE, {"i": {"name": f"k{NUL}"}}, "name"),
    ("key description surrogate", KEY_CREATE, {"i": {"name": "k", "description": SURROGATE}},
     "description"),
    ("key expiry out of range", KEY_CREATE,
     {"i": {"name": "k", "expiresAt": "9999-12-31T23:59:59-14:00"}}, "expiresAt"),
    ("key expiry without zone", KEY_CREATE,
     {"i": {"name": "k", "expiresAt": "2030-01-01T00:00:00"}}, "expiresAt"),
    ("audit since without zone", AUDIT, {"f": {"since": "2026-01-01T00:00:00"}}, "since"),
    ("audit actor nul", AUDIT, {"f": {"actor": NUL}}, "actor"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "variables", "named"), [c[1:] for c in GQL_VARIABLES],
                         ids=[c[0] for c in GQL_VARIABLES])  # fmt: skip
async def test_graphql_variables_over_post(
    signed: Signed, query: str, variables: dict[str, Any], named: str
) -> None:
    body = raw_json({"query": query, "variables": variables})
    no_internal(await post_raw(signed.api, "/graphql", body, ADMIN), named)


@pytest.mark.parametrize(("query", "variables", "named"), [c[1:] for c in GQL_VARIABLES[:3]],
                         ids=[c[0] for c in GQL_VARIABLES[:3]])  # fmt: skip
async def test_graphql_variables_over_get(
    signed: Signed, query: str, variables: dict[str, Any], named: str
) -> None:
    # Mutations are refused over GET; the variables must be refused first or as well,
    # without a 500. A query carries them through to execution.
    params = {"query": query, "variables": json.dumps(variables)}
    response = await signed.api.get("/graphql", params=params)
    assert response.status_code < 500, response.text
    params = {"query": AUDIT, "variables": json.dumps({"f": {"actor": SURROGATE}})}
    no_internal(await signed.api.get("/graphql", params=params, headers=ADMIN), "actor")


GQL_LITERALS: list[tuple[str, str, str]] = [
    ("password surrogate escape",
     'mutation { accountLogin(input: {email: "x@example.com", password: "\\ud800"}) '
     "{ errors { code } } }", "unicode"),
    ("email nul escape",
     'mutation { accountLogin(input: {email: "x\\u0000@example.com", password: "x"}) '
     "{ errors { code } } }", "NUL"),
    ("key expiry out of range",
     'mutation { apiKeyCreate(input: {name: "k", expiresAt: "9999-12-31T23:59:59-14:00"}) '
     "{ errors { code } } }", "9999-01-01"),
    ("key expiry without zone",
     'mutation { apiKeyCreate(input: {name: "k", expiresAt: "2030-01-01T00:00:00"}) '
     "{ errors { code } } }", "time zone"),
    ("audit since without zone",
     '{ adminAuditEvents(filter: {since: "2026-01-01T00:00:00"}) { edges { node { id } } } }',
     "time zone"),
    ("rotation grace past Int",
     'mutation { apiKeyRotate(input: {apiKeyId: "x", graceSeconds: 99999999999999999999}) '
     "{ errors { code field } } }", "32-bit"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "named"), [c[1:] for c in GQL_LITERALS],
                         ids=[c[0] for c in GQL_LITERALS])  # fmt: skip
async def test_graphql_inline_literals(signed: Signed, query: str, named: str) -> None:
    no_internal(await post_raw(signed.api, "/graphql", raw_json({"query": query}), ADMIN), named)


async def test_graphql_rotation_grace_out_of_range(signed: Signed) -> None:
    query = """mutation($i: ApiKeyRotateInput!) { apiKeyRotate(input: $i) {
        issued { plaintext } errors { code field } } }"""
    for grace in (-(2**31), 2**31 - 1):
        variables = {"i": {"apiKeyId": signed.key_id, "graceSeconds": grace}}
        body = no_internal(await post_raw(signed.api, "/graphql",
                                          raw_json({"query": query, "variables": variables})),
                           "graceSeconds")  # fmt: skip
        assert body["data"]["apiKeyRotate"]["errors"][0]["code"] == "INVALID_INPUT"


async def test_a_bad_date_time_variable_is_named(signed: Signed) -> None:
    response = await post_raw(signed.api, "/graphql", raw_json(
        {"query": KEY_CREATE, "variables": {"i": {"name": "k", "expiresAt": "2030-01-01"}}}
    ))  # fmt: skip
    body = no_internal(response, "expiresAt")
    assert "time zone" in json.dumps(body)


async def test_graphql_bodies(signed: Signed) -> None:
    api = signed.api
    assert_clear(await post_raw(api, "/graphql", b'{"query": "{ __typename }", "x": "\xff"}'),
                 400, "UTF-8")  # fmt: skip
    assert_clear(await post_raw(api, "/graphql", deep_json(DEEP)), 400, "deep")
    nested = {"query": LOGIN, "variables": json.loads(deep_json(40))}
    assert_clear(await post_raw(api, "/graphql", raw_json(nested)), 400, "deep")


async def test_graphql_two_operations_need_an_operation_name(signed: Signed) -> None:
    body = raw_json({"query": "query A { __typename } query B { __typename }"})
    response = await post_raw(signed.api, "/graphql", body)
    # Refused before anything runs, as an incomplete HTTP request: 400 (GraphQL over
    # HTTP) with application/json too, where other request errors answer 200.
    assert response.status_code == 400, response.text
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "operationName" in response.text
    # The same with the GraphQL response type, and named: the chosen one runs.
    typed = await post_raw(signed.api, "/graphql", body,
                           {"Accept": "application/graphql-response+json"})  # fmt: skip
    assert typed.status_code == 400, typed.text
    assert "data" not in typed.json()
    named = raw_json({"query": "query A { a: __typename } query B { b: __typename }",
                      "operationName": "B"})  # fmt: skip
    chosen = await post_raw(signed.api, "/graphql", named)
    assert (chosen.status_code, chosen.json()) == (200, {"data": {"b": "Query"}})
