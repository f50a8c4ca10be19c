"""Admin QR logins end to end (upstreams, issue 15), on SQLite and on PostgreSQL + Redis:
the app's QQ Music client drives the fake's ptlogin2 / QQ Connect and WeChat qrconnect
pages on loopback; a finished login becomes a pooled, encrypted credential that then
serves a VIP play URL. Sessions live in Redis when there is one, so another process
answers the poll."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import ManualClock
from tests.api.harness import ADMIN_TOKEN, Api, running_app
from tests.api.test_api_keys import create_key, signed_in, start_of_test_day, with_key
from tests.api.upstream_env import UpstreamEnv as Env
from tests.api.upstream_env import upstream_env
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.qqmusic import catalogue as qq
from tests.fakes.qqmusic.app import QQ_SCANNER_ID, WECHAT_SCANNER_ID
from tests.support.upstreams import fake_upstreams

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
START = "/v1/admin/login/qr/start"
POLL = "/v1/admin/login/qr/"


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    async with upstream_env(backend, hibp) as env:
        yield env


async def start(api: Api, platform: str, **extra: Any) -> dict[str, Any]:
    response = await api.post(START, {"platform": platform, **extra}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def poll_to_the_end(api: Api, session_id: str) -> tuple[list[str], dict[str, Any]]:
    events: list[str] = []
    for _ in range(10):
        response = await api.get(POLL + session_id, headers=ADMIN)
        assert response.status_code == 200, response.text
        answer = response.json()
        events.append(answer["event"])
        if answer["event"] in ("done", "timeout", "refuse"):
            return events, answer
    raise AssertionError(f"no terminal event after {events}")


async def vip_url(env: Env, email: str) -> str:
    browser = await signed_in(env, email)  # type: ignore[arg-type]
    _, key = await create_key(browser, scopes=["music:read"])
    env.clock.advance(timedelta(seconds=1))
    response = await env.api.fresh().get(
        f"/v1/qqmusic/songs/{qq.VIP_SONG}/url?quality=FLAC", headers=with_key(key)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["audio"]["url"])


async def test_a_qq_login_ends_in_a_pooled_credential_that_plays_vip_songs(env: Env) -> None:
    started = await start(env.api, "qq", label="scanned by ops")
    assert re.fullmatch(r"[0-9a-f]{64}", started["session_id"])
    assert started["image"].startswith("data:image/png;base64,")
    assert (started["expires_in_sec"], started["platform"]) == (180, "qq")

    events, done = await poll_to_the_end(env.api, started["session_id"])
    assert events == ["waiting", "scanned", "done"]
    credential = done["credential"]
    assert (credential["provider"], credential["label"], credential["status"]) == (
        "qqmusic", "scanned by ops", "active",
    )  # fmt: skip
    assert credential["expiresAt"] is not None and "payload" not in credential
    # Finished: the session is gone.
    assert (await env.api.get(POLL + started["session_id"], headers=ADMIN)).status_code == 404

    assert f"uin={QQ_SCANNER_ID}" in await vip_url(env, "qr-listener@example.com")

    # Stored sealed: the new musickey is nowhere in the row.
    store = env.app.state.container.adapters.uow
    async with store() as work:
        sealed = await work.pool_credentials.sealed(credential["id"])
    account = env.fakes.qq.accounts.get(QQ_SCANNER_ID)
    assert sealed is not None and account is not None
    assert account.musickey.encode() not in sealed.payload_enc
    engine = env.app.state.container.engine
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM pool_credentials"))).mappings().all()
    assert not any(account.musickey in str(dict(row)) for row in rows)


async def test_a_wechat_login_through_the_graphql_twins(env: Env) -> None:
    started = await env.api.gql(
        """mutation($i: QrLoginStartInput!) { adminQrLoginStart(input: $i) {
            sessionId image expiresInSec platform errors { code field message } } }""",
        {"i": {"platform": "wx"}}, headers=ADMIN,
    )  # fmt: skip
    result = started["data"]["adminQrLoginStart"]
    assert result["errors"] == [] and result["platform"] == "wx"
    assert result["image"].startswith("data:image/jpeg;base64,") and result["expiresInSec"] == 180
    poll = """mutation($i: QrLoginPollInput!) { adminQrLoginPoll(input: $i) {
        event error credential { id provider label status } errors { code field message } } }"""
    events: list[str] = []
    answer: dict[str, Any] = {}
    for _ in range(10):
        polled = await env.api.gql(
            poll, {"i": {"sessionId": result["sessionId"], "label": "wechat"}}, headers=ADMIN
        )
        answer = polled["data"]["adminQrLoginPoll"]
        assert answer["errors"] == [], answer
        events.append(answer["event"])
        if answer["event"] == "done":
            break
    assert events[-1] == "done" and "scanned" in events
    assert answer["credential"]["provider"] == "QQMUSIC"
    assert answer["credential"]["label"] == "wechat"
    gone = await env.api.gql(poll, {"i": {"sessionId": result["sessionId"]}}, headers=ADMIN)
    assert gone["data"]["adminQrLoginPoll"]["errors"][0]["code"] == "QR_LOGIN_NOT_FOUND"
    assert f"uin={WECHAT_SCANNER_ID}" in await vip_url(env, "wx-listener@example.com")


async def test_a_session_expires_after_its_ttl(env: Env) -> None:
    started = await start(env.api, "qq")
    env.clock.advance(timedelta(seconds=181))
    expired = await env.api.get(POLL + started["session_id"], headers=ADMIN)
    assert expired.status_code == 404, expired.text  # the original's answer for expired


async def test_qr_logins_are_for_admins_only(env: Env) -> None:
    browser = await signed_in(env, "not-admin@example.com")  # type: ignore[arg-type]
    refused = await browser.post(START, {"platform": "qq"})
    assert refused.status_code == 403, refused.text
    started = await start(env.api, "qq")
    assert (await browser.get(POLL + started["session_id"])).status_code == 403
    anonymous = env.api.fresh()
    assert (await anonymous.post(START, {"platform": "qq"})).status_code == 401
    assert (await anonymous.get(POLL + started["session_id"])).status_code == 401
    # Polls that were refused did not advance or end the admin's session.
    events, _ = await poll_to_the_end(env.api, started["session_id"])
    assert events[0] == "waiting"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"platform": "mobile"}, "platform"), ({"platform": "icq"}, "platform"), ({}, "platform")],
)
async def test_bad_platforms_are_400s_naming_the_field(
    env: Env, body: dict[str, Any], field: str
) -> None:
    response = await env.api.post(START, body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert field in response.json()["message"]
    assert (await env.api.get(POLL + "f" * 64, headers=ADMIN)).status_code == 404


async def test_another_process_answers_the_poll(
    pg_engine: AsyncEngine, pg_url: str, redis_client: Redis, hibp: FakeHibpServer
) -> None:
    """Two apps ("processes") on one PostgreSQL and one Redis: one starts, the other polls."""
    redis_url = os.environ["KARPOV_TEST_REDIS_URL"]
    clock = ManualClock(start_of_test_day())
    with fake_upstreams() as fakes:
        async with (
            running_app(pg_url, redis_url=redis_url, hibp=hibp, clock=clock, **fakes.settings)
            as (first, _),
            running_app(pg_url, redis_url=redis_url, hibp=hibp, clock=clock, **fakes.settings)
            as (second, _),
        ):  # fmt: skip
            started = await start(first, "qq", label="two processes")
            events, done = await poll_to_the_end(second, started["session_id"])
            assert events == ["waiting", "scanned", "done"]
            assert done["credential"]["label"] == "two processes"
            assert (await first.get(POLL + started["session_id"], headers=ADMIN)).status_code == 404
            listed = await first.get("/v1/admin/pool/credentials", headers=ADMIN)
            assert [c["id"] for c in listed.json()["items"]] == [done["credential"]["id"]]
