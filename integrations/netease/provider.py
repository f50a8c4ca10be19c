"""NetEase Cloud Music as a ``MusicProvider``.

Upstream calls, one per operation unless said otherwise:

=============  ==================================================  ======  ==============
operation      NetEase API                                          crypto  credential
=============  ==================================================  ======  ==============
song(s)        /api/v3/song/detail ``c=[{"id":…}]``                  weapi   optional
search         /api/cloudsearch/pc ``type`` 1/10/100/1000            eapi    none
play_url       /api/song/enhance/player/url/v1 ``level`` per rung    eapi    optional
lyrics         /api/song/lyric/v1 (lrc, tlyric, romalrc, yrc)       eapi    none
album          /api/v1/album/{id}                                   weapi   none
artist         /api/v1/artist/{id} + /api/v1/artist/songs           weapi,  none
               + /api/artist/albums/{id}                             eapi
playlist       /api/v6/playlist/detail (every ``trackIds``), then    eapi,   optional
               song detail for the page asked                       weapi
charts         /api/toplist; a chart's songs as a playlist's        eapi    none
=============  ==================================================  ======  ==============

Ids are NetEase's numbers (``netease:song:347230``); a non-numeric id is not found without
asking. A credential, when given, is used for the call; a payload that is not a NetEase
login is ``UpstreamAuthFailed`` (the pool then retires it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from domain.clock import Clock, SystemClock
from domain.music.errors import (
    InvalidCredentialPayload,
    UpstreamAuthFailed,
    UpstreamNotFound,
)
from domain.music.model import (
    DEFAULT_QUALITY,
    Album,
    Artist,
    Chart,
    CredentialSecret,
    Kind,
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
    UnavailableReason,
)
from domain.music.ports import Capability, CredentialNeed
from integrations.netease import normalise
from integrations.netease.levels import Level, levels_for_chain, reported_quality
from integrations.netease.normalise import as_dict, as_int, as_list, music_id
from integrations.netease.payload import parse_payload
from integrations.netease.play_urls import item_for
from integrations.netease.transport import Crypto, NeteaseTransport

SONG_DETAIL = "/api/v3/song/detail"
CLOUD_SEARCH = "/api/cloudsearch/pc"
PLAY_URL = "/api/song/enhance/player/url/v1"
LYRICS = "/api/song/lyric/v1"
PLAYLIST_DETAIL = "/api/v6/playlist/detail"
ARTIST_SONGS = "/api/v1/artist/songs"
TOPLISTS = "/api/toplist"

SONG_DETAIL_BATCH = 500
"""Ids per song-detail call (NetEase takes up to 1,000)."""
PLAYLIST_TRACK_IDS = 100_000
"""``n`` for playlist detail: NetEase answers every track id up to this many."""

_SEARCH_TYPES: dict[SearchType, tuple[int, str, str]] = {
    SearchType.SONG: (1, "songs", "songCount"),
    SearchType.ALBUM: (10, "albums", "albumCount"),
    SearchType.ARTIST: (100, "artists", "artistCount"),
    SearchType.PLAYLIST: (1000, "playlists", "playlistCount"),
}

_NEEDS: Mapping[Capability, CredentialNeed] = {
    Capability.SONG: CredentialNeed.OPTIONAL,
    Capability.SONGS: CredentialNeed.OPTIONAL,
    Capability.SEARCH: CredentialNeed.NONE,
    Capability.PLAY_URL: CredentialNeed.OPTIONAL,
    Capability.LYRICS: CredentialNeed.NONE,
    Capability.ALBUM: CredentialNeed.NONE,
    Capability.ARTIST: CredentialNeed.NONE,
    Capability.PLAYLIST: CredentialNeed.OPTIONAL,
    Capability.CHARTS: CredentialNeed.NONE,
}
"""Play URLs work without a login for free songs; a VIP login unlocks VIP songs and the
higher levels. Playlists and song privileges are fuller with a login."""


def numeric_id(provider_id: str) -> int:
    """NetEase ids are positive integers; anything else names nothing there."""
    if not (provider_id.isascii() and provider_id.isdigit()) or len(provider_id) > 20:
        raise UpstreamNotFound("not a NetEase id")
    value = int(provider_id)
    if value <= 0:
        raise UpstreamNotFound("not a NetEase id")
    return value


def login_pairs(credential: CredentialSecret | None) -> dict[str, str] | None:
    if credential is None:
        return None
    try:
        return dict(parse_payload(credential.payload).pairs)
    except InvalidCredentialPayload:
        raise UpstreamAuthFailed("the pooled NetEase payload is not a login") from None


class NeteaseProvider:
    name = ProviderName.NETEASE
    display_name = "NetEase Cloud Music"

    def __init__(self, transport: NeteaseTransport, *, clock: Clock | None = None) -> None:
        self._transport = transport
        self._clock = clock or SystemClock()

    @property
    def needs(self) -> Mapping[Capability, CredentialNeed]:
        return _NEEDS

    async def _call(
        self,
        crypto: Crypto,
        api_path: str,
        data: Mapping[str, Any],
        credential: CredentialSecret | None,
    ) -> dict[str, Any]:
        answer = await self._transport.call(crypto, api_path, data, login_pairs(credential))
        return answer.body

    # -- songs -----------------------------------------------------------------------

    async def song(self, provider_id: str, credential: CredentialSecret | None) -> Song:
        found = (await self.songs([provider_id], credential))[0]
        if found is None:
            raise UpstreamNotFound("no such NetEase song")
        return found

    async def songs(
        self, provider_ids: Sequence[str], credential: CredentialSecret | None
    ) -> list[Song | None]:
        numbers: dict[str, int] = {}
        for provider_id in provider_ids:
            try:
                numbers[provider_id] = numeric_id(provider_id)
            except UpstreamNotFound:
                continue
        wanted = list(dict.fromkeys(numbers.values()))
        found: dict[int, Song] = {}
        for start in range(0, len(wanted), SONG_DETAIL_BATCH):
            for song in await self._song_details(
                wanted[start : start + SONG_DETAIL_BATCH], credential
            ):
                found[int(song.id.provider_id)] = song
        return [found.get(numbers[p]) if p in numbers else None for p in provider_ids]

    async def _song_details(
        self, ids: Sequence[int], credential: CredentialSecret | None
    ) -> tuple[Song, ...]:
        if not ids:
            return ()
        wanted = ",".join(f'{{"id":{i}}}' for i in ids)
        body = await self._call(Crypto.WEAPI, SONG_DETAIL, {"c": f"[{wanted}]"}, credential)
        return normalise.songs(as_list(body.get("songs")), normalise.privileges_by_id(body))

    # -- search ----------------------------------------------------------------------

    async def search(
        self,
        query: str,
        type: SearchType,
        page: PageRequest,
        credential: CredentialSecret | None,
    ) -> Page[SearchItem]:
        type_code, list_key, count_key = _SEARCH_TYPES[type]
        data = {
            "s": query,
            "type": type_code,
            "limit": page.limit,
            "offset": page.offset,
            "total": True,
        }
        result = as_dict(
            (await self._call(Crypto.EAPI, CLOUD_SEARCH, data, credential)).get("result")
        )
        entries = [as_dict(e) for e in as_list(result.get(list_key))]
        items: tuple[SearchItem, ...]
        if type is SearchType.SONG:
            items = normalise.songs(entries, {})
        elif type is SearchType.ALBUM:
            items = tuple(normalise.album(e) for e in entries)
        elif type is SearchType.ARTIST:
            items = tuple(normalise.artist(e) for e in entries)
        else:
            items = tuple(normalise.playlist(e) for e in entries)
        total = max(as_int(result.get(count_key)), page.offset + len(items))
        return Page(
            items=items,
            offset=page.offset,
            total=total,
            has_more=bool(items) and page.offset + len(items) < total,
        )

    # -- play URLs -------------------------------------------------------------------

    async def play_url(
        self,
        provider_id: str,
        qualities: Sequence[Quality],
        credential: CredentialSecret | None,
    ) -> PlayUrl:
        """Walks the chain's NetEase levels (see ``integrations.netease.levels``) best
        first. NetEase steps down by itself to the best level this login may play, so one
        call usually settles it; another level is asked only when the answer's level is
        not one the chain accepts. A preview clip or a missing URL ends the walk with its
        reason (lower levels of a VIP song are previews too)."""
        number = numeric_id(provider_id)
        song_id = music_id(Kind.SONG, number)
        chain = tuple(qualities) or (DEFAULT_QUALITY,)
        requested = chain[0]
        for level in levels_for_chain(chain):
            body = await self._call(Crypto.EAPI, PLAY_URL, _url_request(number, level), credential)
            item = item_for(body, number)
            if item is None:
                raise UpstreamNotFound("NetEase has no URL entry for this song")
            reason = item.unavailable_reason
            if reason is not None:
                return PlayUrl(song_id, requested, None, reason)
            quality = reported_quality(item.level or level, chain)
            if quality is not None:
                return PlayUrl(song_id, requested, item.audio(quality, self._clock.now()))
        return PlayUrl(song_id, requested, None, UnavailableReason.QUALITY_UNAVAILABLE)

    # -- lyrics ----------------------------------------------------------------------

    async def lyrics(self, provider_id: str, credential: CredentialSecret | None) -> Lyrics:
        number = numeric_id(provider_id)
        data = {"id": number, "cp": False, "tv": 0, "lv": 0, "rv": 0, "kv": 0, "yv": 0}
        data |= {"ytv": 0, "yrv": 0}
        body = await self._call(Crypto.EAPI, LYRICS, data, credential)
        return normalise.lyrics(music_id(Kind.SONG, number), body)

    # -- albums and artists ----------------------------------------------------------

    async def album(self, provider_id: str, credential: CredentialSecret | None) -> Album:
        number = numeric_id(provider_id)
        body = await self._call(Crypto.WEAPI, f"/api/v1/album/{number}", {}, credential)
        entry = as_dict(body.get("album"))
        if not entry:
            raise UpstreamNotFound("no such NetEase album")
        tracks = normalise.songs(as_list(body.get("songs")), normalise.privileges_by_id(body))
        return normalise.album(entry, tracks)

    async def artist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Artist:
        number = numeric_id(provider_id)
        songs_request = {
            "id": number,
            "private_cloud": "true",
            "work_type": 1,
            "order": "hot",
            "offset": page.offset,
            "limit": page.limit,
        }
        albums_request = {"limit": page.limit, "offset": page.offset, "total": True}
        head, songs_body, albums_body = await asyncio.gather(
            self._call(Crypto.WEAPI, f"/api/v1/artist/{number}", {}, credential),
            self._call(Crypto.EAPI, ARTIST_SONGS, songs_request, credential),
            self._call(Crypto.WEAPI, f"/api/artist/albums/{number}", albums_request, credential),
        )
        entry = as_dict(head.get("artist"))
        if not entry:
            raise UpstreamNotFound("no such NetEase artist")
        songs = normalise.songs(
            as_list(songs_body.get("songs")), normalise.privileges_by_id(songs_body)
        )
        albums = tuple(
            normalise.album_summary(as_dict(a)) for a in as_list(albums_body.get("hotAlbums"))
        )
        song_total = max(as_int(songs_body.get("total")), page.offset + len(songs))
        album_total = max(as_int(entry.get("albumSize")), page.offset + len(albums))
        header = normalise.artist(entry)
        return Artist(
            id=header.id,
            name=header.name,
            images=header.images,
            description=header.description,
            songs=Page(songs, page.offset, song_total, bool(songs_body.get("more"))),
            albums=Page(albums, page.offset, album_total, bool(albums_body.get("more"))),
        )

    # -- playlists and charts --------------------------------------------------------

    async def _playlist_page(
        self, number: int, page: PageRequest, credential: CredentialSecret | None
    ) -> tuple[dict[str, Any], Page[Song]]:
        """The playlist's header and ``page`` of its songs. Playlist detail lists every
        track id (its ``tracks`` are cut short without a login); the page's songs come
        from song detail, in the playlist's order."""
        data = {"id": number, "n": PLAYLIST_TRACK_IDS, "s": 8}
        body = await self._call(Crypto.EAPI, PLAYLIST_DETAIL, data, credential)
        entry = as_dict(body.get("playlist"))
        if not entry:
            raise UpstreamNotFound("no such NetEase playlist")
        track_ids = [as_int(as_dict(t).get("id")) for t in as_list(entry.get("trackIds"))]
        track_ids = [i for i in track_ids if i > 0]
        total = len(track_ids) if "trackIds" in entry else as_int(entry.get("trackCount"))
        wanted = track_ids[page.offset : page.offset + page.limit]
        by_id = {int(s.id.provider_id): s for s in await self._song_details(wanted, credential)}
        songs = tuple(by_id[i] for i in wanted if i in by_id)
        return entry, Page(songs, page.offset, total, page.offset + len(wanted) < total)

    async def playlist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Playlist:
        entry, songs = await self._playlist_page(numeric_id(provider_id), page, credential)
        header = normalise.playlist(entry)
        return Playlist(
            id=header.id,
            title=header.title,
            description=header.description,
            images=header.images,
            creator=header.creator,
            song_count=max(header.song_count, songs.total),
            play_count=header.play_count,
            songs=songs,
        )

    async def charts(self, credential: CredentialSecret | None) -> list[Chart]:
        body = await self._call(Crypto.EAPI, TOPLISTS, {}, credential)
        return [normalise.chart(as_dict(e)) for e in as_list(body.get("list")) if as_dict(e)]

    async def chart(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Chart:
        # A NetEase chart is a playlist (its id is one).
        entry, songs = await self._playlist_page(numeric_id(provider_id), page, credential)
        header = normalise.chart(entry)
        return Chart(
            id=header.id,
            title=header.title,
            description=header.description,
            images=header.images,
            updated_at=header.updated_at,
            songs=songs,
        )


def _url_request(song_id: int, level: Level) -> dict[str, Any]:
    data: dict[str, Any] = {"ids": f"[{song_id}]", "level": level.value, "encodeType": "flac"}
    if level is Level.SKY:
        data["immerseType"] = "c51"
    return data
