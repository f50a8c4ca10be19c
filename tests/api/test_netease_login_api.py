"""/v1/netease/auth/* end to end (upstreams, issue 15), on SQLite and on PostgreSQL +
Redis: the app's NetEase client logs in at the fake (real weapi/eapi encryption) for
admins only; a stored login becomes a pooled credential serving VIP play URLs; bad input
is a 400 naming the field."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN
from tests.api.test_api_keys import create_key, signed_in, with_key
from tests.api.upstream_env import UpstreamEnv as Env
from tests.api.upstream_env import upstream_env
from tests.fakes.hibp_server import FakeHibpServer

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
AUTH = "/v1/netease/auth"
PHONE, PASSWORD = "13800000000", "hunter2"


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    async with upstream_env(backend, hibp) as env:
        yield env


async def admin(env: Env, path: str, body: dict[str, Any] | None = None, **kw: Any) -> Any:
    if path.endswith("/status"):
        response = await env.api.get(AUTH + path, headers={**ADMIN, **kw.get("headers", {})})
    else:
        response = await env.api.post(
            AUTH + path, body or {}, headers={**ADMIN, **kw.get("headers", {})}
        )
    assert response.status_code == 200, response.text
    assert response.json()["code"] == 200, response.json()
    return response.json()["data"]


async def test_a_stored_phone_login_serves_vip_play_urls(env: Env) -> None:
    answer = await admin(
        env, "/login/cellphone",
        {"phone": PHONE, "password": PASSWORD, "store": True, "label": "ops phone"},
    )  # fmt: skip
    assert answer["code"] == 200 and "MUSIC_U=" in answer["cookie"]
    credential = answer["credential"]
    assert (credential["provider"], credential["label"]) == ("netease", "ops phone")

    browser = await signed_in(env, "ne-listener@example.com")  # type: ignore[arg-type]
    _, key = await create_key(browser, scopes=["music:read"])
    env.clock.advance(timedelta(seconds=1))
    played = await env.api.fresh().get(
        "/v1/netease/songs/2002/url?quality=MASTER", headers=with_key(key)
    )
    assert played.status_code == 200, played.text
    assert played.json()["data"]["audio"]["quality"] == "MASTER"
    listed = await env.api.get("/v1/admin/pool/credentials", headers=ADMIN)
    [pooled] = listed.json()["items"]
    assert pooled["id"] == credential["id"] and pooled["lastUsedAt"] is not None


async def test_every_operation_answers_in_the_originals_shapes(env: Env) -> None:
    md5 = hashlib.md5(b"hunter2").hexdigest()
    email = await admin(env, "/login/email", {"email": "vip@163.com", "md5Password": md5})
    assert email["code"] == 200 and "credential" not in email  # not stored unless asked
    wrong = await admin(env, "/login/email", {"email": "vip@163.com", "password": "nope"})
    assert wrong["code"] == 502 and "cookie" not in wrong  # NetEase's answer, passed on

    key = await admin(env, "/login/qr/key")
    assert key["qrurl"] == f"https://music.163.com/login?codekey={key['key']}"
    created = await admin(env, "/login/qr/create", {"key": key["key"], "qrimg": True})
    assert created["qrurl"] == key["qrurl"] and created["qrimg"].startswith("data:image/svg")
    assert "qrimg" not in await admin(env, "/login/qr/create", {"key": key["key"]})
    assert (await admin(env, "/login/qr/check", {"key": key["key"]}))["code"] == 801

    cookie = {"X-Netease-Cookie": email["cookie"]}
    status = await admin(env, "/login/status", headers=cookie)
    assert status["account"]["id"] == 32953014
    refreshed = await admin(env, "/login/refresh", headers=cookie)
    assert refreshed["code"] == 200
    anonymous = await admin(env, "/register/anonymous")
    assert anonymous["code"] == 200 and "MUSIC_A=" in anonymous["cookie"]

    sent = await admin(env, "/captcha/sent", {"phone": PHONE, "ctcode": "86"})
    assert sent["code"] == 200
    code = env.fakes.netease.logins.captcha_code
    verified = await admin(env, "/captcha/verify", {"phone": PHONE, "captcha": code})
    assert verified["code"] == 200 and verified["data"] is True


ROUTES = [
    ("POST", "/login/cellphone"), ("POST", "/login/email"), ("POST", "/login/qr/key"),
    ("POST", "/login/qr/create"), ("POST", "/login/qr/check"), ("POST", "/login/refresh"),
    ("GET", "/login/status"), ("POST", "/register/anonymous"), ("POST", "/captcha/sent"),
    ("POST", "/captcha/verify"),
]  # fmt: skip


async def test_non_admins_are_refused_every_route(env: Env) -> None:
    browser = await signed_in(env, "ne-user@example.com")  # type: ignore[arg-type]
    anonymous = env.api.fresh()
    calls = len(env.fakes.netease.calls)
    for method, path in ROUTES:
        body = {"phone": PHONE, "password": PASSWORD, "key": "k", "captcha": "1"}
        json = None if method == "GET" else body
        refused = await browser.request(method, AUTH + path, json=json)
        assert refused.status_code == 403, (path, refused.text)
        assert (await anonymous.request(method, AUTH + path, json=json)).status_code == 401
    assert len(env.fakes.netease.calls) == calls  # nothing reached NetEase


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/login/cellphone", {"phone": PHONE}, "password"),
        ("/login/cellphone", {"password": PASSWORD}, "phone"),
        ("/login/cellphone", {"phone": PHONE, "md5Password": "xyz"}, "md5Password"),
        ("/login/cellphone", {"phone": PHONE, "password": "a", "captcha": "1"}, "captcha"),
        ("/login/email", {"password": PASSWORD}, "email"),
        ("/login/qr/check", {}, "key"),
        ("/login/refresh", {}, "cookie"),
        ("/captcha/verify", {"phone": PHONE}, "captcha"),
        ("/login/qr/key", {"store": True}, "store"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(
    env: Env, path: str, body: dict[str, Any], field: str
) -> None:
    response = await env.api.post(AUTH + path, body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(field), response.json()


async def test_the_graphql_twin_stores_a_login(env: Env) -> None:
    result = await env.api.gql(
        """mutation($i: NeteaseLoginInput!) { adminNeteaseLogin(input: $i) {
            answer credential { provider label } errors { code field message } } }""",
        {"i": {"operation": "LOGIN_CELLPHONE", "phone": PHONE, "password": PASSWORD,
               "store": True}},
        headers=ADMIN,
    )  # fmt: skip
    payload = result["data"]["adminNeteaseLogin"]
    assert payload["errors"] == [] and payload["answer"]["code"] == 200
    assert payload["credential"] == {"provider": "NETEASE", "label": "NetEase phone login"}
    refused = await env.api.gql(
        """mutation($i: NeteaseLoginInput!) { adminNeteaseLogin(input: $i) {
            errors { code field message } } }""",
        {"i": {"operation": "LOGIN_EMAIL", "email": "vip@163.com"}}, headers=ADMIN,
    )  # fmt: skip
    [error] = refused["data"]["adminNeteaseLogin"]["errors"]
    assert (error["code"], error["field"]) == ("POOL_INVALID_INPUT", "password")
