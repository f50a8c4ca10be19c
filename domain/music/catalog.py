"""The local catalog: audio files on this server, imported into the database and served
as the ``local`` music provider (the embedded default: every music query works offline).

``CatalogImporter`` reads a directory through an ``AudioScanner`` (mutagen, in
``integrations.audio``) and upserts each file by its path, so importing again updates
and never duplicates. ``LocalCatalogProvider`` answers the music port from the
``CatalogStore``; its play URLs point at Karpov itself (``/v1/local/stream/{token}``),
signed by ``StreamTokens`` and expiring.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from domain.clock import Clock
from domain.leases import CredentialSecret
from domain.music.errors import MusicNotFound, StreamLinkInvalid, UpstreamNotFound
from domain.music.model import (
    Album,
    AlbumRef,
    Artist,
    ArtistRef,
    AudioResource,
    Chart,
    Image,
    Kind,
    Lyrics,
    MusicId,
    Page,
    PageRequest,
    Playlist,
    PlayUrl,
    ProviderName,
    Quality,
    SearchItem,
    SearchType,
    Song,
    UnavailableReason,
)
from domain.music.ports import (
    AudioScanner,
    Capability,
    CatalogStore,
    CredentialNeed,
)

log = logging.getLogger("karpov.catalog")
T = TypeVar("T")

AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".oga", ".m4a", ".mp4", ".wav"})
PLAYLIST_SUFFIXES = frozenset({".m3u", ".m3u8"})
STREAM_TTL = timedelta(minutes=10)
RECENT_CHART = "recent"


# -- what the importer reads and the store keeps ------------------------------------------


@dataclass(frozen=True, slots=True)
class Cover:
    id: str
    """The SHA-256 of the image (hex, 32 characters): one stored copy per image."""
    mime: str
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, mime: str, data: bytes) -> Cover:
        return cls(hashlib.sha256(data).hexdigest()[:32], mime, data)


@dataclass(frozen=True, slots=True)
class ScannedTrack:
    """One audio file as read from disk."""

    path: str
    """Absolute, resolved."""
    title: str
    artists: tuple[str, ...]
    album: str | None
    album_artist: str | None
    track_number: int | None
    year: int | None
    duration_ms: int
    format: str
    """``mp3``, ``flac``, ``ogg``, ``m4a``, ``wav``."""
    mime: str
    size_bytes: int
    bitrate_kbps: int | None
    lrc: str = ""
    cover: Cover | None = None
    isrc: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogArtist:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CatalogAlbum:
    id: str
    title: str
    artist: CatalogArtist | None
    year: int | None
    cover_id: str | None
    track_count: int


@dataclass(frozen=True, slots=True)
class CatalogTrack:
    id: str
    path: str
    title: str
    artists: tuple[CatalogArtist, ...]
    album: CatalogAlbum | None
    track_number: int | None
    year: int | None
    duration_ms: int
    format: str
    mime: str
    size_bytes: int
    bitrate_kbps: int | None
    lrc: str
    cover_id: str | None
    isrc: str | None
    added_at: datetime


@dataclass(frozen=True, slots=True)
class CatalogPlaylist:
    id: str
    title: str
    track_count: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    updated: int
    playlists: int
    skipped: tuple[str, ...]
    """Files that could not be read, with the reason."""


def name_key(name: str) -> str:
    """How names are compared: whitespace collapsed, case folded."""
    return " ".join(name.split()).casefold()


_WORD = re.compile(r"\w+")


def search_words(query: str) -> list[str]:
    """The words a search matches (at most 16), case folded."""
    return [w.casefold() for w in _WORD.findall(query)][:16]


# -- import --------------------------------------------------------------------------------


class CatalogImporter:
    def __init__(self, store: CatalogStore, scanner: AudioScanner, clock: Clock) -> None:
        self._store = store
        self._scanner = scanner
        self._clock = clock

    async def import_directory(self, directory: Path) -> ImportReport:
        """Reading files blocks (a command-line import, not a request path)."""
        added = updated = 0
        skipped: list[str] = []
        playlists: list[Path] = []
        for path in _files(directory):
            suffix = path.suffix.lower()
            if suffix in PLAYLIST_SUFFIXES:
                playlists.append(path)
                continue
            if suffix not in AUDIO_SUFFIXES:
                continue
            try:
                track = self._scanner.scan(path)
            except Exception as error:  # a broken file must not stop the import
                skipped.append(f"{path}: {error}")
                continue
            _, created = await self._store.upsert_track(track, self._clock.now())
            if created:
                added += 1
            else:
                updated += 1
        for path in playlists:
            entries = _playlist_entries(path)
            await self._store.upsert_playlist(
                str(path), path.stem.replace("_", " "), entries, self._clock.now()
            )
        return ImportReport(added, updated, len(playlists), tuple(skipped))


def _files(directory: Path) -> list[Path]:
    root = directory.expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory")
    return sorted(p for p in root.rglob("*") if p.is_file())


def _playlist_entries(path: Path) -> list[str]:
    entries: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entries.append(str((path.parent / line).resolve()))
    return entries


# -- stream tokens --------------------------------------------------------------------------


class StreamTokens:
    """``<track id>.<expiry epoch>.<HMAC-SHA256, base64url>``: whoever holds one may read
    that track until it expires; nobody can make one without the key."""

    def __init__(self, key: bytes, clock: Clock, *, ttl: timedelta = STREAM_TTL) -> None:
        self._key = key
        self._clock = clock
        self.ttl = ttl

    def issue(self, track_id: str) -> tuple[str, datetime]:
        expires = self._clock.now() + self.ttl
        epoch = math.floor(expires.timestamp())
        body = f"{track_id}.{epoch}"
        return f"{body}.{self._sign(body)}", datetime.fromtimestamp(epoch, expires.tzinfo)

    def verify(self, token: str) -> str | None:
        """The track id of a valid, unexpired token; ``None`` otherwise."""
        body, _, signature = token.rpartition(".")
        track_id, _, epoch = body.partition(".")
        if not (track_id and epoch.isdigit() and signature):
            return None
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        if int(epoch) <= self._clock.now().timestamp():
            return None
        return track_id

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")


# -- the provider ---------------------------------------------------------------------------


class TrackBatch:
    """Tracks asked for in the same turn of the event loop are read with one query (a
    page of twenty songs' URLs and lyrics is two reads, not forty)."""

    def __init__(self, store: CatalogStore) -> None:
        self._store = store
        self._pending: dict[str, list[asyncio.Future[CatalogTrack | None]]] = {}

    async def get(self, track_id: str) -> CatalogTrack | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CatalogTrack | None] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._dispatch)
        self._pending.setdefault(track_id, []).append(future)
        return await future

    def _dispatch(self) -> None:
        pending, self._pending = self._pending, {}
        task = asyncio.ensure_future(self._load(pending))
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _load(self, pending: dict[str, list[asyncio.Future[CatalogTrack | None]]]) -> None:
        try:
            found = {t.id: t for t in await self._store.tracks(list(pending))}
        except Exception as error:
            for futures in pending.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        for track_id, futures in pending.items():
            for future in futures:
                if not future.done():
                    future.set_result(found.get(track_id))


_FORMAT_QUALITY = {
    "flac": Quality.FLAC, "wav": Quality.FLAC, "ogg": Quality.OGG_320,
    "m4a": Quality.AAC_192, "mp3": Quality.MP3_320,
}  # fmt: skip


def file_quality(track: CatalogTrack) -> Quality:
    """The one quality a local file has: lossless for FLAC and WAV, otherwise by format
    and bitrate."""
    if track.format == "mp3":
        return Quality.MP3_320 if (track.bitrate_kbps or 0) >= 256 else Quality.MP3_128
    if track.format == "ogg":
        return Quality.OGG_320 if (track.bitrate_kbps or 0) >= 256 else Quality.OGG_192
    return _FORMAT_QUALITY.get(track.format, Quality.MP3_128)


class LocalCatalogProvider:
    name = ProviderName.LOCAL
    display_name = "Local catalog"

    def __init__(self, store: CatalogStore, tokens: StreamTokens, *, base_url: str) -> None:
        self._store = store
        self._tokens = tokens
        self._base = base_url.rstrip("/")
        self._batch = TrackBatch(store)

    @property
    def needs(self) -> Mapping[Capability, CredentialNeed]:
        return dict.fromkeys(Capability, CredentialNeed.NONE)

    # -- the port -----------------------------------------------------------------------

    async def song(self, provider_id: str, credential: CredentialSecret | None) -> Song:
        return self._song(await self._track(provider_id))

    async def songs(
        self, provider_ids: Sequence[str], credential: CredentialSecret | None
    ) -> list[Song | None]:
        found = {t.id: t for t in await self._store.tracks(provider_ids)}
        return [self._song(found[i]) if i in found else None for i in provider_ids]

    async def search(
        self, query: str, type: SearchType, page: PageRequest, credential: CredentialSecret | None
    ) -> Page[SearchItem]:
        items: Sequence[SearchItem]
        if type is SearchType.SONG:
            tracks, total = await self._store.search_tracks(query, page.offset, page.limit)
            items = [self._song(t) for t in tracks]
        elif type is SearchType.ALBUM:
            albums, total = await self._store.search_albums(query, page.offset, page.limit)
            items = [self._album(a, ()) for a in albums]
        elif type is SearchType.ARTIST:
            artists, total = await self._store.search_artists(query, page.offset, page.limit)
            items = [Artist(_id(Kind.ARTIST, a.id), a.name) for a in artists]
        else:
            lists, total = await self._store.search_playlists(query, page.offset, page.limit)
            items = [self._playlist(p, None) for p in lists]
        return _page(items, page, total)

    async def play_url(
        self, provider_id: str, qualities: Sequence[Quality], credential: CredentialSecret | None
    ) -> PlayUrl:
        track = await self._track(provider_id)
        quality = file_quality(track)
        song_id = _id(Kind.SONG, track.id)
        if quality not in qualities:
            return PlayUrl(
                song_id,
                qualities[0],
                None,
                unavailable_reason=UnavailableReason.QUALITY_UNAVAILABLE,
            )
        token, expires = self._tokens.issue(track.id)
        audio = AudioResource(
            url=f"{self._base}/v1/local/stream/{token}", quality=quality, format=track.format,
            expires_at=expires, size_bytes=track.size_bytes, bitrate_kbps=track.bitrate_kbps,
        )  # fmt: skip
        return PlayUrl(song_id, qualities[0], audio)

    async def lyrics(self, provider_id: str, credential: CredentialSecret | None) -> Lyrics:
        track = await self._track(provider_id)
        return Lyrics(_id(Kind.SONG, track.id), lrc=track.lrc)

    async def album(self, provider_id: str, credential: CredentialSecret | None) -> Album:
        album = await self._store.album(provider_id)
        if album is None:
            raise UpstreamNotFound("no such album")
        tracks = await self._store.album_tracks(provider_id)
        return self._album(album, tuple(self._song(t) for t in tracks))

    async def artist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Artist:
        artist = await self._store.artist(provider_id)
        if artist is None:
            raise UpstreamNotFound("no such artist")
        tracks, track_total = await self._store.artist_tracks(provider_id, page.offset, page.limit)
        albums, album_total = await self._store.artist_albums(provider_id, page.offset, page.limit)
        return Artist(
            _id(Kind.ARTIST, artist.id), artist.name,
            songs=_page([self._song(t) for t in tracks], page, track_total),
            albums=_page([self._album_ref(a) for a in albums], page, album_total),
        )  # fmt: skip

    async def playlist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Playlist:
        found = await self._store.playlist(provider_id)
        if found is None:
            raise UpstreamNotFound("no such playlist")
        tracks, total = await self._store.playlist_tracks(provider_id, page.offset, page.limit)
        return self._playlist(found, _page([self._song(t) for t in tracks], page, total))

    async def charts(self, credential: CredentialSecret | None) -> list[Chart]:
        return [self._chart(None)]

    async def chart(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Chart:
        if provider_id != RECENT_CHART:
            raise UpstreamNotFound("no such chart")
        tracks, total = await self._store.recent_tracks(page.offset, page.limit)
        return self._chart(_page([self._song(t) for t in tracks], page, total))

    # -- normalising ----------------------------------------------------------------------

    async def _track(self, provider_id: str) -> CatalogTrack:
        found = await self._batch.get(provider_id)
        if found is None:
            raise UpstreamNotFound("no such song")
        return found

    def _images(self, cover_id: str | None) -> tuple[Image, ...]:
        if cover_id is None:
            return ()
        return (Image(f"{self._base}/v1/local/covers/{cover_id}"),)

    def _album_ref(self, album: CatalogAlbum) -> AlbumRef:
        return AlbumRef(
            _id(Kind.ALBUM, album.id), album.title, _year(album.year), self._images(album.cover_id)
        )

    def _song(self, track: CatalogTrack) -> Song:
        return Song(
            id=_id(Kind.SONG, track.id), title=track.title,
            artists=tuple(ArtistRef(_id(Kind.ARTIST, a.id), a.name) for a in track.artists),
            album=self._album_ref(track.album) if track.album else None,
            duration_ms=track.duration_ms, playable=True, requires_vip=False,
            available_qualities=(file_quality(track),), isrc=track.isrc,
            publish_date=_year(track.year), track_number=track.track_number,
            images=self._images(track.cover_id),
        )  # fmt: skip

    def _album(self, album: CatalogAlbum, songs: tuple[Song, ...]) -> Album:
        artists = (
            (ArtistRef(_id(Kind.ARTIST, album.artist.id), album.artist.name),)
            if album.artist
            else ()
        )
        return Album(
            _id(Kind.ALBUM, album.id), album.title, artists, release_date=_year(album.year),
            images=self._images(album.cover_id), song_count=album.track_count, songs=songs,
        )  # fmt: skip

    def _playlist(self, found: CatalogPlaylist, songs: Page[Song] | None) -> Playlist:
        return Playlist(
            _id(Kind.PLAYLIST, found.id), found.title, song_count=found.track_count, songs=songs
        )

    def _chart(self, songs: Page[Song] | None) -> Chart:
        return Chart(
            _id(Kind.CHART, RECENT_CHART), "Recently added",
            description="The newest songs of this server's catalog", songs=songs,
        )  # fmt: skip


def _id(kind: Kind, provider_id: str) -> MusicId:
    return MusicId(ProviderName.LOCAL, kind, provider_id)


def _year(year: int | None) -> date | None:
    return date(year, 1, 1) if year and 1 <= year <= 9999 else None


def _page(items: Sequence[T], page: PageRequest, total: int) -> Page[T]:
    return Page(tuple(items), page.offset, total, page.offset + len(items) < total)


# -- what the stream and cover routes serve ---------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamFile:
    path: str
    mime: str
    size_bytes: int


class LocalMedia:
    """The files behind the local provider's URLs: a stream token's track, a cover."""

    def __init__(self, store: CatalogStore, tokens: StreamTokens) -> None:
        self._store = store
        self._tokens = tokens

    async def stream(self, token: str) -> StreamFile:
        track_id = self._tokens.verify(token)
        if track_id is None:
            raise StreamLinkInvalid()
        found = await self._store.tracks([track_id])
        if not found or not _exists(found[0].path):
            raise MusicNotFound("the file of this song is gone")
        track = found[0]
        return StreamFile(track.path, track.mime, track.size_bytes)

    async def cover(self, cover_id: str) -> Cover:
        found = await self._store.cover(cover_id) if len(cover_id) <= 64 else None
        if found is None:
            raise MusicNotFound("no such cover")
        return found


def _exists(path: str) -> bool:
    return Path(path).is_file()
