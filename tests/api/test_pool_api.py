"""The credential pool's admin routes and their GraphQL twins, on SQLite and on
PostgreSQL + Redis: shapes, validation (400 naming the field), roles, audit, refresh and
test through the real QQ Music client against its fake, payloads sealed at rest and
re-encrypted by key rotation."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.keyring import KeyRing
from domain.leases import LeaseResult
from domain.pool.service import PoolService
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.api.test_totp_at_rest import karpov_cli
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.qqmusic.app import FakeQQMusic
from tests.support.pool_upstreams import pool_upstreams

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
COOKIE = "MUSIC_U=plaintext-cookie-that-must-never-be-stored-0123456789"
CREDENTIALS = "/v1/admin/pool/credentials"
CREDENTIAL_FIELDS = """id provider label status capabilities healthScore failCount
    cooldownUntil lastUsedAt lastFailedAt expiresAt createdAt maxConcurrency
    requestsPerSecond refreshQueuedAt"""


def b64(raw: bytes | str) -> str:
    return base64.b64encode(raw.encode() if isinstance(raw, str) else raw).decode()


@dataclass
class Env:
    api: Api
    app: Any
    qq: FakeQQMusic
    database_url: str

    @property
    def engine(self) -> AsyncEngine:
        return self.app.state.container.engine  # type: ignore[no-any-return]

    @property
    def pool(self) -> PoolService:
        return self.app.state.container.services.pool  # type: ignore[no-any-return]

    async def add(self, provider: str = "netease", **body: Any) -> dict[str, Any]:
        body = {"label": "acct", "payload": b64(json.dumps({"cookie": COOKIE})), **body}
        response = await self.api.post(CREDENTIALS, {"provider": provider, **body}, headers=ADMIN)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def add_qq(self, musicid: int) -> tuple[dict[str, Any], bytes]:
        account = self.qq.accounts.add(musicid)
        payload = self.qq.credential_payload(account)
        return await self.add("qqmusic", payload=b64(payload), label=f"qq {musicid}"), payload


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    with pool_upstreams() as (qq, settings):
        async with running_app(database_url, redis_url=redis_url, hibp=hibp, **settings) as (
            api,
            app,
        ):
            yield Env(api, app, qq, database_url)


async def raw_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM pool_credentials ORDER BY id"))
        return [dict(row) for row in rows.mappings()]


async def signed_in_user(api: Api, email: str) -> Api:
    browser = api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    response = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return browser


# -- /v1 ------------------------------------------------------------------------------------


async def test_add_list_health_status_and_remove(env: Env) -> None:
    first = await env.add(capabilities=["play_url", "song"], maxConcurrency=2)
    assert first["provider"] == "netease" and first["status"] == "active"
    assert (first["healthScore"], first["failCount"], first["maxConcurrency"]) == (1.0, 0, 2)
    assert first["capabilities"] == ["play_url", "song"]
    assert first["requestsPerSecond"] == 3
    assert set(first) >= {"createdAt", "expiresAt", "cooldownUntil", "lastUsedAt"}
    assert "payload" not in first and COOKIE not in json.dumps(first)
    second = await env.add(label="second")
    await env.add("local", label="local one")

    listed = await env.api.get(f"{CREDENTIALS}?provider=netease", headers=ADMIN)
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 2
    assert [c["id"] for c in body["items"]] == sorted([first["id"], second["id"]])
    assert COOKIE not in listed.text
    paged = (await env.api.get(f"{CREDENTIALS}?limit=1&offset=1", headers=ADMIN)).json()
    assert (paged["total"], len(paged["items"])) == (3, 1)

    patched = await env.api.patch(
        f"{CREDENTIALS}/{second['id']}/status", {"status": "disabled"}, headers=ADMIN
    )
    assert patched.status_code == 200 and patched.json()["status"] == "disabled"
    only = (await env.api.get(f"{CREDENTIALS}?statusFilter=disabled", headers=ADMIN)).json()
    assert [c["id"] for c in only["items"]] == [second["id"]]

    health = await env.api.get("/v1/admin/pool/health/netease", headers=ADMIN)
    assert health.json() == {
        "pools": [{
            "provider": "netease", "total": 2, "active": 1, "disabled": 1, "banned": 0,
            "expired": 0, "refreshing": 0, "inCooldown": 0, "avgHealthScore": 1.0,
        }]
    }  # fmt: skip

    removed = await env.api.delete(f"{CREDENTIALS}/{second['id']}", headers=ADMIN)
    assert (removed.status_code, removed.json()) == (200, {})
    gone = await env.api.delete(f"{CREDENTIALS}/{second['id']}", headers=ADMIN)
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "spotify"}, "provider"),
        ({"payload": "%%% not base64 %%%"}, "payload"),
        ({"payload": ""}, "payload"),
        ({"capabilities": ["teleport"]}, "capabilit"),
        ({"capabilities": "song"}, "capabilities"),
        ({"label": ""}, "label"),
        ({"maxConcurrency": 0}, "maxConcurrency"),
        ({"maxConcurrency": "two"}, "maxConcurrency"),
    ],
)
async def test_a_bad_add_is_a_400_naming_the_field(
    env: Env, body: dict[str, Any], field: str
) -> None:
    payload = b64(json.dumps({"cookie": COOKIE}))
    request = {"provider": "netease", "label": "x", "payload": payload, **body}
    response = await env.api.post(CREDENTIALS, request, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]


async def test_bad_filters_and_statuses_are_400s_naming_the_field(env: Env) -> None:
    made = await env.add()
    checks = [
        await env.api.get(f"{CREDENTIALS}?statusFilter=sleepy", headers=ADMIN),
        await env.api.get(f"{CREDENTIALS}?provider=spotify", headers=ADMIN),
        await env.api.get(f"{CREDENTIALS}?limit=lots", headers=ADMIN),
        await env.api.get("/v1/admin/pool/health/spotify", headers=ADMIN),
        await env.api.patch(
            f"{CREDENTIALS}/{made['id']}/status", {"status": "banned"}, headers=ADMIN
        ),
        await env.api.patch(f"{CREDENTIALS}/{made['id']}/status", {"status": "zzz"}, headers=ADMIN),
        await env.api.patch(f"{CREDENTIALS}/{made['id']}/status", {}, headers=ADMIN),
        await env.api.delete(f"{CREDENTIALS}/not-an-id", headers=ADMIN),
    ]
    fields = ["statusFilter", "provider", "limit", "provider", "status", "status", "status", "id"]
    for response, field in zip(checks, fields, strict=True):
        assert response.status_code == 400, response.text
        assert field in response.json()["message"], (field, response.text)
    unknown = await env.api.patch(f"{CREDENTIALS}/{'0' * 32}/status", {"status": "active"},
                                  headers=ADMIN)  # fmt: skip
    assert unknown.status_code == 404


async def test_only_admins_reach_the_pool(env: Env) -> None:
    made = await env.add()
    anonymous = env.api.fresh()
    user = await signed_in_user(env.api, "pool-user@example.com")
    for who, status in ((anonymous, 401), (user, 403)):
        assert (await who.get(CREDENTIALS)).status_code == status
        assert (await who.post(CREDENTIALS, {"provider": "netease"})).status_code == status
        assert (await who.delete(f"{CREDENTIALS}/{made['id']}")).status_code == status
        assert (await who.get("/v1/admin/pool/health/netease")).status_code == status
        path = f"{CREDENTIALS}/{made['id']}"
        assert (await who.patch(f"{path}/status", {"status": "active"})).status_code == status
        assert (await who.post(f"{path}/refresh", {})).status_code == status
        assert (await who.post(f"{path}/test", {})).status_code == status
    # A signed-in admin (the role, not only the token) manages the pool.
    me = (await user.get("/v1/auth/me")).json()
    promoted = await env.api.patch(f"/v1/admin/users/{me['id']}", {"role": "admin"}, headers=ADMIN)
    assert promoted.status_code == 200, promoted.text
    listed = await user.get(CREDENTIALS)
    assert listed.status_code == 200 and listed.json()["total"] == 1


async def test_refresh_and_test_through_qq_music(env: Env) -> None:
    made, payload = await env.add_qq(771001)
    assert made["expiresAt"] is not None  # read from the payload by the lifecycle
    tested = await env.api.post(f"{CREDENTIALS}/{made['id']}/test", {}, headers=ADMIN)
    assert tested.status_code == 200, tested.text
    body = tested.json()
    assert (body["success"], body["capability"], body["error"]) == (True, "health_check", None)
    assert isinstance(body["latencyMs"], int)
    before = (await raw_rows(env.engine))[0]["payload_enc"]

    refreshed = await env.api.post(f"{CREDENTIALS}/{made['id']}/refresh", {}, headers=ADMIN)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["status"] == "active" and refreshed.json()["id"] == made["id"]
    assert (await raw_rows(env.engine))[0]["payload_enc"] != before
    lease = await env.pool.acquire("qqmusic", "play_url")
    assert lease is not None
    renewed = json.loads(lease.secret.payload)
    assert renewed["musickey"] != json.loads(payload)["musickey"]
    assert renewed["musickey"] == env.qq.accounts.get(771001).musickey  # type: ignore[union-attr]
    await env.pool.release(lease, LeaseResult.OK)

    # The login dies upstream: the test says so, and the credential expires.
    env.qq.accounts.expire(env.qq.accounts.get(771001))  # type: ignore[arg-type]
    failed = await env.api.post(
        f"{CREDENTIALS}/{made['id']}/test", {"capability": "play_url"}, headers=ADMIN
    )
    assert failed.status_code == 200
    assert failed.json()["success"] is False and failed.json()["capability"] == "play_url"
    assert failed.json()["error"]
    listed = (await env.api.get(CREDENTIALS, headers=ADMIN)).json()["items"]
    assert listed[0]["status"] == "expired" and listed[0]["refreshQueuedAt"] is not None
    bad = await env.api.post(
        f"{CREDENTIALS}/{made['id']}/test", {"capability": "teleport"}, headers=ADMIN
    )
    assert bad.status_code == 400 and "capability" in bad.json()["message"]


async def test_a_provider_that_cannot_refresh_answers_clearly(env: Env) -> None:
    local = await env.add("local")
    netease = await env.add("netease")
    for suffix in ("refresh", "test"):
        response = await env.api.post(f"{CREDENTIALS}/{local['id']}/{suffix}", {}, headers=ADMIN)
        assert response.status_code == 503, response.text
        assert "local" in response.json()["message"]
    # NetEase's client is configured, its upstream unreachable: a 502 for a refresh.
    refused = await env.api.post(f"{CREDENTIALS}/{netease['id']}/refresh", {}, headers=ADMIN)
    assert refused.status_code == 502, refused.text
    missing = await env.api.post(f"{CREDENTIALS}/{'0' * 32}/refresh", {}, headers=ADMIN)
    assert missing.status_code == 404


async def test_a_qq_payload_the_lifecycle_cannot_read_is_a_400(env: Env) -> None:
    response = await env.api.post(
        CREDENTIALS,
        {"provider": "qqmusic", "label": "x", "payload": b64('{"musicid": 1}')},
        headers=ADMIN,
    )
    assert response.status_code == 400
    assert response.json()["message"].startswith("payload: ")


# -- at rest, audit -------------------------------------------------------------------------


async def test_a_raw_database_read_finds_no_plaintext_payload(env: Env) -> None:
    made = await env.add()
    rows = await raw_rows(env.engine)
    assert [r["id"] for r in rows] == [made["id"]]
    blob = bytes(rows[0]["payload_enc"])
    assert blob.startswith(b"K1")
    assert COOKIE.encode() not in blob and b"plaintext-cookie" not in blob
    everything = json.dumps(rows, default=repr)
    assert "plaintext-cookie" not in everything
    if env.database_url.startswith("sqlite"):
        path = Path(env.database_url.split("///", 1)[1])
        assert b"plaintext-cookie" not in await asyncio.to_thread(path.read_bytes)


async def test_every_change_is_audited_without_the_payload(env: Env) -> None:
    made, _ = await env.add_qq(771002)
    path = f"{CREDENTIALS}/{made['id']}"
    await env.api.patch(f"{path}/status", {"status": "disabled"}, headers=ADMIN)
    await env.api.post(f"{path}/test", {}, headers=ADMIN)
    await env.api.post(f"{path}/refresh", {}, headers=ADMIN)
    await env.api.delete(path, headers=ADMIN)
    audit = await env.api.get("/v1/admin/audit?limit=50", headers=ADMIN)
    events = [e for e in audit.json()["data"]["items"] if e["action"].startswith("pool.")]
    assert sorted(e["action"] for e in events) == sorted([
        "pool.credential_added", "pool.credential_status_set", "pool.credential_tested",
        "pool.credential_refreshed", "pool.credential_removed",
    ])  # fmt: skip
    assert all(e["details"]["credential"] == made["id"] for e in events)
    assert all(e["actor"] == "admin-token" for e in events)
    assert "musickey" not in audit.text and "payload" not in audit.text


async def test_key_rotation_reencrypts_pool_payloads(env: Env) -> None:
    await env.add()
    await env.add("local")
    before = [bytes(r["payload_enc"]) for r in await raw_rows(env.engine)]
    start = KeyRing.version_of(before[0])
    report = await env.app.state.container.services.key_rotation.rotate()
    assert (report.version, report.reencrypted, report.remaining) == (start + 1, 2, 0)
    after = [bytes(r["payload_enc"]) for r in await raw_rows(env.engine)]
    assert [KeyRing.version_of(b) for b in after] == [start + 1, start + 1]
    lease = await env.pool.acquire("netease", "song")
    assert lease is not None and json.loads(lease.secret.payload)["cookie"] == COOKIE


async def test_the_keys_rotate_command_reencrypts_pool_payloads(
    sqlite_url: str, hibp: FakeHibpServer
) -> None:
    with pool_upstreams() as (qq, settings):
        async with running_app(sqlite_url, hibp=hibp, **settings) as (api, app):
            env = Env(api, app, qq, sqlite_url)
            await env.add()
            before = bytes((await raw_rows(env.engine))[0]["payload_enc"])
            # In a thread: the app's event loop keeps running (and finishing its writes).
            result = await asyncio.to_thread(karpov_cli, "keys", "rotate", database_url=sqlite_url)
            assert result.returncode == 0, result.stderr
            assert "re-encrypted 1 secret(s)" in result.stdout, result.stdout
            after = bytes((await raw_rows(env.engine))[0]["payload_enc"])
            assert KeyRing.version_of(after) == KeyRing.version_of(before) + 1
            lease = await env.pool.acquire("netease", "song")
            assert lease is not None and json.loads(lease.secret.payload)["cookie"] == COOKIE


# -- GraphQL --------------------------------------------------------------------------------


async def gql(env: Env, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await env.api.gql(query, variables, headers=ADMIN)
    assert "errors" not in result, result
    return result["data"]  # type: ignore[no-any-return]


ADD = f"""mutation($i: PoolCredentialAddInput!) {{ adminPoolCredentialAdd(input: $i) {{
    credential {{ {CREDENTIAL_FIELDS} }} errors {{ code field message }} }} }}"""


async def test_the_graphql_twins(env: Env) -> None:
    account = env.qq.accounts.add(771003)
    payload = b64(env.qq.credential_payload(account))
    added = await gql(env, ADD, {"i": {"provider": "QQMUSIC", "label": "g", "payload": payload,
                                       "capabilities": ["play_url"]}})  # fmt: skip
    result = added["adminPoolCredentialAdd"]
    assert result["errors"] == []
    credential = result["credential"]
    assert credential["status"] == "ACTIVE" and credential["capabilities"] == ["play_url"]
    gid = credential["id"]

    page = await gql(
        env,
        """{ adminPoolCredentials(first: 10, filter: {provider: QQMUSIC})
        { totalCount nodes { id label } pageInfo { hasNextPage } } }""",
    )
    assert page["adminPoolCredentials"]["totalCount"] == 1
    assert page["adminPoolCredentials"]["nodes"] == [{"id": gid, "label": "g"}]
    one = await gql(env, "query($id: ID!) { adminPoolCredential(id: $id) { id provider } }",
                    {"id": gid})  # fmt: skip
    assert one["adminPoolCredential"] == {"id": gid, "provider": "QQMUSIC"}
    node = await gql(env, "query($id: ID!) { node(id: $id) { id ... on PoolCredential "
                     "{ label } } }", {"id": gid})  # fmt: skip
    assert node["node"] == {"id": gid, "label": "g"}

    health = await gql(
        env,
        """{ adminPoolHealth(provider: QQMUSIC) { provider total active
        disabled banned expired refreshing inCooldown avgHealthScore } }""",
    )
    assert health["adminPoolHealth"]["provider"] == "QQMUSIC"
    assert health["adminPoolHealth"]["active"] == 1

    tested = await gql(env, """mutation($i: PoolCredentialTestInput!) {
        adminPoolCredentialTest(input: $i) { result { success capability latencyMs error }
        errors { code } } }""", {"i": {"credentialId": gid}})  # fmt: skip
    assert tested["adminPoolCredentialTest"]["result"]["success"] is True
    refreshed = await gql(env, """mutation($i: PoolCredentialRefreshInput!) {
        adminPoolCredentialRefresh(input: $i) { credential { status } errors { code } } }""",
        {"i": {"credentialId": gid}})  # fmt: skip
    assert refreshed["adminPoolCredentialRefresh"]["credential"]["status"] == "ACTIVE"
    status = await gql(env, """mutation($i: PoolCredentialSetStatusInput!) {
        adminPoolCredentialSetStatus(input: $i) { credential { status } errors { code field } }
        }""", {"i": {"credentialId": gid, "status": "BANNED"}})  # fmt: skip
    assert status["adminPoolCredentialSetStatus"]["errors"] == [
        {"code": "POOL_INVALID_INPUT", "field": "status"}
    ]
    removed = await gql(env, """mutation($i: PoolCredentialRemoveInput!) {
        adminPoolCredentialRemove(input: $i) { ok errors { code } } }""",
        {"i": {"credentialId": gid}})  # fmt: skip
    assert removed["adminPoolCredentialRemove"] == {"ok": True, "errors": []}


async def test_graphql_errors_name_the_field(env: Env) -> None:
    for variables, field in (
        ({"provider": "NETEASE", "label": "x", "payload": "!!"}, "payload"),
        ({"provider": "NETEASE", "label": "x", "payload": b64("c")}, "payload"),
        ({"provider": "LOCAL", "label": "x", "payload": b64("c"), "capabilities": ["x"]},
         "capabilities"),
    ):  # fmt: skip
        data = await gql(env, ADD, {"i": variables})
        [error] = data["adminPoolCredentialAdd"]["errors"]
        assert error["field"] == field and data["adminPoolCredentialAdd"]["credential"] is None
    # The provider is MusicProviderName: another name (or the /v1 lower case) fails validation.
    for name in ("spotify", "netease"):
        refused = await env.api.gql(
            ADD, {"i": {"provider": name, "label": "x", "payload": b64("c")}}, headers=ADMIN
        )
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"]
    user = await signed_in_user(env.api, "gql-pool-user@example.com")
    denied = await user.gql("{ adminPoolCredentials { totalCount } }")
    assert denied["errors"][0]["extensions"]["code"] == "POOL_ADMIN_REQUIRED"


async def test_a_local_credential_over_graphql_is_kept_and_cannot_be_refreshed(env: Env) -> None:
    """The pool takes every music provider, LOCAL too (as /v1 does); the local catalog has
    no upstream login, so a refresh answers POOL_LIFECYCLE_UNAVAILABLE, never a 500."""
    added = await gql(env, ADD, {"i": {"provider": "LOCAL", "label": "l", "payload": b64("c")}})
    credential = added["adminPoolCredentialAdd"]["credential"]
    assert credential["provider"] == "LOCAL"
    health = await gql(env, "{ adminPoolHealth(provider: LOCAL) { provider total active } }")
    assert health["adminPoolHealth"] == {"provider": "LOCAL", "total": 1, "active": 1}
    listed = await gql(env, "{ adminPoolCredentials(filter: {provider: LOCAL}) { totalCount } }")
    assert listed["adminPoolCredentials"]["totalCount"] == 1
    refreshed = await gql(env, """mutation($i: PoolCredentialRefreshInput!) {
        adminPoolCredentialRefresh(input: $i) { credential { id } errors { code message } } }""",
        {"i": {"credentialId": credential["id"]}})  # fmt: skip
    [error] = refreshed["adminPoolCredentialRefresh"]["errors"]
    assert error["code"] == "POOL_LIFECYCLE_UNAVAILABLE" and "local" in error["message"]


async def test_a_payload_copied_to_another_credential_does_not_open(env: Env) -> None:
    """The associated data binds each blob to its credential id."""
    source = await env.add(capabilities=["song"])
    target = await env.add(capabilities=["play_url"], payload=b64('{"cookie": "MUSIC_U=other"}'))
    async with env.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE pool_credentials SET payload_enc = "
                "(SELECT payload_enc FROM pool_credentials WHERE id = :source) WHERE id = :target"
            ),
            {"source": source["id"], "target": target["id"]},
        )
    assert await env.pool.acquire("netease", "play_url") is None  # skipped, not handed out
    lease = await env.pool.acquire("netease", "song")
    assert lease is not None and lease.secret.credential_id == source["id"]
