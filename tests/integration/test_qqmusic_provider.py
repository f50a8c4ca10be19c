"""Every operation of ``QQMusicProvider`` against the fake upstream, normalised to the
music model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from domain.music.errors import UpstreamBadAnswer, UpstreamNotFound
from domain.music.model import (
    Album,
    Artist,
    Kind,
    MusicId,
    PageRequest,
    Playlist,
    ProviderName,
    Quality,
    SearchType,
    Song,
)
from domain.music.ports import Capability, CredentialNeed, MusicProvider
from tests.fakes.qqmusic import catalogue as cat
from tests.fakes.qqmusic.harness import Harness, harness

IMAGES = "https://y.gtimg.cn/music/photo_new/"


@pytest.fixture
async def qq() -> AsyncIterator[Harness]:
    async with harness() as h:
        yield h


@pytest.fixture
def provider(qq: Harness) -> MusicProvider:
    return qq.upstream.provider


def qid(kind: Kind, provider_id: str) -> MusicId:
    return MusicId(ProviderName.QQMUSIC, kind, provider_id)


def test_only_play_urls_may_use_an_account(provider: MusicProvider) -> None:
    assert set(provider.needs) == set(Capability)
    assert provider.needs[Capability.PLAY_URL] is CredentialNeed.OPTIONAL
    assert {c for c, need in provider.needs.items() if need is CredentialNeed.NONE} == (
        set(Capability) - {Capability.PLAY_URL}
    )
    assert (provider.name, provider.display_name) == (ProviderName.QQMUSIC, "QQ Music")


# -- songs --------------------------------------------------------------------------------------


async def test_a_song(provider: MusicProvider) -> None:
    song = await provider.song(cat.FREE_SONG, None)
    assert song.id == qid(Kind.SONG, cat.FREE_SONG)
    assert str(song.id) == f"qqmusic:song:{cat.FREE_SONG}"
    assert song.title == "Qing Tian" and song.subtitle == "Sunny day"
    assert [a.name for a in song.artists] == ["Zhou Jielun"]
    assert song.artists[0].id == qid(Kind.ARTIST, cat.JAY)
    assert song.album is not None and song.album.id == qid(Kind.ALBUM, cat.YE_HUI_MEI)
    assert song.album.release_date == date(2004, 8, 3)
    assert song.duration_ms == 269_000
    assert song.publish_date == date(2003, 7, 31) and song.track_number == 1
    assert song.images[0].url == f"{IMAGES}T002R300x300M000{cat.YE_HUI_MEI}.jpg"
    assert (song.images[0].width, song.images[0].height) == (300, 300)
    assert dict(song.provider_ids) == {"qqId": "97773", "mediaMid": cat.FREE_MEDIA}
    assert song.playable and not song.requires_vip
    assert Quality.FLAC in song.available_qualities
    assert Quality.MASTER not in song.available_qualities


async def test_a_song_by_its_numeric_id(provider: MusicProvider) -> None:
    assert (await provider.song("97773", None)).title == "Qing Tian"


async def test_vip_and_delisted_songs_say_so(provider: MusicProvider) -> None:
    vip = await provider.song(cat.VIP_SONG, None)
    assert vip.requires_vip
    gone = await provider.song(cat.DELISTED_SONG, None)
    assert not gone.playable and gone.available_qualities == ()


async def test_every_quality_a_track_has_is_listed(provider: MusicProvider) -> None:
    song = await provider.song(cat.ALL_QUALITIES_SONG, None)
    assert set(song.available_qualities) == set(Quality)
    assert [a.name for a in song.artists] == ["Zhou Jielun", "Lin Junjie"]


@pytest.mark.parametrize("bad", ["0000000000NONE", "not a mid!", "x" * 65, ""])
async def test_an_unknown_song(provider: MusicProvider, bad: str) -> None:
    with pytest.raises(UpstreamNotFound):
        await provider.song(bad, None)


async def test_songs_in_the_order_asked(provider: MusicProvider) -> None:
    found = await provider.songs([cat.VIP_SONG, "0000000000NONE", "97773", cat.VIP_SONG], None)
    assert [s.title if s else None for s in found] == [
        "Member Song", None, "Qing Tian", "Member Song",
    ]  # fmt: skip
    assert await provider.songs([], None) == []


async def test_many_songs_take_several_calls(qq: Harness, provider: MusicProvider) -> None:
    mids = [m for m in qq.fake.catalogue.songs][:120]
    found = await provider.songs(mids, None)
    assert [s.id.provider_id for s in found if s] == mids


# -- search ----------------------------------------------------------------------------------


async def test_search_songs_pages_across_upstream_pages(provider: MusicProvider) -> None:
    page = await provider.search("single number", SearchType.SONG, PageRequest(25, 10), None)
    assert all(isinstance(s, Song) for s in page.items)
    titles = [s.title for s in page.items if isinstance(s, Song)]
    assert titles == [f"Single Number {n}" for n in range(26, 33)]
    assert (page.offset, page.total, page.has_more) == (25, 32, False)
    first = await provider.search("single number", SearchType.SONG, PageRequest(0, 20), None)
    assert len(first.items) == 20 and first.has_more
    assert all(isinstance(s, Song) for s in first.items)


async def test_search_albums_artists_playlists(provider: MusicProvider) -> None:
    albums = await provider.search("ye hui", SearchType.ALBUM, PageRequest(), None)
    [album] = albums.items
    assert isinstance(album, Album)
    assert album.id == qid(Kind.ALBUM, cat.YE_HUI_MEI) and album.release_date == date(2004, 8, 3)
    assert [a.name for a in album.artists] == ["Zhou Jielun"] and album.song_count == 5

    artists = await provider.search("lin", SearchType.ARTIST, PageRequest(), None)
    [artist] = artists.items
    assert isinstance(artist, Artist)
    assert artist.id == qid(Kind.ARTIST, cat.LIN) and artist.name == "Lin Junjie"
    assert artist.images[0].url.endswith(f"M000{cat.LIN}.jpg")

    playlists = await provider.search("road", SearchType.PLAYLIST, PageRequest(), None)
    [playlist] = playlists.items
    assert isinstance(playlist, Playlist)
    assert playlist.id == qid(Kind.PLAYLIST, str(cat.BIG_PLAYLIST))
    assert (playlist.song_count, playlist.play_count) == (45, 12345)
    assert playlist.creator is not None and playlist.creator.name == "dj"


async def test_a_search_for_nothing(qq: Harness, provider: MusicProvider) -> None:
    empty = await provider.search("   ", SearchType.SONG, PageRequest(), None)
    assert (empty.items, empty.total, empty.has_more) == ((), 0, False)
    none = await provider.search("zzzz", SearchType.SONG, PageRequest(), None)
    assert (none.items, none.total) == ((), 0)


# -- lyrics ----------------------------------------------------------------------------------


async def test_lyrics_are_decrypted(provider: MusicProvider) -> None:
    lyrics = await provider.lyrics(cat.FREE_SONG, None)
    assert lyrics.song_id == qid(Kind.SONG, cat.FREE_SONG)
    assert lyrics.lrc == cat.FREE_LRC
    assert lyrics.word_level == cat.FREE_QRC
    assert lyrics.translation == cat.FREE_TRANS
    assert lyrics.romanization == cat.FREE_ROMA


async def test_a_song_with_only_lrc(provider: MusicProvider) -> None:
    lyrics = await provider.lyrics(cat.VIP_SONG, None)
    assert lyrics.lrc == cat.VIP_LRC
    assert (lyrics.word_level, lyrics.translation, lyrics.romanization) == ("", "", "")


async def test_lyrics_of_an_unknown_song(provider: MusicProvider) -> None:
    with pytest.raises(UpstreamNotFound):
        await provider.lyrics("0000000000NONE", None)


async def test_lyrics_that_do_not_decrypt(qq: Harness, provider: MusicProvider) -> None:
    qq.fake.musicu.corrupt_lyrics = True
    with pytest.raises(UpstreamBadAnswer, match="decrypt"):
        await provider.lyrics(cat.FREE_SONG, None)


# -- albums ----------------------------------------------------------------------------------


async def test_an_album_with_all_its_songs_beyond_one_upstream_page(
    provider: MusicProvider,
) -> None:
    album = await provider.album(cat.BIG_ALBUM, None)
    assert album.title == "Big Box" and album.release_date == date(2010, 5, 18)
    assert album.song_count == 34
    assert [s.title for s in album.songs] == [f"Big Box Track {n}" for n in range(1, 35)]
    assert album.images[1].url == f"{IMAGES}T002R800x800M000{cat.BIG_ALBUM}.jpg"


async def test_an_album_by_numeric_id(provider: MusicProvider) -> None:
    album = await provider.album("8220", None)
    assert album.id == qid(Kind.ALBUM, cat.YE_HUI_MEI)
    assert album.description == "The fifth studio album."
    assert [s.title for s in album.songs][:2] == ["Qing Tian", "Member Song"]


async def test_an_unknown_album(provider: MusicProvider) -> None:
    with pytest.raises(UpstreamNotFound):
        await provider.album("000000000NOALB", None)


# -- artists ---------------------------------------------------------------------------------


async def test_an_artist_with_a_page_of_songs_and_of_albums(provider: MusicProvider) -> None:
    artist = await provider.artist(cat.JAY, PageRequest(25, 20), None)
    assert artist.name == "Zhou Jielun"
    assert artist.description == "Singer, songwriter, producer."
    assert [i.url for i in artist.images] == [
        f"{IMAGES}T001R500x500M000{cat.JAY}.jpg", "https://img.test/jay-bg.jpg",
    ]  # fmt: skip
    assert artist.songs is not None and artist.albums is not None
    assert len(artist.songs.items) == 20 and artist.songs.offset == 25
    assert artist.songs.total == 71 and artist.songs.has_more
    assert artist.albums.total == 34 and len(artist.albums.items) == 9
    assert not artist.albums.has_more
    assert artist.albums.items[0].title.startswith("Single Number")


async def test_an_artist_page_past_the_end(provider: MusicProvider) -> None:
    artist = await provider.artist(cat.LIN, PageRequest(10, 10), None)
    assert artist.songs is not None and artist.songs.items == () and artist.songs.total == 4


async def test_an_unknown_artist(provider: MusicProvider) -> None:
    with pytest.raises(UpstreamNotFound):
        await provider.artist("0000000NOBODY0", PageRequest(), None)


# -- playlists -------------------------------------------------------------------------------


async def test_a_playlist_pages_beyond_the_first_songs(provider: MusicProvider) -> None:
    playlist = await provider.playlist(str(cat.BIG_PLAYLIST), PageRequest(10, 40), None)
    assert playlist.title == "Road Trip" and playlist.description == "Songs for a long drive."
    assert playlist.song_count == 45 and playlist.play_count == 12345
    assert playlist.creator is not None
    assert (playlist.creator.id, playlist.creator.name) == ("10001", "dj")
    assert playlist.songs is not None
    titles = [s.title for s in playlist.songs.items]
    assert len(titles) == 35 and not playlist.songs.has_more
    assert titles[0] == "Big Box Track 11" and titles[-1] == "Single Number 11"
    first = await provider.playlist(str(cat.BIG_PLAYLIST), PageRequest(0, 10), None)
    assert first.songs is not None and first.songs.has_more and first.songs.total == 45


@pytest.mark.parametrize("bad", ["999999", "road-trip", "1" * 21])
async def test_an_unknown_playlist(provider: MusicProvider, bad: str) -> None:
    with pytest.raises(UpstreamNotFound):
        await provider.playlist(bad, PageRequest(), None)


# -- charts ----------------------------------------------------------------------------------


async def test_every_chart(provider: MusicProvider) -> None:
    charts = await provider.charts(None)
    assert [(c.id.provider_id, c.title) for c in charts] == [
        ("4", "Pop Index"), ("26", "Hot Songs"), ("3", "Western"),
    ]  # fmt: skip
    pop = charts[0]
    assert pop.description == "Rising." and pop.period == "2026-01-01"
    assert pop.updated_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert len(pop.images) == 2 and pop.songs is None
    assert charts[1].period == "2026_1"


async def test_a_chart_beyond_the_upstreams_shorter_pages(provider: MusicProvider) -> None:
    chart = await provider.chart(str(cat.POP_CHART), PageRequest(0, 50), None)
    assert chart.title == "Pop Index" and chart.songs is not None
    assert len(chart.songs.items) == 50 and chart.songs.total == 60 and chart.songs.has_more
    tail = await provider.chart(str(cat.POP_CHART), PageRequest(40, 30), None)
    assert tail.songs is not None and len(tail.songs.items) == 20 and not tail.songs.has_more


async def test_an_unknown_chart(provider: MusicProvider) -> None:
    with pytest.raises(UpstreamNotFound):
        await provider.chart("777", PageRequest(), None)
