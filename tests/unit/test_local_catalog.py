"""The local provider as the application wires it (``tests/support/services.build``, the
in-process catalog): play URLs signed and expiring, quality fallback, lyrics from the
sidecar, covers, and the stream link's checks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from domain.clock import ManualClock
from domain.music.catalog import CatalogImporter, StreamTokens
from domain.music.errors import MusicNotFound, StreamLinkInvalid
from domain.music.model import (
    Kind,
    MusicId,
    PageRequest,
    ProviderName,
    Quality,
    SearchType,
    UnavailableReason,
)
from integrations.audio.scanner import MutagenScanner
from integrations.audio.synth import write_demo
from tests.support.services import Built, build


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def world(clock: ManualClock, tmp_path: Path) -> Built:
    built = build(clock)
    write_demo(tmp_path)
    importer = CatalogImporter(built.adapters.catalog, MutagenScanner(), clock)
    await importer.import_directory(tmp_path)
    return built


async def first_song(built: Built, query: str) -> MusicId:
    page = await built.services.music.search(
        ProviderName.LOCAL, query, SearchType.SONG, PageRequest()
    )
    return page.items[0].id


async def test_play_urls_are_signed_expiring_and_fall_back(
    world: Built, clock: ManualClock
) -> None:
    music = world.services.music
    wav = await first_song(world, "morning")
    url = await music.play_url(wav, Quality.MASTER)
    assert url.audio is not None and url.audio.quality is Quality.FLAC  # the file's own
    assert url.requested is Quality.MASTER
    assert url.audio.expires_at == clock.now() + timedelta(minutes=10)
    token = urlsplit(url.audio.url).path.rsplit("/", 1)[1]
    found = await world.services.local_media.stream(token)
    assert found.mime == "audio/wav" and found.path.endswith("01 Morning Light.wav")

    mp3 = await first_song(world, "static")
    refused = await music.play_url(mp3, Quality.AAC_48)  # below the file's MP3 128k
    assert refused.audio is None
    assert refused.unavailable_reason is UnavailableReason.QUALITY_UNAVAILABLE

    clock.advance(601)
    with pytest.raises(StreamLinkInvalid):
        await world.services.local_media.stream(token)


def test_stream_tokens_resist_forgery(clock: ManualClock) -> None:
    tokens = StreamTokens(b"k" * 32, clock)
    token, _ = tokens.issue("track1")
    assert tokens.verify(token) == "track1"
    body, _, signature = token.rpartition(".")
    assert tokens.verify(body.replace("track1", "track2") + "." + signature) is None
    assert tokens.verify(token[:-2] + "xx") is None
    assert StreamTokens(b"j" * 32, clock).verify(token) is None
    assert tokens.verify("") is None and tokens.verify("a.b.c") is None


async def test_lyrics_album_artist_charts_and_covers(world: Built) -> None:
    music = world.services.music
    song_id = await first_song(world, "paper planes")
    lyrics = await music.lyrics(song_id)
    assert "Paper Planes, line 3" in lyrics.lrc
    song = await music.song(song_id)
    assert song.album is not None and song.images
    album = await music.album(song.album.id)
    assert [s.title for s in album.songs] == ["Quiet Static", "Paper Planes"]
    artist = await music.artist(song.artists[0].id, PageRequest())
    assert artist.songs is not None and artist.songs.total == 2
    [chart] = await music.charts(ProviderName.LOCAL)
    recent = await music.chart(chart.id, PageRequest(limit=2))
    assert recent.songs is not None and recent.songs.total == 5 and recent.songs.has_more
    cover_id = song.images[0].url.rsplit("/", 1)[1]
    cover = await world.services.local_media.cover(cover_id)
    assert cover.mime == "image/png" and cover.data.startswith(b"\x89PNG")
    with pytest.raises(MusicNotFound):
        await music.song(MusicId(ProviderName.LOCAL, Kind.SONG, "nope"))
