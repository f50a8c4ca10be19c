"""The ``musicu.fcg`` transport against the fake: what goes into a body, and how every way
the upstream can fail becomes a ``ProviderFailure``."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from domain.music.errors import (
    ProviderFailure,
    UpstreamAuthFailed,
    UpstreamBadAnswer,
    UpstreamNoRights,
    UpstreamRateLimit,
    UpstreamUnreachable,
)
from domain.music.model import PageRequest, Quality, SearchType, fallback_chain
from domain.music.ports import MusicProvider
from integrations.qqmusic import QQMusicConfig, QQMusicUpstream
from integrations.qqmusic.config import ANDROID_USER_AGENT
from integrations.qqmusic.credential import QQCredential
from integrations.qqmusic.transport import Call
from tests.fakes.qqmusic import FakeQQMusic, LoopbackServer
from tests.fakes.qqmusic import catalogue as cat
from tests.fakes.qqmusic.harness import Harness, harness

CHARTS = Call("music.musicToplist.Toplist", "GetAll", {})


@pytest.fixture
async def qq() -> AsyncIterator[Harness]:
    async with harness() as h:
        yield h


# -- the body --------------------------------------------------------------------------------


async def test_a_body_carries_comm_and_numbered_sub_requests_with_flags_as_numbers(
    qq: Harness,
) -> None:
    flags = {"on": True, "nested": {"off": False}, "many": [True, 2]}
    await qq.upstream.musicu.call_many(
        [
            Call("music.musicToplist.Toplist", "GetAll", flags),
            Call("music.musicToplist.Toplist", "GetAll", flags, preserve_bool=True),
        ]
    )
    first, second = qq.fake.musicu.calls
    assert first.param == {"on": 1, "nested": {"off": 0}, "many": [1, 2]}
    assert second.param == flags
    assert qq.fake.posts == 1
    assert first.comm["ct"] == 11 and first.comm["cv"] == 14090008
    assert first.comm["tmeAppID"] == "qqmusic"
    assert first.user_agent == ANDROID_USER_AGENT


async def test_one_client_is_one_device() -> None:
    async with harness(guid="0123456789abcdef0123456789abcdef") as qq:
        await qq.upstream.musicu.call(CHARTS)
        await qq.upstream.musicu.call(CHARTS)
        guids = {c.comm["OpenUDID"] for c in qq.fake.musicu.calls}
        assert guids == {"0123456789abcdef0123456789abcdef"}


async def test_a_login_goes_in_the_cookies_and_comm(qq: Harness) -> None:
    account = qq.fake.accounts.add(424242, vip=False)
    login = QQCredential.from_payload(qq.fake.credential_payload(account))
    await qq.upstream.musicu.call(CHARTS, login)
    await qq.upstream.musicu.call(CHARTS)
    with_login, without = qq.fake.musicu.calls
    assert with_login.cookies == {
        "uin": "424242", "qqmusic_uin": "424242",
        "qm_keyst": account.musickey, "qqmusic_key": account.musickey,
    }  # fmt: skip
    assert with_login.comm["qq"] == "424242" and with_login.comm["authst"] == account.musickey
    assert with_login.comm["tmeLoginType"] == 2
    assert without.cookies == {} and "authst" not in without.comm


async def test_upstream_cookies_never_stick_to_the_client(qq: Harness) -> None:
    start = await qq.upstream.qr_login("qq").start()  # the answer sets a qrsig cookie
    assert start.session.token
    await qq.upstream.musicu.call(CHARTS)
    assert qq.fake.musicu.calls[-1].cookies == {}


async def test_big_batches_are_split_into_several_bodies() -> None:
    async with harness(batch_limit=3) as qq:
        answers = await qq.upstream.musicu.call_many(
            [
                Call("music.musicToplist.Toplist", "GetDetail", {"topId": t, "offset": 0, "num": 1})
                for t in (4, 26, 3, 4, 26, 3, 4)
            ]
        )
        assert [a["data"]["topId"] for a in answers] == [4, 26, 3, 4, 26, 3, 4]
        assert qq.fake.posts == 3


async def test_signed_requests_satisfy_an_upstream_that_wants_them() -> None:
    async with harness(sign_requests=True) as qq:
        qq.fake.musicu.require_sign = True
        await qq.upstream.musicu.call(CHARTS)
        assert qq.fake.musicu.calls[-1].signed


async def test_unsigned_requests_are_refused_by_such_an_upstream(qq: Harness) -> None:
    qq.fake.musicu.require_sign = True
    with pytest.raises(UpstreamBadAnswer) as caught:
        await qq.upstream.musicu.call(CHARTS)
    assert caught.value.upstream_code == 2000


async def test_calls_in_flight_are_capped_per_client() -> None:
    async with harness(max_concurrency=3) as qq:
        qq.fake.delay_s = 0.02
        await asyncio.gather(*(qq.upstream.musicu.call(CHARTS) for _ in range(12)))
        assert qq.fake.max_in_flight == 3


# -- failures of the whole exchange -----------------------------------------------------------


async def test_a_slow_upstream_times_out_as_unreachable() -> None:
    async with harness(timeout_s=0.05) as qq:
        qq.fake.delay_s = 1.0
        with pytest.raises(UpstreamUnreachable, match="timed out"):
            await qq.upstream.musicu.call(CHARTS)


@pytest.mark.parametrize(
    ("status", "failure"),
    [(503, UpstreamBadAnswer), (500, UpstreamBadAnswer), (429, UpstreamRateLimit)],
)
async def test_http_errors(qq: Harness, status: int, failure: type[ProviderFailure]) -> None:
    qq.fake.http_status = status
    with pytest.raises(failure) as caught:
        await qq.upstream.musicu.call(CHARTS)
    assert caught.value.upstream_code == status


async def test_an_answer_that_is_not_json(qq: Harness) -> None:
    qq.fake.garbage = True
    with pytest.raises(UpstreamBadAnswer, match="not JSON"):
        await qq.upstream.musicu.call(CHARTS)


async def test_an_answer_without_data(qq: Harness) -> None:
    qq.fake.musicu.fail("music.musicToplist.Toplist.GetAll", 0)
    with pytest.raises(UpstreamBadAnswer, match="without data"):
        await qq.upstream.musicu.call(CHARTS)


@pytest.mark.parametrize(
    ("code", "failure"),
    [(2001, UpstreamRateLimit), (1000, UpstreamAuthFailed), (2000, UpstreamBadAnswer)],
)
async def test_a_top_level_code_fails_the_body(
    qq: Harness, code: int, failure: type[ProviderFailure]
) -> None:
    qq.fake.musicu.top_level_code = code
    with pytest.raises(failure):
        await qq.upstream.musicu.call_many([CHARTS, CHARTS])


async def test_risk_control_after_a_burst(qq: Harness) -> None:
    qq.fake.musicu.rate_limit_after = 2
    await qq.upstream.musicu.call(CHARTS)
    await qq.upstream.musicu.call(CHARTS)
    with pytest.raises(UpstreamRateLimit) as caught:
        await qq.upstream.musicu.call(CHARTS)
    assert caught.value.upstream_code == 2001


# -- every code of every operation -------------------------------------------------------------

Operation = Callable[[MusicProvider], Awaitable[object]]
PAGE = PageRequest(0, 10)
OPERATIONS: dict[str, tuple[str, Operation]] = {
    "song": ("music.pf_song_detail_svr.get_song_detail_yqq",
             lambda p: p.song(cat.FREE_SONG, None)),
    "songs": ("music.trackInfo.UniformRuleCtrl.CgiGetTrackInfo",
              lambda p: p.songs([cat.FREE_SONG], None)),
    "search": ("music.search.SearchCgiService.DoSearchForQQMusicMobile",
               lambda p: p.search("qing", SearchType.SONG, PAGE, None)),
    "play_url": ("music.vkey.GetVkey.UrlGetVkey",
                 lambda p: p.play_url(cat.FREE_SONG, fallback_chain(Quality.MP3_128), None)),
    "lyrics": ("music.musichallSong.PlayLyricInfo.GetPlayLyricInfo",
               lambda p: p.lyrics(cat.FREE_SONG, None)),
    "album": ("music.musichallAlbum.AlbumInfoServer.GetAlbumDetail",
              lambda p: p.album(cat.YE_HUI_MEI, None)),
    "album songs": ("music.musichallAlbum.AlbumSongList.GetAlbumSongList",
                    lambda p: p.album(cat.YE_HUI_MEI, None)),
    "artist": ("music.UnifiedHomepage.UnifiedHomepageSrv.GetHomepageHeader",
               lambda p: p.artist(cat.JAY, PAGE, None)),
    "artist songs": ("musichall.song_list_server.GetSingerSongList",
                     lambda p: p.artist(cat.JAY, PAGE, None)),
    "artist albums": ("music.musichallAlbum.AlbumListServer.GetAlbumList",
                      lambda p: p.artist(cat.JAY, PAGE, None)),
    "playlist": ("music.srfDissInfo.DissInfo.CgiGetDiss",
                 lambda p: p.playlist(str(cat.SHORT_PLAYLIST), PAGE, None)),
    "charts": ("music.musicToplist.Toplist.GetAll", lambda p: p.charts(None)),
    "chart": ("music.musicToplist.Toplist.GetDetail",
              lambda p: p.chart(str(cat.HOT_CHART), PAGE, None)),
}  # fmt: skip
CODES: list[tuple[int, type[ProviderFailure]]] = [
    (2001, UpstreamRateLimit),
    (104003, UpstreamRateLimit),
    (1000, UpstreamAuthFailed),
    (104400, UpstreamAuthFailed),
    (104401, UpstreamAuthFailed),
    (104403, UpstreamNoRights),
    (10000, UpstreamBadAnswer),
    (500001, UpstreamBadAnswer),
]


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(("code", "failure"), CODES)
async def test_every_code_of_every_operation(
    qq: Harness, operation: str, code: int, failure: type[ProviderFailure]
) -> None:
    call, run = OPERATIONS[operation]
    await run(qq.upstream.provider)  # works before the failure is injected
    qq.fake.musicu.fail(call, code)
    with pytest.raises(failure) as caught:
        await run(qq.upstream.provider)
    assert caught.value.upstream_code == code
    await run(qq.upstream.provider)  # and again after it


# -- over real TCP ---------------------------------------------------------------------------


async def test_over_loopback() -> None:
    fake = FakeQQMusic()
    with LoopbackServer(fake) as server:
        async with QQMusicUpstream(FakeQQMusic.config_for(server.origin)) as upstream:
            charts = await upstream.provider.charts(None)
            assert [c.title for c in charts] == ["Pop Index", "Hot Songs", "Western"]


async def test_a_timeout_over_loopback() -> None:
    fake = FakeQQMusic()
    fake.delay_s = 2.0
    with LoopbackServer(fake) as server:
        config = FakeQQMusic.config_for(server.origin, timeout_s=0.1)
        async with QQMusicUpstream(config) as upstream:
            with pytest.raises(UpstreamUnreachable):
                await upstream.provider.charts(None)


async def test_a_refused_connection_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = QQMusicConfig(api_url=f"http://127.0.0.1:{port}/cgi-bin/musicu.fcg")
    async with QQMusicUpstream(config) as upstream:
        with pytest.raises(UpstreamUnreachable, match="ConnectError"):
            await upstream.provider.charts(None)
