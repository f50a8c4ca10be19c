"""NetEase JSON → Karpov's music model.

Song entries share one shape across song detail, cloud search, albums, artists and
playlists (``ar`` artists, ``al`` album, ``dt`` duration in ms, ``fee``, ``alia``); the
account-dependent part, the *privilege*, either rides inside the entry (``privilege``) or
comes in a parallel ``privileges`` list keyed by song id.

* ``requires_vip``: ``fee`` 1 (VIP song) or 4 (sold by album); 0 is free, 8 plays at a low
  level for everyone.
* ``playable``: false when the privilege marks the song grey (``st`` < 0, no copyright or
  delisted) or ``noCopyrightRcmd`` is set.
* ``available_qualities``: every level up to the privilege's ``maxBrLevel`` (what the song
  exists in, whoever asks), else the levels of the files listed (``l`` … ``hr``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from domain.music.model import (
    Album,
    AlbumRef,
    Artist,
    ArtistRef,
    Chart,
    Creator,
    Image,
    Kind,
    Lyrics,
    MusicId,
    Playlist,
    ProviderName,
    Song,
)
from integrations.netease.levels import (
    levels_from_files,
    levels_up_to,
    parse_level,
    qualities_for_levels,
)

VIP_FEES = frozenset({1, 4})


def music_id(kind: Kind, value: object) -> MusicId:
    return MusicId(ProviderName.NETEASE, kind, str(value))


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def as_int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return default


def as_str(value: object) -> str:
    return value if isinstance(value, str) else ""


def date_from_ms(value: object) -> date | None:
    moment = datetime_from_ms(value)
    return moment.date() if moment is not None else None


def datetime_from_ms(value: object) -> datetime | None:
    ms = as_int(value)
    if ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def images(*urls: object) -> tuple[Image, ...]:
    seen: list[str] = []
    for url in urls:
        if isinstance(url, str) and url and url not in seen:
            seen.append(url)
    return tuple(Image(url) for url in seen)


def privileges_by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(p.get("id")): p for p in (as_dict(x) for x in as_list(body.get("privileges"))) if p}


# -- songs -------------------------------------------------------------------------------


def artist_refs(entries: Iterable[object]) -> tuple[ArtistRef, ...]:
    refs = []
    for entry in entries:
        artist = as_dict(entry)
        name = as_str(artist.get("name"))
        if name or artist.get("id"):
            refs.append(ArtistRef(music_id(Kind.ARTIST, as_int(artist.get("id"))), name))
    return tuple(refs)


def album_ref(entry: object) -> AlbumRef | None:
    album = as_dict(entry)
    album_id = as_int(album.get("id"))
    if album_id <= 0:  # 0: a single or a radio programme without an album
        return None
    return AlbumRef(
        id=music_id(Kind.ALBUM, album_id),
        title=as_str(album.get("name")),
        release_date=date_from_ms(album.get("publishTime")),
        images=images(album.get("picUrl")),
    )


def song(entry: dict[str, Any], privilege: dict[str, Any] | None = None) -> Song:
    privilege = privilege if privilege is not None else as_dict(entry.get("privilege"))
    fee = as_int(entry.get("fee"), as_int(privilege.get("fee")))
    grey = as_int(privilege.get("st")) < 0 or bool(entry.get("noCopyrightRcmd"))
    best = parse_level(privilege.get("maxBrLevel"))
    levels = levels_up_to(best) if best is not None else levels_from_files(entry)
    aliases = [as_str(a) for a in as_list(entry.get("alia")) + as_list(entry.get("tns"))]
    album = album_ref(entry.get("al"))
    song_id = as_int(entry.get("id"))
    provider_ids: list[tuple[str, str]] = [("neteaseId", str(song_id))]
    if as_int(entry.get("mv")) > 0:
        provider_ids.append(("mvId", str(as_int(entry.get("mv")))))
    number = as_int(entry.get("no"))
    return Song(
        id=music_id(Kind.SONG, song_id),
        title=as_str(entry.get("name")),
        artists=artist_refs(as_list(entry.get("ar"))),
        album=album,
        duration_ms=max(0, as_int(entry.get("dt"))),
        playable=not grey,
        requires_vip=fee in VIP_FEES,
        available_qualities=qualities_for_levels(levels) if not grey else (),
        subtitle=next((a for a in aliases if a), ""),
        publish_date=date_from_ms(entry.get("publishTime")),
        track_number=number if number > 0 else None,
        images=album.images if album is not None else (),
        provider_ids=tuple(provider_ids),
    )


def songs(entries: Iterable[object], privileges: dict[str, dict[str, Any]]) -> tuple[Song, ...]:
    found = []
    for entry in entries:
        data = as_dict(entry)
        if data.get("id") is not None:
            found.append(song(data, privileges.get(str(data.get("id")))))
    return tuple(found)


# -- albums, artists, playlists, charts --------------------------------------------------


def album_artists(album: dict[str, Any]) -> tuple[ArtistRef, ...]:
    listed = as_list(album.get("artists"))
    return artist_refs(listed if listed else [album.get("artist")])


def album(entry: dict[str, Any], tracks: tuple[Song, ...] = ()) -> Album:
    size = entry.get("size")
    return Album(
        id=music_id(Kind.ALBUM, as_int(entry.get("id"))),
        title=as_str(entry.get("name")),
        artists=album_artists(entry),
        release_date=date_from_ms(entry.get("publishTime")),
        images=images(entry.get("picUrl"), entry.get("blurPicUrl")),
        description=as_str(entry.get("description")) or as_str(entry.get("briefDesc")),
        song_count=as_int(size) if size is not None else (len(tracks) or None),
        songs=tracks,
    )


def album_summary(entry: dict[str, Any]) -> AlbumRef:
    return AlbumRef(
        id=music_id(Kind.ALBUM, as_int(entry.get("id"))),
        title=as_str(entry.get("name")),
        release_date=date_from_ms(entry.get("publishTime")),
        images=images(entry.get("picUrl")),
    )


def artist(entry: dict[str, Any]) -> Artist:
    return Artist(
        id=music_id(Kind.ARTIST, as_int(entry.get("id"))),
        name=as_str(entry.get("name")),
        # img1v1Url is the square avatar; picUrl the large picture behind it.
        images=images(entry.get("img1v1Url"), entry.get("picUrl")),
        description=as_str(entry.get("briefDesc")),
    )


def creator(entry: object) -> Creator | None:
    data = as_dict(entry)
    if not data:
        return None
    return Creator(
        id=str(as_int(data.get("userId"))),
        name=as_str(data.get("nickname")),
        avatar=as_str(data.get("avatarUrl")) or None,
    )


def playlist(entry: dict[str, Any]) -> Playlist:
    return Playlist(
        id=music_id(Kind.PLAYLIST, as_int(entry.get("id"))),
        title=as_str(entry.get("name")),
        description=as_str(entry.get("description")),
        images=images(entry.get("coverImgUrl")),
        creator=creator(entry.get("creator")),
        song_count=as_int(entry.get("trackCount")),
        play_count=as_int(entry.get("playCount")) if "playCount" in entry else None,
    )


def chart(entry: dict[str, Any]) -> Chart:
    return Chart(
        id=music_id(Kind.CHART, as_int(entry.get("id"))),
        title=as_str(entry.get("name")),
        description=as_str(entry.get("description")),
        images=images(entry.get("coverImgUrl")),
        updated_at=datetime_from_ms(entry.get("updateTime")),
    )


# -- lyrics ------------------------------------------------------------------------------


def lyrics(song_id: MusicId, body: dict[str, Any]) -> Lyrics:
    """``lrc`` → lrc, ``tlyric`` → translation, ``romalrc`` → romanization, ``yrc`` (the
    word-timed track) → word_level; answers marked ``nolyric``/``uncollected`` have none."""

    def text(key: str) -> str:
        return as_str(as_dict(body.get(key)).get("lyric"))

    return Lyrics(
        song_id=song_id,
        lrc=text("lrc"),
        word_level=text("yrc"),
        translation=text("tlyric"),
        romanization=text("romalrc"),
    )
