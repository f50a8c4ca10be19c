"""``Song.from_domain`` converts a song's artists, album, qualities and images when they
are first read (perf, issue 18): the object reads, compares and changes as the eagerly
built one does."""

from __future__ import annotations

from datetime import date

import strawberry

from domain.music import model
from domain.music.model import Kind, MusicId, ProviderName, Quality
from schema.types.music import Album, Artist, MusicImage, Song


def _id(kind: Kind, value: str) -> MusicId:
    return MusicId(ProviderName.LOCAL, kind, value)


DOMAIN = model.Song(
    id=_id(Kind.SONG, "s1"),
    title="Tune",
    artists=(model.ArtistRef(_id(Kind.ARTIST, "a1"), "Band"),),
    album=model.AlbumRef(
        _id(Kind.ALBUM, "b1"), "Record", date(2025, 1, 2), (model.Image("http://i/1", 1, 2),)
    ),
    duration_ms=1234,
    requires_vip=True,
    available_qualities=(Quality.MP3_128, Quality.FLAC),
    subtitle="live",
    isrc="XX",
    track_number=3,
    images=(model.Image("http://i/2", None, None),),
)


def _eager() -> Song:
    return Song(
        id=strawberry.ID("local:song:s1"), music_id=DOMAIN.id, title="Tune", subtitle="live",
        artists=[Artist(id=strawberry.ID("local:artist:a1"), music_id=_id(Kind.ARTIST, "a1"),
                        name="Band")],
        album=Album(id=strawberry.ID("local:album:b1"), music_id=_id(Kind.ALBUM, "b1"),
                    loaded=None, title="Record", release_date=date(2025, 1, 2),
                    images=[MusicImage(url="http://i/1", width=1, height=2)]),
        duration_ms=1234, playable=True, requires_vip=True,
        available_qualities=[Quality.MP3_128, Quality.FLAC], isrc="XX", publish_date=None,
        track_number=3, images=[MusicImage(url="http://i/2", width=None, height=None)],
    )  # fmt: skip


def test_a_converted_song_reads_and_compares_as_the_eagerly_built_one() -> None:
    song = Song.from_domain(DOMAIN)
    eager = _eager()
    for name in ("artists", "album", "available_qualities", "images", "title", "id"):
        assert getattr(Song.from_domain(DOMAIN), name) == getattr(eager, name)
    assert song == eager
    assert repr(Song.from_domain(DOMAIN)) == repr(eager)


def test_a_converted_field_is_kept_and_can_be_replaced() -> None:
    song = Song.from_domain(DOMAIN)
    assert song.artists is song.artists  # converted once
    song.album = None
    assert song.album is None
    assert Song.from_domain(model.Song(_id(Kind.SONG, "s2"), "t", (), None, 1)).album is None
