"""Every NetEase provider operation, our real client against the fake NetEase (weapi and
eapi decrypted by the fake before it answers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from domain.music.errors import UpstreamAuthFailed, UpstreamNotFound
from domain.music.model import (
    Album,
    Artist,
    CredentialSecret,
    MusicId,
    PageRequest,
    Playlist,
    Quality,
    SearchType,
    Song,
)
from domain.music.ports import Capability, CredentialNeed
from tests.integration.netease_harness import Harness, harness


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as built:
        yield built


def sid(n: int) -> str:
    return f"netease:song:{n}"


async def test_provider_declares_every_capability(h: Harness) -> None:
    assert set(h.provider.needs) == set(Capability)
    assert h.provider.needs[Capability.PLAY_URL] is CredentialNeed.OPTIONAL
    assert h.provider.needs[Capability.SEARCH] is CredentialNeed.NONE
    assert str(h.provider.name) == "netease"


async def test_song_is_normalised_from_song_detail(h: Harness) -> None:
    song = await h.provider.song("2001", None)
    assert str(song.id) == sid(2001)
    assert song.title == "Lights Over the Sea"
    assert song.subtitle == "海上的光"
    assert [(str(a.id), a.name) for a in song.artists] == [("netease:artist:1001", "Aurora Lane")]
    assert song.album is not None and str(song.album.id) == "netease:album:4001"
    assert song.album.title == "Northern Lights"
    assert song.duration_ms == 215_000
    assert song.playable and not song.requires_vip
    assert song.available_qualities == (Quality.FLAC, Quality.MP3_320, Quality.OGG_192,
                                         Quality.MP3_128)  # fmt: skip
    assert song.images and song.images[0].url == song.album.images[0].url
    assert song.images[0].url.startswith("http://p1.music.126.net/")
    assert song.track_number == 1
    assert song.publish_date == date(2020, 9, 13)
    assert dict(song.provider_ids) == {"neteaseId": "2001", "mvId": "5436712"}


async def test_vip_and_no_copyright_songs_say_so(h: Harness) -> None:
    vip, grey, low, master = await h.provider.songs(["2002", "2003", "2004", "2005"], None)
    assert vip is not None and vip.requires_vip and vip.playable
    assert vip.available_qualities[0] is Quality.MASTER  # hires is the top level it has
    assert grey is not None and not grey.playable and grey.available_qualities == ()
    assert low is not None and not low.requires_vip  # fee 8: low level free for everyone
    assert master is not None and master.available_qualities == (
        Quality.MASTER, Quality.ATMOS_51, Quality.ATMOS_2, Quality.FLAC, Quality.MP3_320,
        Quality.OGG_192, Quality.MP3_128,
    )  # fmt: skip


async def test_songs_answer_in_order_with_none_for_unknown(h: Harness) -> None:
    found = await h.provider.songs(["2004", "999999", "not-a-number", "2001", "2004"], None)
    assert [s.title if s else None for s in found] == [
        "Low Tide",
        None,
        None,
        "Lights Over the Sea",
        "Low Tide",
    ]
    assert len(h.fake.calls_to("/api/v3/song/detail")) == 1  # one batch call


async def test_unknown_song_is_not_found(h: Harness) -> None:
    with pytest.raises(UpstreamNotFound):
        await h.provider.song("999999", None)
    with pytest.raises(UpstreamNotFound):
        await h.provider.song("-3", None)
    assert h.fake.calls_to("/api/v3/song/detail")[0].payload["c"] == '[{"id":999999}]'


async def test_search_each_type(h: Harness) -> None:
    songs = await h.provider.search("filler", SearchType.SONG, PageRequest(0, 20), None)
    assert songs.total == 75 and songs.has_more and len(songs.items) == 20
    assert all(isinstance(s, Song) for s in songs.items)
    assert h.fake.calls_to("/api/cloudsearch/pc")[-1].payload["type"] == 1

    last = await h.provider.search("filler", SearchType.SONG, PageRequest(60, 20), None)
    assert last.offset == 60 and len(last.items) == 15 and not last.has_more

    albums = await h.provider.search("northern", SearchType.ALBUM, PageRequest(), None)
    assert [a.title for a in albums.items if isinstance(a, Album)] == ["Northern Lights"]
    album = albums.items[0]
    assert isinstance(album, Album) and [a.name for a in album.artists] == ["Aurora Lane"]
    assert album.song_count == 3 and album.release_date == date(2020, 1, 1)

    artists = await h.provider.search("aurora", SearchType.ARTIST, PageRequest(), None)
    assert [(str(a.id), a.name) for a in artists.items if isinstance(a, Artist)] == [
        ("netease:artist:1001", "Aurora Lane")
    ]

    playlists = await h.provider.search("seventy", SearchType.PLAYLIST, PageRequest(), None)
    playlist = playlists.items[0]
    assert isinstance(playlist, Playlist) and playlist.song_count == 75
    assert playlist.creator is not None and playlist.creator.name == "karpov-curator"
    types = [c.payload["type"] for c in h.fake.calls_to("/api/cloudsearch/pc")]
    assert types == [1, 1, 10, 100, 1000]


async def test_search_without_hits_is_an_empty_page(h: Harness) -> None:
    page = await h.provider.search("nothing like this", SearchType.SONG, PageRequest(), None)
    assert page.items == () and page.total == 0 and not page.has_more


async def test_lyrics_map_every_track(h: Harness) -> None:
    lyrics = await h.provider.lyrics("2001", None)
    assert lyrics.song_id == MusicId.parse(sid(2001))
    assert "Lights over the sea" in lyrics.lrc
    assert lyrics.translation == "[00:12.340]海上的光\n"
    assert lyrics.romanization == "[00:12.340]hai shang de guang\n"
    assert lyrics.word_level.splitlines()[1].startswith("[12340,2100](12340,500,0)Lights")


async def test_songs_without_lyrics_have_empty_lyrics(h: Harness) -> None:
    only_lrc = await h.provider.lyrics("2002", None)
    assert only_lrc.lrc and not (only_lrc.translation or only_lrc.word_level)
    for song_id in ("2003", "2004", "424242"):  # nolyric, uncollected, unknown
        lyrics = await h.provider.lyrics(song_id, None)
        assert (lyrics.lrc, lyrics.word_level, lyrics.translation) == ("", "", "")


async def test_album_with_all_its_songs(h: Harness) -> None:
    album = await h.provider.album("4001", None)
    assert str(album.id) == "netease:album:4001" and album.title == "Northern Lights"
    assert album.description == "The first album." and album.song_count == 3
    assert [s.title for s in album.songs] == ["Lights Over the Sea", "Velvet Hours", "Low Tide"]
    assert album.songs[1].requires_vip
    assert album.images and album.release_date == date(2020, 1, 1)
    with pytest.raises(UpstreamNotFound):
        await h.provider.album("4999", None)


async def test_artist_with_songs_and_albums_pages(h: Harness) -> None:
    artist = await h.provider.artist("1002", PageRequest(0, 10), None)
    assert artist.name == "北岛乐队" and artist.description == "另一支测试乐队"
    assert len(artist.images) == 2  # the square avatar, then the large picture
    assert artist.songs is not None and artist.albums is not None
    assert artist.songs.total == 78 and len(artist.songs.items) == 10 and artist.songs.has_more
    assert [a.title for a in artist.albums.items] == ["南方", "Fillers"]
    assert artist.albums.total == 2 and not artist.albums.has_more

    later = await h.provider.artist("1002", PageRequest(75, 10), None)
    assert later.songs is not None and len(later.songs.items) == 3 and not later.songs.has_more
    assert later.albums is not None and later.albums.items == ()

    with pytest.raises(UpstreamNotFound):
        await h.provider.artist("1999", PageRequest(), None)


async def test_playlist_pages_through_every_track(h: Harness) -> None:
    seen: list[str] = []
    offset = 0
    while True:
        playlist = await h.provider.playlist("5001", PageRequest(offset, 20), None)
        assert playlist.songs is not None
        assert playlist.song_count == 75 and playlist.songs.total == 75
        seen += [s.title for s in playlist.songs.items]
        if not playlist.songs.has_more:
            break
        offset += 20
    # Without a login NetEase's playlist detail lists only 10 tracks: the rest come
    # through trackIds and song detail.
    assert seen == [f"Filler {n:02d}" for n in range(1, 76)]
    assert playlist.title == "Seventy-five" and playlist.play_count == 12345
    assert playlist.creator is not None and playlist.creator.name == "karpov-curator"
    asked = [c.payload["c"] for c in h.fake.calls_to("/api/v3/song/detail")]
    assert asked[-1].count('"id"') == 15
    with pytest.raises(UpstreamNotFound):
        await h.provider.playlist("5999", PageRequest(), None)


async def test_playlist_with_a_login_uses_the_credential(h: Harness) -> None:
    playlist = await h.provider.playlist("5002", PageRequest(0, 10), h.secret())
    assert playlist.songs is not None
    assert [s.title for s in playlist.songs.items] == [
        "Lights Over the Sea", "Velvet Hours", "Low Tide"
    ]  # fmt: skip
    assert all(c.login is not None for c in h.fake.calls[-2:])


async def test_charts_and_chart_detail(h: Harness) -> None:
    charts = await h.provider.charts(None)
    assert [(str(c.id), c.title) for c in charts] == [
        ("netease:chart:19723756", "飙升榜"),
        ("netease:chart:3779629", "新歌榜"),
    ]
    assert charts[0].updated_at is not None and charts[0].images and charts[0].songs is None

    chart = await h.provider.chart("19723756", PageRequest(25, 10), None)
    assert chart.title == "飙升榜" and chart.description.startswith("云音乐中每天")
    assert chart.songs is not None and chart.songs.total == 30
    assert [s.title for s in chart.songs.items] == [f"Filler {n:02d}" for n in range(26, 31)]
    assert not chart.songs.has_more


async def test_a_payload_that_is_not_a_login_is_an_auth_failure(h: Harness) -> None:
    with pytest.raises(UpstreamAuthFailed):
        await h.provider.song("2001", CredentialSecret("cred-9", b'{"cookie":"os=pc"}'))
    assert h.fake.calls == []


async def test_calls_carry_the_login_cookie_and_client_identity(h: Harness) -> None:
    secret = h.secret()
    await h.provider.song("2001", secret)  # weapi
    await h.provider.lyrics("2001", secret)  # eapi
    weapi, eapi = h.fake.calls
    token = secret.payload.decode().split(";")[0].removeprefix("MUSIC_U=")
    assert weapi.crypto == "weapi" and weapi.cookies["MUSIC_U"] == token
    assert weapi.cookies["os"] == "pc" and weapi.cookies["appver"]
    assert weapi.payload["csrf_token"] == weapi.cookies["__csrf"]
    assert "Chrome" in weapi.headers["user-agent"]
    assert eapi.crypto == "eapi" and eapi.payload["header"]["MUSIC_U"] == token
    assert eapi.payload["header"]["__csrf"] == weapi.cookies["__csrf"]
    assert eapi.cookies["MUSIC_U"] == token and eapi.cookies["os"] == "pc"
    assert "NeteaseMusicDesktop" in eapi.headers["user-agent"]
    assert weapi.login is not None and eapi.login is not None
