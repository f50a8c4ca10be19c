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
from typing import Protocol

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
