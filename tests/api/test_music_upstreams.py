"""QQ Music through the music service (``KARPOV_MUSIC_UPSTREAMS=qqmusic``), our real
client against the fake QQ Music on loopback: metadata needs no account; a VIP play URL
borrows the pool's VIP credential (added by an admin) and releases it; usage records the
provider. SQLite and PostgreSQL + Redis."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN, Api, running_app
from tests.api.test_api_keys import create_key, signed_in, with_key
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.qqmusic.app import FakeQQMusic
from tests.fakes.qqmusic.catalogue import FREE_SONG, VIP_SONG
from tests.support.pool_upstreams import pool_upstreams

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}


@dataclass
class Env:
    api: Api
    app: Any
    fake: FakeQQMusic


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    with pool_upstreams() as (fake, settings):
        async with running_app(
            database_url, redis_url=redis_url, hibp=hibp, music_upstreams="qqmusic", **settings
        ) as (api, app):
            yield Env(api, app, fake)


def data(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_qq_music_answers_through_the_service_and_the_pool(env: Env) -> None:
    browser = await signed_in(env, "qq@example.com")  # type: ignore[arg-type]
    _, key = await create_key(browser, scopes=["music:read", "quota:read"])
    keyed = with_key(key)
    api = env.api.fresh()

    song = data(await api.get(f"/v1/qqmusic/songs/{FREE_SONG}", headers=keyed))
    assert (song["title"], song["provider"], song["id"]) == ("Qing Tian", "qqmusic", FREE_SONG)
    found = data(await api.get("/v1/qqmusic/search/songs?q=qing", headers=keyed))
    assert FREE_SONG in [s["id"] for s in found["items"]]

    # A VIP song at 320k: no account in the pool yet, so no VIP URL.
    refused = await api.get(f"/v1/qqmusic/songs/{VIP_SONG}/url?quality=MP3_320", headers=keyed)
    assert refused.status_code == 403, refused.text

    vip = env.fake.accounts.add(10001, vip=True)
    payload = base64.b64encode(env.fake.credential_payload(vip)).decode()
    added = await env.api.fresh().post(
        "/v1/admin/pool/credentials",
        {"provider": "qqmusic", "label": "vip", "payload": payload}, headers=ADMIN,
    )  # fmt: skip
    assert added.status_code == 200, added.text
    url = await api.get(f"/v1/qqmusic/songs/{VIP_SONG}/url?quality=FLAC", headers=keyed)
    audio = data(url)["audio"]
    assert audio["quality"] == "FLAC" and audio["url"].startswith("http")
    listed = await env.api.fresh().get("/v1/admin/pool/credentials?provider=qqmusic", headers=ADMIN)
    [credential] = listed.json()["items"]
    assert credential["lastUsedAt"] is not None and credential["failCount"] == 0

    history = data(await api.get("/v1/usage/history?days=1", headers=keyed))["days"]
    providers = {d["operation"]: d["provider"] for d in history}
    assert providers["qqmusic.song.url"] == "qqmusic" and providers["qqmusic.song"] == "qqmusic"

    gql = await api.gql(
        f'{{ song(id: "qqmusic:song:{FREE_SONG}") {{ title lyrics {{ lrc }} }} }}', {}, keyed
    )
    assert gql["data"]["song"]["title"] == "Qing Tian", gql
