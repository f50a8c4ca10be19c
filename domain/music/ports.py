"""The one port every music upstream implements (QQ Music, NetEase, the local catalog).

A provider client speaks its upstream's protocol and returns the normalised model of
``domain.music.model``; it raises ``domain.music.errors.ProviderFailure`` subclasses, never
a ``DomainError`` (the music service decides what the caller sees, releases the lease with
the failure's taxonomy result, and retries another credential when the failure allows).

``credential`` is ``None`` for a call made without an upstream account; a provider whose
operation needs one (see ``needs``) raises ``UpstreamAuthFailed`` when given none.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from domain.music.model import (
    Album,
    Artist,
    Chart,
    CredentialSecret,
    Lyrics,
    Page,
    PageRequest,
    Playlist,
    PlayUrl,
    ProviderName,
    Quality,
    SearchItem,
    SearchType,
    Song,
)

if TYPE_CHECKING:
    from domain.music.catalog import (
        CatalogAlbum,
        CatalogArtist,
        CatalogPlaylist,
        CatalogTrack,
        Cover,
        ScannedTrack,
    )


class Capability(enum.StrEnum):
    """Operations of the port; pool credentials list the capabilities they may serve."""

    SONG = "song"
    SONGS = "songs"
    SEARCH = "search"
    PLAY_URL = "play_url"
    LYRICS = "lyrics"
    ALBUM = "album"
    ARTIST = "artist"
    PLAYLIST = "playlist"
    CHARTS = "charts"


class CredentialNeed(enum.StrEnum):
    NONE = "none"
    """Never uses an upstream account."""
    OPTIONAL = "optional"
    """Works without one; an account unlocks more (VIP content, full playlists)."""
    REQUIRED = "required"


class MusicProvider(Protocol):
    name: ProviderName
    display_name: str

    @property
    def needs(self) -> Mapping[Capability, CredentialNeed]:
        """Every capability this provider implements, and whether it needs a credential.
        A capability missing here is not supported (the service answers 404/503)."""

    async def song(self, provider_id: str, credential: CredentialSecret | None) -> Song: ...

    async def songs(
        self, provider_ids: Sequence[str], credential: CredentialSecret | None
    ) -> list[Song | None]:
        """In the order asked; ``None`` for an id the upstream does not know."""

    async def search(
        self,
        query: str,
        type: SearchType,
        page: PageRequest,
        credential: CredentialSecret | None,
    ) -> Page[SearchItem]: ...

    async def play_url(
        self,
        provider_id: str,
        qualities: Sequence[Quality],
        credential: CredentialSecret | None,
    ) -> PlayUrl:
        """Try ``qualities`` in order (the service passes ``fallback_chain(requested)``)
        and answer the first one available; ``requested`` is ``qualities[0]``. When none
        is, answer ``audio=None`` with the reason (VIP required, no rights, quality)."""

    async def lyrics(self, provider_id: str, credential: CredentialSecret | None) -> Lyrics: ...

    async def album(self, provider_id: str, credential: CredentialSecret | None) -> Album:
        """With all its songs."""

    async def artist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Artist:
        """The header, plus ``page`` of its songs and of its albums."""

    async def playlist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Playlist:
        """The header and ``page`` of its songs (beyond the first 10, unlike the original)."""

    async def charts(self, credential: CredentialSecret | None) -> list[Chart]:
        """Every chart, without songs."""

    async def chart(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Chart: ...


class MusicCache(Protocol):
    """Where the music service keeps answers (Redis across processes; an in-process LRU
    without Redis). Values are the service's own encoding (``domain.music.codec``); keys
    name the provider, the operation and its arguments, never a credential."""

    async def get(self, key: str) -> bytes | None: ...

    async def get_with_ttl(self, key: str) -> tuple[bytes, float] | None:
        """perf (issue 18): the value and the seconds it has left (> 0), in one step."""

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Keep ``value`` for ``ttl_seconds`` (> 0)."""


class AudioScanner(Protocol):
    """Reads one audio file's tags, duration and cover (mutagen, ``integrations.audio``)."""

    def scan(self, path: Path) -> ScannedTrack:
        """Raises ``ValueError`` for a file it cannot read."""


class CatalogStore(Protocol):
    """The local catalog's tables (SQLite or PostgreSQL, with their full-text search; an
    in-process implementation for unit tests). Lists are ``(items, total)``."""

    async def upsert_track(self, track: ScannedTrack, now: datetime) -> tuple[str, bool]:
        """Insert or update the track stored for ``track.path`` (its artists, album and
        cover with it); returns its id and whether it is new."""

    async def upsert_playlist(
        self, path: str, title: str, track_paths: Sequence[str], now: datetime
    ) -> str:
        """Insert or replace the playlist stored for ``path``; entries naming no imported
        track are left out."""

    async def tracks(self, ids: Sequence[str]) -> list[CatalogTrack]:
        """The tracks found, in the order asked (unknown ids left out); one query."""

    async def search_tracks(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        """Full-text search over title, artists and album; best matches first."""

    async def search_albums(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]: ...

    async def search_artists(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogArtist], int]: ...

    async def search_playlists(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogPlaylist], int]: ...

    async def album(self, id: str) -> CatalogAlbum | None: ...

    async def album_tracks(self, id: str) -> list[CatalogTrack]:
        """By track number, then title."""

    async def artist(self, id: str) -> CatalogArtist | None: ...

    async def artist_tracks(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]: ...

    async def artist_albums(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]: ...

    async def playlist(self, id: str) -> CatalogPlaylist | None: ...

    async def playlist_tracks(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        """In playlist order."""

    async def recent_tracks(self, offset: int, limit: int) -> tuple[list[CatalogTrack], int]:
        """Newest first."""

    async def cover(self, id: str) -> Cover | None: ...
