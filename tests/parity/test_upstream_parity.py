"""The music routes on QQ Music and NetEase against their GraphQL twins (upstreams, issue
15): the parity app's own clients talk to both fakes on loopback (``conftest``), accounts
come from the pool. ``PARITY`` in ``test_parity`` has each route once (on the local
catalog); ``UPSTREAM_PARITY`` has every music route again for each upstream provider: the
same answer on both edges, the same error for an unknown id, the same 401 without a
caller."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from rest.routes import ROUTES
from tests.api.harness import ADMIN_TOKEN, Api
from tests.fakes.qqmusic import catalogue as qq
from tests.parity.pool_fake import NETEASE, QQ
from tests.parity.test_parity import (
    gql_data,
    same_album,
    same_artist,
    same_error,
    same_playlist,
    signed_in,
)

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
PROVIDERS = ("qqmusic", "netease")
_users = itertools.count()
_accounts = itertools.count(990_001)


@dataclass(frozen=True)
class Case:
    path: str
    """The /v1 path, with ``{id}`` for the id (raw)."""
    query: str
    """The twin, taking ``$id`` (global) when the route has one."""
    id: str
    same: Callable[[Any, Any], None]
    missing: str | None = None
    """An id the upstream does not know (same error on both edges)."""
    kind: str = "song"
    pooled: bool = False
    """Needs a pooled VIP account (a VIP play URL)."""


async def pool_vip(api: Api, provider: str) -> None:
    if provider == "qqmusic":
        raw = QQ.credential_payload(QQ.accounts.add(next(_accounts), vip=True))
    else:
        raw = NETEASE.issue_cookie("vip-listener").encode()
    body = {"provider": provider, "label": "parity vip", "requestsPerSecond": 100,
            "payload": base64.b64encode(raw).decode()}  # fmt: skip
    response = await api.post("/v1/admin/pool/credentials", body, headers=ADMIN)
    assert response.status_code == 200, response.text


def variables(provider: str, case: Case, raw_id: str) -> dict[str, Any]:
    return {"id": f"{provider}:{case.kind}:{raw_id}"} if "$id" in case.query else {}


async def run(api: Api, provider: str, case: Case) -> None:
    if case.pooled:
        await pool_vip(api, provider)
    browser, _ = await signed_in(api, f"upstream-{next(_users)}@example.com")
    rest = await browser.get(case.path.format(id=case.id))
    assert rest.status_code == 200, rest.text
    [gql] = (await gql_data(browser, case.query, variables(provider, case, case.id))).values()
    case.same(rest.json()["data"], gql)
    if case.missing is not None:
        # Another user (a plan allows 5 metered calls a second per user).
        other, _ = await signed_in(api, f"upstream-{next(_users)}@example.com")
        result = await other.gql(case.query, variables(provider, case, case.missing))
        same_error(await other.get(case.path.format(id=case.missing)), result["errors"])
    anonymous = api.fresh()
    result = await anonymous.gql(case.query, variables(provider, case, case.id))
    same_error(await anonymous.get(case.path.format(id=case.id)), result["errors"])


def same_song(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert gql["id"].endswith(f":song:{rest['id']}")
    assert (rest["title"], rest["durationSeconds"] * 1000) == (gql["title"], gql["durationMs"])
    assert rest["artist"] == " / ".join(a["name"] for a in gql["artists"])
    assert rest["album"]["title"] == gql["album"]["title"]


def same_url(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["audio"]["quality"] == gql["audio"]["quality"]
    assert rest["audio"]["format"] == gql["audio"]["format"]
    assert rest["audio"]["sizeBytes"] == gql["audio"]["sizeBytes"]
    assert rest["audio"]["url"].split("?")[0] == gql["audio"]["url"].split("?")[0]


def same_lyrics(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["lyric"]["lrc"] == gql["lrc"] and gql["lrc"]
    assert rest["lyric"]["trans"] == gql["translation"]


def same_search(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["total"] == gql["totalCount"]
    assert [s["title"] for s in rest["items"]] == [s["title"] for s in gql["nodes"]]
    assert rest["items"]


def same_charts(rest: dict[str, Any], gql: list[dict[str, Any]]) -> None:
    assert [c["id"] for c in rest["items"]] == [c["id"].split(":")[2] for c in gql]
    assert [c["title"] for c in rest["items"]] == [c["title"] for c in gql]


def same_chart(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["title"] == gql["title"] and rest["total"] == gql["songs"]["totalCount"]
    assert [s["title"] for s in rest["items"]] == [s["title"] for s in gql["songs"]["nodes"]]


SONG = "query($id: ID!) { song(id: $id) { id title durationMs artists { name } album { title } } }"
URL = """query($id: ID!) { songUrl(id: $id, quality: %s) {
    audio { url quality format sizeBytes } } }"""
LYRICS = "query($id: ID!) { songLyrics(id: $id) { lrc translation } }"
SEARCH = """{ search(provider: %s, query: "%s", first: 5) {
    totalCount nodes { ... on Song { title } } } }"""
ALBUM = "query($id: ID!) { album(id: $id) { title songCount songs { nodes { title } } } }"
ARTIST = "query($id: ID!) { artist(id: $id) { name songs { totalCount } } }"
PLAYLIST = "query($id: ID!) { playlist(id: $id) { title songCount songs { nodes { title } } } }"
CHARTS = "{ charts(provider: %s) { id title } }"
CHART = "query($id: ID!) { chart(id: $id) { title songs { totalCount nodes { title } } } }"


def cases(provider: str) -> dict[tuple[str, str], Case]:
    p = provider
    if p == "qqmusic":
        song, vip, quality, search = qq.FREE_SONG, qq.VIP_SONG, "FLAC", "Jiang Nan"
        album, artist, playlist, chart = qq.BIG_ALBUM, qq.LIN, str(qq.BIG_PLAYLIST), "4"
        missing = "009Missing0001"
    else:
        song, vip, quality, search = "2001", "2002", "MASTER", "Velvet"
        album, artist, playlist, chart = "4001", "1001", "5001", "19723756"
        missing = "987654321"
    return {
        ("GET", "/v1/{provider}/songs/{id}"): Case(
            f"/v1/{p}/songs/{{id}}", SONG, song, same_song, missing),
        ("GET", "/v1/{provider}/songs/{id}/url"): Case(
            f"/v1/{p}/songs/{{id}}/url?quality={quality}", URL % quality, vip, same_url,
            pooled=True),
        ("GET", "/v1/{provider}/songs/{id}/lyric"): Case(
            f"/v1/{p}/songs/{{id}}/lyric", LYRICS, song, same_lyrics),
        ("GET", "/v1/{provider}/search/songs"): Case(
            f"/v1/{p}/search/songs?q={search.replace(' ', '%20')}&page=1&page_size=5",
            SEARCH % (p.upper(), search), "", same_search),
        ("GET", "/v1/{provider}/albums/{id}"): Case(
            f"/v1/{p}/albums/{{id}}", ALBUM, album, same_album, missing, "album"),
        ("GET", "/v1/{provider}/artists/{id}"): Case(
            f"/v1/{p}/artists/{{id}}", ARTIST, artist, same_artist, missing, "artist"),
        ("GET", "/v1/{provider}/playlists/{id}"): Case(
            f"/v1/{p}/playlists/{{id}}?page=1&page_size=20", PLAYLIST, playlist,
            same_playlist, "987654321", "playlist"),
        ("GET", "/v1/{provider}/charts"): Case(
            f"/v1/{p}/charts", CHARTS % p.upper(), "", same_charts),
        ("GET", "/v1/{provider}/charts/{id}"): Case(
            f"/v1/{p}/charts/{{id}}", CHART, chart, same_chart, "987654321", "chart"),
    }  # fmt: skip


UPSTREAM_PARITY: dict[tuple[str, str, str], Case] = {
    (p, method, path): case for p in PROVIDERS for (method, path), case in cases(p).items()
}


def test_every_music_route_has_a_row_for_both_upstreams() -> None:
    music = {(r.method, r.path) for r in ROUTES if r.path.startswith("/v1/{provider}/")}
    for provider in PROVIDERS:
        assert {(m, path) for p, m, path in UPSTREAM_PARITY if p == provider} == music


@pytest.mark.parametrize("row", list(UPSTREAM_PARITY), ids=lambda r: f"{r[0]} {r[1]} {r[2]}")
async def test_upstream_route_matches_its_graphql_twin(api: Api, row: tuple[str, str, str]) -> None:
    await run(api, row[0], UPSTREAM_PARITY[row])
