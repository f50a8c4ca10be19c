"""QQ Music and NetEase wired into the music service, end to end, on SQLite and on
PostgreSQL + Redis: the app's own clients (built from the settings, as in production) talk
to the fakes over loopback; accounts come from the pool, added by an admin and stored
encrypted; every /v1 music route and its GraphQL twin answers for both providers; each
upstream error code ends in its taxonomy result (what happens to the credential) and its
HTTP answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from tests.api.harness import ADMIN_TOKEN, Api
from tests.api.test_api_keys import create_key, signed_in, with_key
from tests.api.upstream_env import UpstreamEnv as Env
from tests.api.upstream_env import upstream_env
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.qqmusic import catalogue as qq

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
POOL = "/v1/admin/pool/credentials"
QQ_VIP = 770001


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    async with upstream_env(backend, hibp) as env:
        yield env


class Caller:
    """A user with an API key (``music:read``); every call is a second after the last, so
    the plan's 5 calls a second and the credentials' request rates never get in the way."""

    def __init__(self, env: Env, api: Api, key: dict[str, str]) -> None:
        self.env, self.api, self.key = env, api, key

    async def get(self, path: str) -> Any:
        self.env.clock.advance(timedelta(seconds=1))
        return await self.api.get(path, headers=self.key)

    async def ok(self, path: str) -> Any:
        response = await self.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["code"] == 200, body
        return body["data"]

    async def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        self.env.clock.advance(timedelta(seconds=1))
        return await self.api.gql(query, variables, self.key)

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        result = await self.gql(query, **variables)
        assert "errors" not in result, result
        return result["data"]  # type: ignore[no-any-return]


async def caller(env: Env, email: str) -> Caller:
    browser = await signed_in(env, email)  # type: ignore[arg-type]
    _, key = await create_key(browser, scopes=["music:read"])
    return Caller(env, env.api.fresh(), with_key(key))


async def pooled(env: Env, provider: str, payload: str, **extra: Any) -> dict[str, Any]:
    body = {"provider": provider, "label": f"{provider} account", "payload": payload, **extra}
    response = await env.api.post(POOL, body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def credential(env: Env, id: str) -> dict[str, Any]:
    listed = await env.api.get(f"{POOL}?limit=500", headers=ADMIN)
    [found] = [c for c in listed.json()["items"] if c["id"] == id]
    return found  # type: ignore[no-any-return]


SONG = "query($id: ID!) { song(id: $id) { id title durationMs artists { name } album { title } } }"
URL = """query($id: ID!, $q: MusicQuality!) { songUrl(id: $id, quality: $q) {
    requested audio { url quality format sizeBytes } unavailableReason } }"""
LYRICS = "query($id: ID!) { songLyrics(id: $id) { lrc translation } }"
SEARCH = """query($p: MusicProviderName!, $q: String!) { search(provider: $p, query: $q, first: 5) {
    totalCount nodes { ... on Song { id title } } } }"""
ALBUM = "query($id: ID!) { album(id: $id) { title songCount songs { nodes { title } } } }"
ARTIST = "query($id: ID!) { artist(id: $id) { name songs { totalCount nodes { title } } } }"
PLAYLIST = """query($id: ID!) { playlist(id: $id) { title songCount
    songs { totalCount nodes { title } } } }"""
CHARTS = "query($p: MusicProviderName!) { charts(provider: $p) { id title } }"
CHART = "query($id: ID!) { chart(id: $id) { title songs { totalCount nodes { title } } } }"


# -- every route, both edges -------------------------------------------------------------------


async def test_every_qq_music_route_and_its_twin(env: Env) -> None:
    account = await pooled(env, "qqmusic", env.fakes.qq_payload(QQ_VIP))
    user = await caller(env, "qq-routes@example.com")

    song = await user.ok(f"/v1/qqmusic/songs/{qq.FREE_SONG}")
    assert (song["id"], song["provider"], song["title"]) == (qq.FREE_SONG, "qqmusic", "Qing Tian")
    assert song["artist"] == "Zhou Jielun" and song["album"]["title"] == "Ye Hui Mei"
    twin = (await user.data(SONG, id=f"qqmusic:song:{qq.FREE_SONG}"))["song"]
    assert (twin["title"], twin["album"]["title"]) == ("Qing Tian", "Ye Hui Mei")
    assert twin["durationMs"] == song["durationSeconds"] * 1000

    # A VIP song plays with the pooled VIP account (its uin in the URL).
    url = await user.ok(f"/v1/qqmusic/songs/{qq.VIP_SONG}/url?quality=FLAC")
    assert url["audio"]["quality"] == "FLAC" and f"uin={QQ_VIP}" in url["audio"]["url"]
    assert url["audio"]["sizeBytes"] == 25_000_000
    played = (await user.data(URL, id=f"qqmusic:song:{qq.VIP_SONG}", q="FLAC"))["songUrl"]
    assert played["audio"]["quality"] == "FLAC" and f"uin={QQ_VIP}" in played["audio"]["url"]
    assert (await credential(env, account["id"]))["lastUsedAt"] is not None

    lyric = await user.ok(f"/v1/qqmusic/songs/{qq.FREE_SONG}/lyric")
    assert lyric["lyric"]["lrc"] == qq.FREE_LRC and lyric["lyric"]["trans"] == qq.FREE_TRANS
    assert lyric["lyric"]["qrc"] == qq.FREE_QRC and lyric["lyric"]["roma"] == qq.FREE_ROMA
    lyrics = (await user.data(LYRICS, id=f"qqmusic:song:{qq.FREE_SONG}"))["songLyrics"]
    assert (lyrics["lrc"], lyrics["translation"]) == (qq.FREE_LRC, qq.FREE_TRANS)

    found = await user.ok("/v1/qqmusic/search/songs?q=Jiang%20Nan&page=1&page_size=5")
    titles = [s["title"] for s in found["items"]]
    assert "Jiang Nan 1" in titles
    searched = (await user.data(SEARCH, p="QQMUSIC", q="Jiang Nan"))["search"]
    assert [s["title"] for s in searched["nodes"]] == titles
    assert searched["totalCount"] == found["total"]

    album = await user.ok(f"/v1/qqmusic/albums/{qq.BIG_ALBUM}")
    assert album["title"] == "Big Box" and len(album["songs"]) == 34
    twin = (await user.data(ALBUM, id=f"qqmusic:album:{qq.BIG_ALBUM}"))["album"]
    assert twin["title"] == "Big Box" and twin["songCount"] == album["songCount"]

    artist = await user.ok(f"/v1/qqmusic/artists/{qq.LIN}")
    assert artist["name"] == "Lin Junjie" and artist["songs"]["total"] == 4
    twin = (await user.data(ARTIST, id=f"qqmusic:artist:{qq.LIN}"))["artist"]
    assert twin["name"] == "Lin Junjie" and twin["songs"]["totalCount"] == 4

    # Beyond the original's first 10 songs.
    playlist = await user.ok(f"/v1/qqmusic/playlists/{qq.BIG_PLAYLIST}?page=2&page_size=20")
    assert playlist["title"] == "Road Trip" and playlist["songCount"] == 45
    assert [s["title"] for s in playlist["songs"]][:2] == ["Big Box Track 21", "Big Box Track 22"]
    twin = (await user.data(PLAYLIST, id=f"qqmusic:playlist:{qq.BIG_PLAYLIST}"))["playlist"]
    assert twin["songCount"] == 45 and len(twin["songs"]["nodes"]) == 20

    charts = await user.ok("/v1/qqmusic/charts")
    listed = (await user.data(CHARTS, p="QQMUSIC"))["charts"]
    assert [f"qqmusic:chart:{c['id']}" for c in charts["items"]] == [c["id"] for c in listed]
    assert str(qq.POP_CHART) in [c["id"] for c in charts["items"]]
    chart = await user.ok(f"/v1/qqmusic/charts/{qq.POP_CHART}?page_size=5")
    assert chart["title"] == "Pop Index" and chart["total"] == 60 and len(chart["items"]) == 5
    twin = (await user.data(CHART, id=f"qqmusic:chart:{qq.POP_CHART}"))["chart"]
    assert twin["title"] == "Pop Index" and twin["songs"]["totalCount"] == 60


async def test_every_netease_route_and_its_twin(env: Env) -> None:
    await pooled(env, "netease", env.fakes.netease_payload("vip-listener"))
    user = await caller(env, "netease-routes@example.com")

    song = await user.ok("/v1/netease/songs/2001")
    assert (song["id"], song["provider"], song["title"]) == (
        "2001",
        "netease",
        "Lights Over the Sea",
    )
    assert song["artist"] == "Aurora Lane" and song["album"]["title"] == "Northern Lights"
    twin = (await user.data(SONG, id="netease:song:2001"))["song"]
    assert twin["title"] == "Lights Over the Sea" and twin["durationMs"] == 215_000

    # A VIP song at its top level, through the pooled VIP login.
    url = await user.ok("/v1/netease/songs/2002/url?quality=MASTER")
    assert url["audio"]["quality"] == "MASTER", url
    played = (await user.data(URL, id="netease:song:2002", q="MASTER"))["songUrl"]
    assert played["audio"]["quality"] == "MASTER"
    assert played["audio"]["sizeBytes"] == url["audio"]["sizeBytes"]

    lyric = await user.ok("/v1/netease/songs/2002/lyric")
    assert lyric["lyric"]["lrc"] == "[00:01.000]Velvet hours\n"
    lyrics = (await user.data(LYRICS, id="netease:song:2002"))["songLyrics"]
    assert lyrics["lrc"] == lyric["lyric"]["lrc"]

    found = await user.ok("/v1/netease/search/songs?q=Velvet&page=1&page_size=5")
    assert [s["title"] for s in found["items"]][:1] == ["Velvet Hours"]
    searched = (await user.data(SEARCH, p="NETEASE", q="Velvet"))["search"]
    assert [s["title"] for s in searched["nodes"]] == [s["title"] for s in found["items"]]

    album = await user.ok("/v1/netease/albums/4001")
    assert album["title"] == "Northern Lights" and len(album["songs"]) == album["songCount"] > 0
    twin = (await user.data(ALBUM, id="netease:album:4001"))["album"]
    assert [s["title"] for s in twin["songs"]["nodes"]] == [s["title"] for s in album["songs"]]

    artist = await user.ok("/v1/netease/artists/1001")
    assert artist["name"] == "Aurora Lane" and artist["songs"]["total"] > 0
    twin = (await user.data(ARTIST, id="netease:artist:1001"))["artist"]
    assert twin["name"] == "Aurora Lane"
    assert twin["songs"]["totalCount"] == artist["songs"]["total"]

    # Every track of a long playlist, a page at a time.
    playlist = await user.ok("/v1/netease/playlists/5001?page=4&page_size=20")
    assert playlist["title"] == "Seventy-five" and playlist["songCount"] == 75
    assert len(playlist["songs"]) == 15 and not playlist["hasMore"]
    twin = (await user.data(PLAYLIST, id="netease:playlist:5001"))["playlist"]
    assert twin["songs"]["totalCount"] == 75 and len(twin["songs"]["nodes"]) == 20

    charts = await user.ok("/v1/netease/charts")
    listed = (await user.data(CHARTS, p="NETEASE"))["charts"]
    assert [f"netease:chart:{c['id']}" for c in charts["items"]] == [c["id"] for c in listed]
    assert "19723756" in [c["id"] for c in charts["items"]]
    chart = await user.ok("/v1/netease/charts/19723756?page_size=5")
    assert chart["title"] == "飙升榜" and chart["total"] == 30 and len(chart["items"]) == 5
    twin = (await user.data(CHART, id="netease:chart:19723756"))["chart"]
    assert twin["title"] == "飙升榜" and twin["songs"]["totalCount"] == 30


async def test_both_providers_are_listed_as_available(env: Env) -> None:
    user = await caller(env, "providers@example.com")
    providers = await user.data("{ musicProviders { name available capabilities } }")
    by_name = {p["name"]: p for p in providers["musicProviders"]}
    assert by_name["QQMUSIC"]["available"] and by_name["NETEASE"]["available"]
    assert "PLAY_URL" in by_name["NETEASE"]["capabilities"]


async def test_without_a_pooled_account_a_vip_song_is_refused_with_its_reason(env: Env) -> None:
    user = await caller(env, "no-account@example.com")
    refused = await user.get(f"/v1/qqmusic/songs/{qq.VIP_SONG}/url?quality=FLAC")
    assert refused.status_code == 403 and refused.json()["message"] == "需要 VIP 会员权限"
    twin = (await user.data(URL, id=f"qqmusic:song:{qq.VIP_SONG}", q="FLAC"))["songUrl"]
    assert twin["audio"] is None and twin["unavailableReason"] == "VIP_REQUIRED"
    # A free song plays without any account.
    free = await user.ok(f"/v1/qqmusic/songs/{qq.FREE_SONG}/url?quality=MP3_128")
    assert free["audio"]["quality"] == "MP3_128" and "uin=0" in free["audio"]["url"]


async def test_pooled_payloads_are_not_stored_in_plaintext(env: Env) -> None:
    payload = env.fakes.netease.issue_cookie("free-listener")
    import base64

    added = await pooled(env, "netease", base64.b64encode(payload.encode()).decode())
    store = env.app.state.container.adapters.uow
    async with store() as work:
        sealed = await work.pool_credentials.sealed(added["id"])
    assert sealed is not None
    token = payload.split("MUSIC_U=")[1].split(";")[0]
    assert token.encode() not in sealed.payload_enc


# -- upstream error codes: the credential's fate and the caller's answer -----------------------


@dataclass(frozen=True)
class Failure:
    code: int
    status: int
    """What the caller gets."""
    credential: str
    """What becomes of the pooled credential: ``expired``, ``cooling`` or ``unharmed``."""


QQ_FAILURES = [
    Failure(2001, 503, "cooling"),
    Failure(104003, 503, "cooling"),
    Failure(1000, 503, "expired"),
    Failure(104400, 503, "expired"),
    Failure(104401, 503, "expired"),
    Failure(104403, 403, "unharmed"),
    Failure(500001, 502, "failed"),
]


@pytest.mark.parametrize("failure", QQ_FAILURES, ids=lambda f: str(f.code))
async def test_each_qq_code_maps_to_its_taxonomy_and_answer(env: Env, failure: Failure) -> None:
    account = await pooled(env, "qqmusic", env.fakes.qq_payload(QQ_VIP + failure.code % 1000))
    user = await caller(env, f"qq-{failure.code}@example.com")
    env.fakes.qq.musicu.fail("music.vkey.GetVkey.UrlGetVkey", failure.code, times=None)
    try:
        response = await user.get(f"/v1/qqmusic/songs/{qq.VIP_SONG}/url?quality=FLAC")
        twin = await user.gql(URL, id=f"qqmusic:song:{qq.VIP_SONG}", q="FLAC")
    finally:
        env.fakes.qq.musicu.clear_failures()
    assert response.status_code == failure.status, response.text
    if failure.status == 403:
        assert twin["data"]["songUrl"]["unavailableReason"] == "NO_RIGHTS"
    else:
        assert twin["errors"][0]["message"] == response.json()["message"]
    await assert_fate(env, account["id"], failure.credential)


NETEASE_FAILURES = [
    Failure(-460, 503, "cooling"),
    Failure(405, 503, "cooling"),
    Failure(406, 503, "cooling"),
    Failure(301, 503, "expired"),
    Failure(-2, 403, "unharmed"),
    Failure(500, 502, "failed"),
]


@pytest.mark.parametrize("failure", NETEASE_FAILURES, ids=lambda f: str(f.code))
async def test_each_netease_code_maps_to_its_taxonomy_and_answer(
    env: Env, failure: Failure
) -> None:
    account = await pooled(env, "netease", env.fakes.netease_payload("vip-listener"))
    user = await caller(env, f"netease{failure.code}@example.com")
    body = {"code": failure.code, "message": "injected"}
    env.fakes.netease.inject("/api/song/enhance/player/url/v1", body, times=2)
    response = await user.get("/v1/netease/songs/2002/url?quality=MASTER")
    assert response.status_code == failure.status, response.text
    await assert_fate(env, account["id"], failure.credential)


async def assert_fate(env: Env, credential_id: str, fate: str) -> None:
    found = await credential(env, credential_id)
    if fate == "expired":
        assert found["status"] == "expired", found
    elif fate == "cooling":
        assert found["status"] == "active" and found["cooldownUntil"] is not None, found
        assert found["healthScore"] == pytest.approx(0.8)
    elif fate == "failed":
        assert found["status"] == "active" and found["failCount"] >= 1, found
    else:
        assert found["status"] == "active" and found["failCount"] == 0, found
        assert found["healthScore"] == 1.0 and found["cooldownUntil"] is None, found
