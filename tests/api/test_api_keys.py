"""API keys over /v1 and GraphQL: managing them, using them, and what they may do.

Keys are managed with a session; a key authenticates with ``X-API-Key`` or
``Authorization: Bearer mk_…``. Malformed, unknown, revoked, disabled and expired keys
answer 401 ``invalid api key``; the IP allowlist answers 403; scopes follow the original's
rule table (reference §2.2 step 9). Runs on SQLite and on PostgreSQL + Redis, with a
``ManualClock`` wherever time matters. The environment helpers here are shared by
test_quota_api.py and test_usage_api.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from domain.apikeys.format import KEY_LENGTH, generate_key
from domain.clock import ManualClock
from persistence.sql.tables import api_keys
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.api.harness import data_of as gql_data
from tests.fakes.hibp_server import FakeHibpServer
from tests.support.metered import METERED_ROUTE, MeteredQuery

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
KEY_FIELDS = """id prefix last4 name description scopes ipAllowlist rateLimitRpm
    rateLimitDaily enabled status totalRequests createdAt expiresAt lastUsedAt
    previousKeyExpiresAt"""
CREATE = f"""mutation($i: ApiKeyCreateInput!) {{ apiKeyCreate(input: $i) {{
    issued {{ plaintext key {{ {KEY_FIELDS} }} }} errors {{ code field message }} }} }}"""
UPDATE = f"""mutation($i: ApiKeyUpdateInput!) {{ apiKeyUpdate(input: $i) {{
    apiKey {{ {KEY_FIELDS} }} errors {{ code field message }} }} }}"""
ROTATE = f"""mutation($i: ApiKeyRotateInput!) {{ apiKeyRotate(input: $i) {{
    issued {{ plaintext key {{ {KEY_FIELDS} }} }} errors {{ code field message }} }} }}"""
REVOKE = """mutation($i: ApiKeyIdInput!) { apiKeyRevoke(input: $i) {
    apiKey { id status } errors { code field message } } }"""
SET_ENABLED = """mutation($i: ApiKeySetEnabledInput!) { apiKeySetEnabled(input: $i) {
    apiKey { id enabled status } errors { code field message } } }"""
CLIENT_IP = "203.0.113.7"  # what the harness's transport reports as the peer
INVALID_KEY = {"code": 40100, "message": "invalid api key"}


# -- a running application with a manual clock and the metered test operation -----------


@dataclass
class Env:
    api: Api
    """A browser with no session (use it with credential headers)."""
    app: Any
    clock: ManualClock

    @property
    def container(self) -> Any:
        return self.app.state.container


def start_of_test_day() -> datetime:
    """Noon UTC today: close to the wall clock (Redis expires sessions on it) and far
    from any day boundary, so advancing a few seconds never crosses one by accident."""
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


@asynccontextmanager
async def started(
    backend: tuple[str, str | None], hibp: FakeHibpServer, **settings: Any
) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(start_of_test_day())
    async with running_app(
        database_url, redis_url=redis_url, hibp=hibp, clock=clock, query=MeteredQuery,
        extra_routes=[METERED_ROUTE], **settings,
    ) as (api, app):  # fmt: skip
        yield Env(api, app, clock)


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    async with started(backend, hibp) as running:
        yield running


# -- helpers ------------------------------------------------------------------------------


async def signed_in(env: Env, email: str) -> Api:
    """A fresh browser with a newly registered user, signed in with the session cookie."""
    browser = env.api.fresh()
    registered = await browser.post(
        "/v1/auth/register", {"email": email, "password": STRONG_PASSWORD}
    )
    assert registered.status_code == 200, registered.text
    response = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return browser


async def user_id_of(browser: Api) -> str:
    return str((await browser.get("/v1/auth/me")).json()["id"])


async def create_key(browser: Api, name: str = "key", **spec: Any) -> tuple[str, str]:
    """A new key of the browser's user: (id, plaintext)."""
    response = await browser.post("/v1/auth/api-keys", {"name": name, **spec})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["id"], body["plaintext"]


def with_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def gql_raw(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The GraphQL response whatever its status (the edge answers 401/403 itself)."""
    return await api.post("/graphql", {"query": query, "variables": variables or {}},
                          headers=headers)  # fmt: skip


async def gql_error(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The only error of a query that failed as a whole."""
    result = await api.gql(query, variables, headers)
    assert len(result.get("errors") or []) == 1, result
    return result["errors"][0]  # type: ignore[no-any-return]


async def key_view(browser: Api, key_id: str) -> dict[str, Any]:
    response = await browser.get(f"/v1/auth/api-keys/{key_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def assert_invalid_key(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == INVALID_KEY


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- managing keys ------------------------------------------------------------------------


async def test_create_shows_the_secret_once_and_lists_newest_first(env: Env) -> None:
    browser = await signed_in(env, "owner@example.com")
    expires = env.clock.now() + timedelta(days=30)
    response = await browser.post("/v1/auth/api-keys", {
        "name": " ci ", "description": "nightly builds", "scopes": ["music:read", "quota:*"],
        "ipAllowlist": ["203.0.113.0/24", "2001:db8::1/128"], "rateLimitRpm": 60,
        "rateLimitDaily": 1000, "expiresAt": rfc3339(expires),
    })  # fmt: skip
    assert response.status_code == 200, response.text
    created = response.json()
    plaintext = created["plaintext"]
    assert plaintext.startswith("mk_") and len(plaintext) == KEY_LENGTH == 42
    assert created["prefix"] == plaintext[:8] and created["last4"] == plaintext[-4:]
    assert created == {
        "id": created["id"], "prefix": plaintext[:8], "last4": plaintext[-4:], "name": "ci",
        "description": "nightly builds", "scopes": ["music:read", "quota:*"],
        "ipAllowlist": ["203.0.113.0/24", "2001:db8::1"], "rateLimitRpm": 60,
        "rateLimitDaily": 1000, "enabled": True, "status": "active", "totalRequests": 0,
        "createdAt": rfc3339(env.clock.now()), "expiresAt": rfc3339(expires),
        "plaintext": plaintext,
    }  # fmt: skip

    env.clock.advance(1)
    second_id, second = await create_key(browser, "second")
    items = (await browser.get("/v1/auth/api-keys")).json()["items"]
    assert [k["id"] for k in items] == [second_id, created["id"]]
    for item in items:
        assert "plaintext" not in item
        assert not any(plaintext in str(v) or second in str(v) for v in item.values())
    view = await key_view(browser, created["id"])
    assert view == {k: v for k, v in created.items() if k != "plaintext"}

    listed = await gql_data(browser, f"{{ apiKeys {{ {KEY_FIELDS} }} }}")
    assert [k["name"] for k in listed["apiKeys"]] == ["second", "ci"]
    assert listed["apiKeys"][1]["status"] == "ACTIVE"
    assert "plaintext" not in str(listed)


async def test_create_through_graphql(env: Env) -> None:
    browser = await signed_in(env, "gql@example.com")
    data = await gql_data(browser, CREATE, {"i": {"name": "g", "scopes": ["billing:read"]}})
    issued = data["apiKeyCreate"]["issued"]
    assert data["apiKeyCreate"]["errors"] == []
    assert len(issued["plaintext"]) == 42 and issued["plaintext"].startswith("mk_")
    assert issued["key"]["prefix"] == issued["plaintext"][:8]
    assert issued["key"]["scopes"] == ["billing:read"]
    single = await gql_data(browser, "query($id: ID!) { apiKey(id: $id) { id name } }",
                            {"id": issued["key"]["id"]})  # fmt: skip
    assert single["apiKey"] == {"id": issued["key"]["id"], "name": "g"}
    me = await gql_data(env.api.fresh(), "{ viewer { email } }",
                        headers=with_key(issued["plaintext"]))  # fmt: skip
    assert me["viewer"]["email"] == "gql@example.com"


@pytest.mark.parametrize("scope", ["*:*", "A:b", "a:b:c"])
async def test_an_invalid_scope_is_a_field_error(env: Env, scope: str) -> None:
    browser = await signed_in(env, "scopes@example.com")
    # Create is a grpc-gateway route in the original: its errors carry the gRPC code.
    created = await browser.post("/v1/auth/api-keys", {"name": "k", "scopes": [scope]})
    assert created.status_code == 400, created.text
    assert created.json()["code"] == 3 and repr(scope) in created.json()["message"]
    key_id, _ = await create_key(browser)
    patched = await browser.patch(f"/v1/auth/api-keys/{key_id}", {"scopes": ["music:read", scope]})
    assert patched.status_code == 400, patched.text
    assert patched.json()["code"] == 40000 and repr(scope) in patched.json()["message"]
    data = await gql_data(browser, CREATE, {"i": {"name": "k", "scopes": [scope]}})
    assert data["apiKeyCreate"]["issued"] is None
    [error] = data["apiKeyCreate"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_SCOPE", "scopes")
    data = await gql_data(browser, UPDATE, {"i": {"apiKeyId": key_id, "scopes": [scope]}})
    [error] = data["apiKeyUpdate"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_SCOPE", "scopes")
    assert (await key_view(browser, key_id))["scopes"] == []  # unchanged


async def test_an_invalid_ip_rule_is_a_field_error(env: Env) -> None:
    browser = await signed_in(env, "ips@example.com")
    for rule in ("10.0.0.300", "not-an-ip", "10.0.0.0/33"):
        created = await browser.post("/v1/auth/api-keys", {"name": "k", "ipAllowlist": [rule]})
        assert created.status_code == 400, created.text
        assert created.json()["code"] == 3
    key_id, _ = await create_key(browser)
    patched = await browser.patch(f"/v1/auth/api-keys/{key_id}", {"ipAllowlist": ["nope"]})
    assert (patched.status_code, patched.json()["code"]) == (400, 40000)
    data = await gql_data(browser, CREATE, {"i": {"name": "k", "ipAllowlist": ["1.2.3"]}})
    [error] = data["apiKeyCreate"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_IP_RULE", "ipAllowlist")


async def test_get_patch_disable_enable_revoke(env: Env) -> None:
    browser = await signed_in(env, "life@example.com")
    key_id, key = await create_key(browser, "first", scopes=["music:read"])
    patched = await browser.patch(f"/v1/auth/api-keys/{key_id}", {
        "name": "renamed", "scopes": ["quota:read", " quota:read ", ""],
        "ipAllowlist": ["203.0.113.7/32"], "rateLimitRpm": 10,
    })  # fmt: skip
    assert patched.status_code == 200, patched.text
    view = patched.json()["data"]
    assert (view["name"], view["scopes"], view["ipAllowlist"], view["rateLimitRpm"]) == (
        "renamed", ["quota:read"], ["203.0.113.7"], 10,
    )  # fmt: skip
    assert view["description"] == "" and view["rateLimitDaily"] == 0  # untouched
    assert await key_view(browser, key_id) == view

    expires = env.clock.now() + timedelta(hours=1)
    data = await gql_data(browser, UPDATE, {"i": {"apiKeyId": key_id,
                                                  "expiresAt": rfc3339(expires)}})  # fmt: skip
    assert instant(data["apiKeyUpdate"]["apiKey"]["expiresAt"]) == expires
    data = await gql_data(browser, UPDATE, {"i": {"apiKeyId": key_id, "expiresAt": None}})
    assert data["apiKeyUpdate"]["apiKey"]["expiresAt"] is None

    off = await browser.post(f"/v1/auth/api-keys/{key_id}/enabled", {"enabled": False})
    assert (off.status_code, off.json()) == (200, {"code": 200, "message": "success", "data": None})
    view = await key_view(browser, key_id)
    assert (view["enabled"], view["status"]) == (False, "disabled")
    assert_invalid_key(await env.api.fresh().get("/v1/auth/me", headers=with_key(key)))
    data = await gql_data(browser, SET_ENABLED, {"i": {"apiKeyId": key_id, "enabled": True}})
    assert data["apiKeySetEnabled"]["apiKey"]["status"] == "ACTIVE"
    assert (await env.api.fresh().get("/v1/auth/me", headers=with_key(key))).status_code == 200
    bad = await browser.post(f"/v1/auth/api-keys/{key_id}/enabled", {"enabled": "yes"})
    assert (bad.status_code, bad.json()["code"]) == (400, 40000)

    revoked = await browser.delete(f"/v1/auth/api-keys/{key_id}")
    assert (revoked.status_code, revoked.json()["data"]) == (200, None)
    assert (await key_view(browser, key_id))["status"] == "revoked"
    assert_invalid_key(await env.api.fresh().get("/v1/auth/me", headers=with_key(key)))
    for again in (
        await browser.delete(f"/v1/auth/api-keys/{key_id}"),
        await browser.patch(f"/v1/auth/api-keys/{key_id}", {"name": "x"}),
        await browser.post(f"/v1/auth/api-keys/{key_id}/enabled", {"enabled": True}),
        await browser.post(f"/v1/auth/api-keys/{key_id}/rotate", {}),
    ):
        assert again.status_code == 404, again.text
        assert again.json() == {"code": 40400, "message": "api key not found or already revoked"}
    data = await gql_data(browser, REVOKE, {"i": {"apiKeyId": key_id}})
    [error] = data["apiKeyRevoke"]["errors"]
    assert error["code"] == "API_KEY_NOT_FOUND"


async def test_concurrent_creates_never_pass_the_cap_of_fifty_keys(env: Env) -> None:
    """49 keys, then 6 creates at once: exactly one more is made (the count and the insert
    used to run in separate transactions, so every racer saw 49 and the user got 55)."""
    browser = await signed_in(env, "cap@example.com")
    for n in range(49):
        await create_key(browser, f"key {n}")
    racers = await asyncio.gather(
        *(browser.post("/v1/auth/api-keys", {"name": f"racer {n}"}) for n in range(6))
    )
    assert sorted(r.status_code for r in racers) == [200, 409, 409, 409, 409, 409]
    refused = next(r for r in racers if r.status_code == 409)
    assert refused.json()["message"] == "at most 50 API keys per user; revoke one first"
    keys = (await browser.get("/v1/auth/api-keys")).json()["items"]
    assert len(keys) == 50
    assert (await browser.delete(f"/v1/auth/api-keys/{keys[0]['id']}")).status_code == 200
    await create_key(browser, "after a revocation")  # a revoked key frees its place


async def test_a_change_racing_a_revocation_never_brings_the_key_back(env: Env) -> None:
    """A change is computed from the key it locked: it cannot write back a key that a
    concurrent revocation has revoked."""
    browser = await signed_in(env, "race@example.com")
    for n in range(5):
        key_id, _ = await create_key(browser, f"key {n}")
        await asyncio.gather(
            browser.patch(f"/v1/auth/api-keys/{key_id}", {"name": f"renamed {n}"}),
            browser.delete(f"/v1/auth/api-keys/{key_id}"),
        )
        assert (await key_view(browser, key_id))["status"] == "revoked"


async def test_another_users_key_is_not_found(env: Env) -> None:
    owner = await signed_in(env, "mine@example.com")
    other = await signed_in(env, "theirs@example.com")
    key_id, key = await create_key(owner)
    not_found = {"code": 40400, "message": "api key not found or already revoked"}
    for response in (
        await other.get(f"/v1/auth/api-keys/{key_id}"),
        await other.patch(f"/v1/auth/api-keys/{key_id}", {"name": "stolen"}),
        await other.post(f"/v1/auth/api-keys/{key_id}/enabled", {"enabled": False}),
        await other.post(f"/v1/auth/api-keys/{key_id}/rotate", {}),
        await other.delete(f"/v1/auth/api-keys/{key_id}"),
        await other.get(f"/v1/auth/api-keys/{'0' * 32}"),
    ):
        assert (response.status_code, response.json()) == (404, not_found), response.text
    assert (await other.get("/v1/auth/api-keys")).json() == {"items": []}
    error = await gql_error(other, "query($id: ID!) { apiKey(id: $id) { id } }", {"id": key_id})
    assert error["extensions"]["code"] == "API_KEY_NOT_FOUND"
    data = await gql_data(other, REVOKE, {"i": {"apiKeyId": key_id}})
    assert data["apiKeyRevoke"]["errors"][0]["code"] == "API_KEY_NOT_FOUND"
    # Nothing happened to it.
    view = await key_view(owner, key_id)
    assert (view["name"], view["status"]) == ("key", "active")
    assert (await env.api.fresh().get("/v1/auth/me", headers=with_key(key))).status_code == 200


async def test_keys_cannot_be_managed_with_an_api_key(env: Env) -> None:
    browser = await signed_in(env, "keyed@example.com")
    key_id, key = await create_key(browser)
    caller = env.api.fresh()
    for response in (
        await caller.post("/v1/auth/api-keys", {"name": "wider"}, headers=with_key(key)),
        await caller.patch(f"/v1/auth/api-keys/{key_id}", {"scopes": []}, headers=bearer(key)),
        await caller.post(f"/v1/auth/api-keys/{key_id}/enabled", {"enabled": True},
                          headers=with_key(key)),
        await caller.post(f"/v1/auth/api-keys/{key_id}/rotate", {}, headers=with_key(key)),
        await caller.delete(f"/v1/auth/api-keys/{key_id}", headers=with_key(key)),
    ):  # fmt: skip
        assert response.status_code == 401, response.text
        assert response.json()["message"] == "managing API keys needs a signed-in session"
    data = await gql_data(caller, CREATE, {"i": {"name": "wider"}}, headers=with_key(key))
    assert data["apiKeyCreate"]["errors"][0]["code"] == "UNAUTHENTICATED"
    data = await gql_data(caller, ROTATE, {"i": {"apiKeyId": key_id}}, headers=bearer(key))
    assert data["apiKeyRotate"]["errors"][0]["code"] == "UNAUTHENTICATED"
    # Reading its owner's keys is allowed (no secret is ever shown again).
    listed = await caller.get("/v1/auth/api-keys", headers=with_key(key))
    assert [k["id"] for k in listed.json()["items"]] == [key_id]
    assert len((await browser.get("/v1/auth/api-keys")).json()["items"]) == 1


async def test_an_api_key_cannot_change_or_set_the_owners_password(env: Env) -> None:
    """A leaked key must not become an account takeover."""
    browser = await signed_in(env, "takeover@example.com")
    _, key = await create_key(browser)
    caller = env.api.fresh()
    change = await caller.post(
        "/v1/auth/password/change",
        {"oldPassword": STRONG_PASSWORD, "newPassword": "Another#Strong#Pass99"},
        headers=with_key(key),
    )
    assert change.status_code == 401, change.text
    assert change.json()["message"] == "a signed-in session is required"
    set_ = await caller.post(
        "/v1/auth/password/set", {"newPassword": "Another#Strong#Pass99"}, headers=with_key(key)
    )
    assert set_.status_code == 401, set_.text
    # The password still works.
    login = await env.api.fresh().post(
        "/v1/auth/login", {"email": "takeover@example.com", "password": STRONG_PASSWORD}
    )
    assert login.status_code == 200, login.text


async def test_the_secret_is_stored_only_as_a_keyed_hash(env: Env) -> None:
    browser = await signed_in(env, "hash@example.com")
    key_id, key = await create_key(browser, description="no secrets here")
    async with env.container.engine.connect() as conn:
        row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).one()
    stored = row._asdict()
    key_hash = bytes(stored["key_hash"])
    assert len(key_hash) == 32
    assert key_hash not in (key.encode(), hashlib.sha256(key.encode()).digest())
    assert (stored["prefix"], stored["last4"]) == (key[:8], key[-4:])
    for value in stored.values():
        text = value.hex() if isinstance(value, bytes | memoryview) else str(value)
        assert key not in text and key[8:-4] not in text, value


# -- using a key ----------------------------------------------------------------------------


async def test_a_key_authenticates_on_both_edges_and_both_headers(env: Env) -> None:
    browser = await signed_in(env, "user@example.com")
    _, key = await create_key(browser)
    caller = env.api.fresh()
    for headers in (with_key(key), bearer(key)):
        me = await caller.get("/v1/auth/me", headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "user@example.com"
        data = await gql_data(caller, "{ viewer { email } }", headers=headers)
        assert data["viewer"]["email"] == "user@example.com"
    assert "sid" not in caller.http.cookies


async def test_bad_keys_are_401_invalid_api_key(env: Env) -> None:
    browser = await signed_in(env, "bad@example.com")
    _, key = await create_key(browser)
    wrong_checksum = key[:-1] + ("A" if key[-1] != "A" else "B")
    for presented in ("mk_short", "mk_" + "x" * 39, wrong_checksum, key.lower(), generate_key()):
        for headers in (with_key(presented), bearer(presented)):
            assert_invalid_key(await env.api.fresh().get("/v1/auth/me", headers=headers))
    # A bearer token that claims to be a key is never tried as a session.
    assert_invalid_key(await env.api.fresh().get("/v1/auth/me", headers=bearer("mk_")))
    response = await gql_raw(env.api.fresh(), "{ viewer { email } }", headers=with_key("mk_x"))
    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"message": "invalid api key", "extensions": {"code": "API_KEY_INVALID"}}]
    }


async def test_expired_key_is_401(env: Env) -> None:
    browser = await signed_in(env, "expiry@example.com")
    expires = env.clock.now() + timedelta(minutes=10)
    key_id, key = await create_key(browser, expiresAt=rfc3339(expires))
    caller = env.api.fresh()
    assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 200
    env.clock.advance(timedelta(minutes=10))
    assert_invalid_key(await caller.get("/v1/auth/me", headers=with_key(key)))
    assert (await key_view(browser, key_id))["status"] == "expired"
    past = await browser.post("/v1/auth/api-keys", {"name": "k", "expiresAt": rfc3339(expires)})
    assert past.status_code == 400, past.text


async def test_ip_allowlist(env: Env) -> None:
    browser = await signed_in(env, "ip@example.com")
    _, elsewhere = await create_key(browser, ipAllowlist=["198.51.100.0/24", "2001:db8::/32"])
    _, here = await create_key(browser, ipAllowlist=["198.51.100.1", "203.0.113.0/28"])
    caller = env.api.fresh()
    refused = await caller.get("/v1/auth/me", headers=with_key(elsewhere))
    assert (refused.status_code, refused.json()) == (
        403, {"code": 40300, "message": "client ip not in api key allowlist"},
    )  # fmt: skip
    response = await gql_raw(caller, "{ viewer { email } }", headers=bearer(elsewhere))
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "client ip not in api key allowlist"
    assert (await caller.get("/v1/auth/me", headers=with_key(here))).status_code == 200
    data = await gql_data(caller, "{ viewer { email } }", headers=bearer(here))
    assert data["viewer"]["email"] == "ip@example.com"


async def test_scopes_follow_the_original_rule_table(env: Env) -> None:
    browser = await signed_in(env, "scoped@example.com")
    _, music = await create_key(browser, scopes=["music:read"])
    _, quota = await create_key(browser, scopes=["quota:*"])
    _, everything = await create_key(browser)
    _, star = await create_key(browser, scopes=["*"])
    caller = env.api.fresh()
    refused = await caller.get("/v1/usage/summary", headers=with_key(music))
    assert (refused.status_code, refused.json()) == (
        403, {"code": 40300, "message": "api key missing required scope: quota:read"},
    )  # fmt: skip
    error = await gql_error(caller, "{ usageSummary { dayUsed } }", headers=with_key(music))
    assert error["message"] == "api key missing required scope: quota:read"
    assert error["extensions"]["code"] == "API_KEY_SCOPE_MISSING"
    for key in (quota, everything, star):
        allowed = await caller.get("/v1/usage/summary", headers=with_key(key))
        assert allowed.status_code == 200, allowed.text
        data = await gql_data(caller, "{ usageSummary { dayUsed } }", headers=bearer(key))
        assert data["usageSummary"]["dayUsed"] == 0
    # /v1/auth/ needs no scope (the original skipped it).
    assert (await caller.get("/v1/auth/me", headers=with_key(music))).status_code == 200


async def test_admin_scopes(env: Env) -> None:
    admin = await signed_in(env, "boss@example.com")
    admin_id = await user_id_of(admin)
    promoted = await env.api.patch(f"/v1/admin/users/{admin_id}", {"role": "admin"},
                                   headers=ADMIN)  # fmt: skip
    assert promoted.status_code == 200, promoted.text
    _, reader = await create_key(admin, scopes=["admin:read"])
    _, writer = await create_key(admin, scopes=["admin:read", "admin:write"])
    _, music = await create_key(admin, scopes=["music:read"])
    target_id = await user_id_of(await signed_in(env, "target@example.com"))
    caller = env.api.fresh()

    listed = await caller.get("/v1/admin/users", headers=with_key(reader))
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"]["total"] == 2
    change = {"status": "disabled"}
    refused = await caller.patch(f"/v1/admin/users/{target_id}", change, headers=with_key(reader))
    assert (refused.status_code, refused.json()) == (
        403, {"code": 40300, "message": "api key missing required scope: admin:write"},
    )  # fmt: skip
    refused = await caller.get("/v1/admin/users", headers=with_key(music))
    assert refused.json()["message"] == "api key missing required scope: admin:read"
    allowed = await caller.patch(f"/v1/admin/users/{target_id}", change, headers=with_key(writer))
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["data"]["status"] == "disabled"

    data = await gql_data(caller, "{ adminUsers { totalCount } }", headers=with_key(reader))
    assert data["adminUsers"]["totalCount"] == 2
    error = await gql_error(caller, "{ adminUsers { totalCount } }", headers=with_key(music))
    assert error["message"] == "api key missing required scope: admin:read"
    mutation = """mutation($i: AdminUserUpdateInput!) { adminUserUpdate(input: $i) {
        user { status } errors { code } } }"""
    variables = {"i": {"userId": target_id, "status": "ACTIVE"}}
    error = await gql_error(caller, mutation, variables, headers=with_key(reader))
    assert error["message"] == "api key missing required scope: admin:write"
    assert error["extensions"]["code"] == "API_KEY_SCOPE_MISSING"
    data = await gql_data(caller, mutation, variables, headers=with_key(writer))
    assert data["adminUserUpdate"] == {"user": {"status": "ACTIVE"}, "errors": []}


async def test_a_plain_users_admin_scope_grants_no_role(env: Env) -> None:
    browser = await signed_in(env, "plain@example.com")
    _, key = await create_key(browser, scopes=["admin:*"])
    refused = await env.api.fresh().get("/v1/admin/users", headers=with_key(key))
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] != "api key missing required scope: admin:read"


async def test_rotation_keeps_the_old_secret_for_the_grace_period(env: Env) -> None:
    browser = await signed_in(env, "rotate@example.com")
    key_id, old = await create_key(browser, scopes=["quota:read"], rateLimitRpm=100)
    response = await browser.post(f"/v1/auth/api-keys/{key_id}/rotate", {"graceSeconds": 60})
    assert response.status_code == 200, response.text
    rotated = response.json()["data"]
    new = rotated["plaintext"]
    assert new != old and len(new) == 42 and new.startswith("mk_")
    assert (rotated["id"], rotated["prefix"], rotated["last4"]) == (key_id, new[:8], new[-4:])
    assert (rotated["scopes"], rotated["rateLimitRpm"]) == (["quota:read"], 100)
    assert instant(rotated["previousKeyExpiresAt"]) == env.clock.now() + timedelta(seconds=60)
    caller = env.api.fresh()
    for key in (old, new):
        assert (await caller.get("/v1/auth/me", headers=with_key(key))).status_code == 200
    env.clock.advance(59)
    assert (await caller.get("/v1/auth/me", headers=bearer(old))).status_code == 200
    env.clock.advance(1)
    assert_invalid_key(await caller.get("/v1/auth/me", headers=with_key(old)))
    assert (await caller.get("/v1/auth/me", headers=with_key(new))).status_code == 200
    assert "previousKeyExpiresAt" not in await key_view(browser, key_id)

    # GraphQL; no grace ends the old secret at once; more than 7 days is refused.
    data = await gql_data(browser, ROTATE, {"i": {"apiKeyId": key_id, "graceSeconds": 0}})
    newest = data["apiKeyRotate"]["issued"]["plaintext"]
    assert data["apiKeyRotate"]["issued"]["key"]["previousKeyExpiresAt"] is None
    assert_invalid_key(await caller.get("/v1/auth/me", headers=with_key(new)))
    assert (await caller.get("/v1/auth/me", headers=with_key(newest))).status_code == 200
    data = await gql_data(browser, ROTATE, {"i": {"apiKeyId": key_id, "graceSeconds": 8 * 86400}})
    [error] = data["apiKeyRotate"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "graceSeconds")
    too_long = await browser.post(f"/v1/auth/api-keys/{key_id}/rotate", {"graceSeconds": -1})
    assert (too_long.status_code, too_long.json()["code"]) == (400, 40000)


async def test_default_grace_is_a_day(env: Env) -> None:
    browser = await signed_in(env, "grace@example.com")
    key_id, old = await create_key(browser)
    response = await browser.post(f"/v1/auth/api-keys/{key_id}/rotate", {})
    assert response.status_code == 200, response.text
    caller = env.api.fresh()
    env.clock.advance(timedelta(hours=23, minutes=59))
    assert (await caller.get("/v1/auth/me", headers=with_key(old))).status_code == 200
    env.clock.advance(timedelta(minutes=1))
    assert_invalid_key(await caller.get("/v1/auth/me", headers=with_key(old)))


async def test_usage_counters_are_flushed_in_batches(env: Env) -> None:
    browser = await signed_in(env, "counted@example.com")
    key_id, key = await create_key(browser)
    caller = env.api.fresh()
    for headers in (with_key(key), bearer(key), with_key(key)):
        assert (await caller.get("/v1/auth/me", headers=headers)).status_code == 200
    assert (await gql_data(caller, "{ viewer { email } }", headers=with_key(key)))["viewer"]
    used_at = env.clock.now()
    deadline = time.monotonic() + 3  # flushed every second
    view = await key_view(browser, key_id)
    while view["totalRequests"] < 4 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        view = await key_view(browser, key_id)
    assert view["totalRequests"] == 4
    assert instant(view["lastUsedAt"]) == used_at
    data = await gql_data(browser, "query($id: ID!) { apiKey(id: $id) { totalRequests } }",
                          {"id": key_id})  # fmt: skip
    assert data["apiKey"]["totalRequests"] == 4


async def test_the_rate_limit_route_needs_quota_read(env: Env) -> None:
    browser = await signed_in(env, "ratescope@example.com")
    _, music = await create_key(browser, scopes=["music:read"])
    refused = await env.api.fresh().get("/v1/usage/rate-limit", headers=with_key(music))
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] == "api key missing required scope: quota:read"
