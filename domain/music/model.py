"""The provider-independent music model: what every upstream (QQ Music, NetEase, the local
catalog) is normalised into, and what both edges show.

Ids are ``provider:kind:providerId`` (``qqmusic:song:003OUlho2HcRHC``): the GraphQL global
id and the key of every cache entry, so one id names one thing across the platform.
Durations are milliseconds; amounts of time are ``datetime``/``timedelta``; nothing here
knows an upstream's field names.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from domain.leases import CredentialSecret as CredentialSecret
from domain.music.errors import InvalidMusicId

T = TypeVar("T")


class ProviderName(enum.StrEnum):
    QQMUSIC = "qqmusic"
    NETEASE = "netease"
    LOCAL = "local"


class Kind(enum.StrEnum):
    SONG = "song"
    ALBUM = "album"
    ARTIST = "artist"
    PLAYLIST = "playlist"
    CHART = "chart"


@dataclass(frozen=True, slots=True)
class MusicId:
    provider: ProviderName
    kind: Kind
    provider_id: str

    def __str__(self) -> str:
        # perf (issue 18): a member's ``_value_`` is its ``value`` without the property.
        return f"{self.provider._value_}:{self.kind._value_}:{self.provider_id}"

    @classmethod
    def parse(cls, text: str, *, kind: Kind | None = None, field: str = "id") -> MusicId:
        """``provider:kind:providerId``; ``kind``, when given, must match."""
        provider, sep1, rest = text.partition(":")
        kind_text, sep2, provider_id = rest.partition(":")
        try:
            parsed = cls(ProviderName(provider), Kind(kind_text), provider_id)
        except ValueError:
            raise InvalidMusicId(field=field) from None
        if not (sep1 and sep2 and provider_id) or len(provider_id) > 128:
            raise InvalidMusicId(field=field)
        if kind is not None and parsed.kind is not kind:
            raise InvalidMusicId(f"{field} is not a {kind.value} id", field=field)
        return parsed


class Quality(enum.StrEnum):
    """The original's 20 qualities (its proto enum names). NetEase levels and local files
    map onto these; ``FALLBACK_LADDER`` orders the plain ones from best to worst."""

    MP3_128 = "MP3_128"
    MP3_320 = "MP3_320"
    AAC_48 = "AAC_48"
    AAC_96 = "AAC_96"
    AAC_192 = "AAC_192"
    OGG_96 = "OGG_96"
    OGG_192 = "OGG_192"
    OGG_320 = "OGG_320"
    OGG_640 = "OGG_640"
    FLAC = "FLAC"
    MASTER = "MASTER"
    ATMOS_2 = "ATMOS_2"
    ATMOS_51 = "ATMOS_51"
    ATMOS_71 = "ATMOS_71"
    DOLBY = "DOLBY"
    DTS_X = "DTS_X"
    MFLAC = "MFLAC"
    MOGG_320 = "MOGG_320"
    MOGG_640 = "MOGG_640"
    MMASTER = "MMASTER"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS: dict[Quality, str] = {
    Quality.MP3_128: "MP3 128k", Quality.MP3_320: "MP3 320k", Quality.AAC_48: "AAC 48k",
    Quality.AAC_96: "AAC 96k", Quality.AAC_192: "AAC 192k", Quality.OGG_96: "OGG 96k",
    Quality.OGG_192: "OGG 192k", Quality.OGG_320: "OGG 320k", Quality.OGG_640: "OGG 640k",
    Quality.FLAC: "FLAC lossless", Quality.MASTER: "Hi-Res master", Quality.ATMOS_2:
    "Atmos 2.0", Quality.ATMOS_51: "Atmos 5.1", Quality.ATMOS_71: "Atmos 7.1",
    Quality.DOLBY: "Dolby", Quality.DTS_X: "DTS:X", Quality.MFLAC: "FLAC (encrypted)",
    Quality.MOGG_320: "OGG 320k (encrypted)", Quality.MOGG_640: "OGG 640k (encrypted)",
    Quality.MMASTER: "Hi-Res master (encrypted)",
}  # fmt: skip

DEFAULT_QUALITY = Quality.MP3_128

FALLBACK_LADDER: tuple[Quality, ...] = (
    Quality.MASTER, Quality.ATMOS_71, Quality.ATMOS_51, Quality.ATMOS_2, Quality.DTS_X,
    Quality.DOLBY, Quality.FLAC, Quality.OGG_640, Quality.OGG_320, Quality.MP3_320,
    Quality.OGG_192, Quality.AAC_192, Quality.OGG_96, Quality.AAC_96, Quality.MP3_128,
    Quality.AAC_48,
)  # fmt: skip
"""Plain (unencrypted) qualities from best to worst."""

_ENCRYPTED_RUNG = {
    Quality.MMASTER: Quality.MASTER, Quality.MFLAC: Quality.FLAC,
    Quality.MOGG_640: Quality.OGG_640, Quality.MOGG_320: Quality.OGG_320,
}  # fmt: skip


def fallback_chain(requested: Quality) -> tuple[Quality, ...]:
    """The requested quality, then every plain quality below it, best first. An
    encrypted quality falls back to the plain ladder from its own rung down."""
    rung = _ENCRYPTED_RUNG.get(requested, requested)
    below = FALLBACK_LADDER[FALLBACK_LADDER.index(rung) + 1 :]
    head = (requested, rung) if rung is not requested else (requested,)
    return head + below


class UnavailableReason(enum.StrEnum):
    VIP_REQUIRED = "vip_required"
    NO_RIGHTS = "no_rights"
    QUALITY_UNAVAILABLE = "quality_unavailable"


class SearchType(enum.StrEnum):
    SONG = "song"
    ALBUM = "album"
    ARTIST = "artist"
    PLAYLIST = "playlist"


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which slice of a list to fetch: ``limit`` items after skipping ``offset``.
    Providers whose upstream pages by number fetch the pages that cover the slice."""

    offset: int = 0
    limit: int = 20

    def __post_init__(self) -> None:
        if self.offset < 0 or not 1 <= self.limit <= 100:
            raise ValueError("offset >= 0 and 1 <= limit <= 100")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    offset: int
    total: int
    """The upstream's count (an estimate for some searches)."""
    has_more: bool


@dataclass(frozen=True, slots=True)
class ArtistRef:
    id: MusicId
    name: str


@dataclass(frozen=True, slots=True)
class AlbumRef:
    id: MusicId
    title: str
    release_date: date | None = None
    images: tuple[Image, ...] = ()


@dataclass(frozen=True, slots=True)
class Song:
    id: MusicId
    title: str
    artists: tuple[ArtistRef, ...]
    album: AlbumRef | None
    duration_ms: int
    playable: bool = True
    """False when no quality can be played by anyone (delisted, region)."""
    requires_vip: bool = False
    available_qualities: tuple[Quality, ...] = ()
    subtitle: str = ""
    isrc: str | None = None
    publish_date: date | None = None
    track_number: int | None = None
    images: tuple[Image, ...] = ()
    """Usually the album's cover."""
    provider_ids: tuple[tuple[str, str], ...] = ()
    """Other upstream identifiers worth showing, e.g. ``(("qqId", "97773"),)``."""


@dataclass(frozen=True, slots=True)
class Album:
    id: MusicId
    title: str
    artists: tuple[ArtistRef, ...]
    release_date: date | None = None
    images: tuple[Image, ...] = ()
    description: str = ""
    song_count: int | None = None
    songs: tuple[Song, ...] = ()


@dataclass(frozen=True, slots=True)
class Artist:
    id: MusicId
    name: str
    images: tuple[Image, ...] = ()
    """The avatar first, then a background image when the upstream has one."""
    description: str = ""
    songs: Page[Song] | None = None
    albums: Page[AlbumRef] | None = None


@dataclass(frozen=True, slots=True)
class Creator:
    id: str
    name: str
    avatar: str | None = None


@dataclass(frozen=True, slots=True)
class Playlist:
    id: MusicId
    title: str
    description: str = ""
    images: tuple[Image, ...] = ()
    creator: Creator | None = None
    song_count: int = 0
    play_count: int | None = None
    songs: Page[Song] | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    id: MusicId
    title: str
    description: str = ""
    images: tuple[Image, ...] = ()
    period: str | None = None
    """The upstream's period label (e.g. ``2026_48``), when charts are periodic."""
    updated_at: datetime | None = None
    songs: Page[Song] | None = None


@dataclass(frozen=True, slots=True)
class Lyrics:
    song_id: MusicId
    lrc: str = ""
    """Line-timed LRC text (empty when the song has none)."""
    word_level: str = ""
    """Word-timed lyrics in the upstream's own format (QQ QRC, NetEase YRC), decrypted."""
    translation: str = ""
    romanization: str = ""


@dataclass(frozen=True, slots=True)
class AudioResource:
    url: str
    quality: Quality
    format: str
    """File format: ``mp3``, ``flac``, ``ogg``, ``m4a``, ``mp4``, ``wav``…"""
    expires_at: datetime
    """When the URL stops working (the upstream's own expiry, at most 10 minutes)."""
    size_bytes: int | None = None
    bitrate_kbps: int | None = None


@dataclass(frozen=True, slots=True)
class PlayUrl:
    """The answer to "a URL for this song at this quality": a resource at the requested
    quality or the next lower one available, or none with the reason."""

    song_id: MusicId
    requested: Quality
    audio: AudioResource | None
    unavailable_reason: UnavailableReason | None = None

    def __post_init__(self) -> None:
        if (self.audio is None) == (self.unavailable_reason is None):
            raise ValueError("a play URL has either audio or an unavailable reason")


SearchItem = Song | Album | Artist | Playlist
"""Search results are summaries: nested lists (songs, albums) are left empty."""


def music_ids(provider: ProviderName, kind: Kind, ids: Sequence[str]) -> list[MusicId]:
    return [MusicId(provider, kind, i) for i in ids]
