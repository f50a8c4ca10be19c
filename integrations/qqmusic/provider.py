"""``QQMusicProvider``: every operation of the music provider port against ``musicu.fcg``."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping, Sequence

from domain.clock import Clock, SystemClock
from domain.music.errors import UpstreamBadAnswer, UpstreamNotFound
from domain.music.model import (
    DEFAULT_QUALITY,
    Album,
    AlbumRef,
    Artist,
    Chart,
    CredentialSecret,
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
    fallback_chain,
)
from domain.music.ports import Capability, CredentialNeed
from integrations.qqmusic import calls
from integrations.qqmusic.calls import PAGE_CAP
from integrations.qqmusic.comm import Platform
from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import QQCredential, login_from_secret
from integrations.qqmusic.lyric_codec import LyricDecodeError, decrypt_lyric, unwrap_qrc
from integrations.qqmusic.normalise import Normaliser, music_id
from integrations.qqmusic.paging import ReadPiece, Send, SliceFetch, fetch_slices
from integrations.qqmusic.play_urls import PlayUrlResolver
from integrations.qqmusic.raw import JsonObject, number, obj, objects, text
from integrations.qqmusic.transport import Call, MusicuTransport

ALBUM_MAX_SONGS = 1000
""""An album with all its songs" stops here (a box set of this size does not exist)."""
TRACK_INFO_BATCH = 50
"""Songs asked for per ``CgiGetTrackInfo`` call."""

_MID = re.compile(r"[0-9A-Za-z]{1,64}")

_NEEDS: Mapping[Capability, CredentialNeed] = {
    Capability.SONG: CredentialNeed.NONE,
    Capability.SONGS: CredentialNeed.NONE,
    Capability.SEARCH: CredentialNeed.NONE,
    # Free songs play without an account; VIP songs and high qualities need a VIP one.
    Capability.PLAY_URL: CredentialNeed.OPTIONAL,
    Capability.LYRICS: CredentialNeed.NONE,
    Capability.ALBUM: CredentialNeed.NONE,
    Capability.ARTIST: CredentialNeed.NONE,
    Capability.PLAYLIST: CredentialNeed.NONE,
    Capability.CHARTS: CredentialNeed.NONE,
}


def read_login(credential: CredentialSecret | None) -> QQCredential | None:
    return None if credential is None else login_from_secret(credential)


def _mid(provider_id: str) -> str:
    if not _MID.fullmatch(provider_id):
        raise UpstreamNotFound("not a QQ Music id")
    return provider_id


def _numeric(provider_id: str) -> int:
    if not (provider_id.isascii() and provider_id.isdecimal() and len(provider_id) <= 20):
        raise UpstreamNotFound("QQ Music playlists and charts have numeric ids")
    return int(provider_id)


def _search_id() -> str:
    """A search session id shaped like the app's (random high bits, time-of-day low bits)."""
    return str(
        (secrets.randbelow(20) + 1) * 18014398509481984
        + secrets.randbelow(4194305) * 4294967296
        + secrets.randbelow(86_400_000)
    )


def _decode_lyrics(song_id: MusicId, lines: JsonObject, words: JsonObject) -> Lyrics:
    return Lyrics(
        song_id=song_id,
        lrc=decrypt_lyric(text(lines, "lyric")),
        word_level=unwrap_qrc(decrypt_lyric(text(words, "lyric"))),
        translation=decrypt_lyric(text(lines, "trans")),
        romanization=unwrap_qrc(decrypt_lyric(text(lines, "roma"))),
    )


class QQMusicProvider:
    name = ProviderName.QQMUSIC
    display_name = "QQ Music"

    def __init__(
        self, config: QQMusicConfig, transport: MusicuTransport, *, clock: Clock | None = None
    ) -> None:
        self._transport = transport
        self._normalise = Normaliser(config.image_url)
        self._play_urls = PlayUrlResolver(config, transport, clock or SystemClock())

    @property
    def needs(self) -> Mapping[Capability, CredentialNeed]:
        return _NEEDS

    def _sender(self, login: QQCredential | None) -> Send:
        async def send(batch: list[Call]) -> list[JsonObject]:
            return await self._transport.call_many(batch, login)

        return send

    # -- songs ---------------------------------------------------------------------------

    async def song(self, provider_id: str, credential: CredentialSecret | None) -> Song:
        login = read_login(credential)
        data = await self._transport.call(
            calls.song_detail(_mid(provider_id)), login, platform=Platform.WEB
        )
        song = self._normalise.song(obj(data, "track_info"))
        if song is None:
            raise UpstreamNotFound("QQ Music knows no such song")
        return song

    async def songs(
        self, provider_ids: Sequence[str], credential: CredentialSecret | None
    ) -> list[Song | None]:
        tracks = await self._tracks(provider_ids, read_login(credential))
        found: list[Song | None] = []
        for provider_id in provider_ids:
            track = tracks.get(provider_id)
            found.append(self._normalise.song(track) if track is not None else None)
        return found

    async def _tracks(
        self, provider_ids: Sequence[str], login: QQCredential | None
    ) -> dict[str, JsonObject]:
        """Track info by the id asked with (mid or numeric id); unknown ids are absent."""
        wanted = [i for i in dict.fromkeys(provider_ids) if _MID.fullmatch(i)]
        mids = [i for i in wanted if not i.isdecimal()]
        ids = [int(i) for i in wanted if i.isdecimal()]
        batch = [
            calls.track_info(mids[i : i + TRACK_INFO_BATCH])
            for i in range(0, len(mids), TRACK_INFO_BATCH)
        ] + [
            calls.track_info((), ids[i : i + TRACK_INFO_BATCH])
            for i in range(0, len(ids), TRACK_INFO_BATCH)
        ]
        by_key: dict[str, JsonObject] = {}
        for data in await self._transport.call_many(batch, login):
            for track in objects(data, "tracks"):
                if mid := text(track, "mid"):
                    by_key[mid] = track
                    if song_id := number(track, "id"):
                        by_key[str(song_id)] = track
        return {key: by_key[key] for key in wanted if key in by_key}

    # -- search --------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        type: SearchType,
        page: PageRequest,
        credential: CredentialSecret | None,
    ) -> Page[SearchItem]:
        query = query.strip()
        if not query:
            return Page(items=(), offset=page.offset, total=0, has_more=False)
        per_page = min(page.limit, PAGE_CAP)
        search_id = _search_id()
        read = {
            SearchType.SONG: ("item_song", self._normalise.song),
            SearchType.ARTIST: ("singer", self._normalise.artist_summary),
            SearchType.ALBUM: ("item_album", self._normalise.album_summary),
            SearchType.PLAYLIST: ("item_songlist", self._normalise.playlist_summary),
        }
        key, summarise = read[type]

        def read_page(data: JsonObject) -> tuple[list[SearchItem], int]:
            meta = obj(data, "meta")
            items = [summarise(item) for item in objects(obj(data, "body"), key)]
            return [i for i in items if i is not None], number(meta, "estimate_sum", "sum")

        fetch: SliceFetch[SearchItem] = SliceFetch(
            page.offset,
            page.limit,
            lambda begin, _num: calls.search(
                query, type.value, begin // per_page + 1, per_page, search_id
            ),
            read_page,
            piece=per_page,
            aligned=True,
        )
        await fetch_slices(self._sender(read_login(credential)), [], [fetch])
        return fetch.result()

    # -- play URLs and lyrics ------------------------------------------------------------

    async def play_url(
        self,
        provider_id: str,
        qualities: Sequence[Quality],
        credential: CredentialSecret | None,
    ) -> PlayUrl:
        login = read_login(credential)
        track = (await self._tracks([_mid(provider_id)], login)).get(provider_id)
        if track is None:
            raise UpstreamNotFound("QQ Music knows no such song")
        chain = tuple(qualities) or fallback_chain(DEFAULT_QUALITY)
        return await self._play_urls.resolve(provider_id, track, chain, login)

    async def lyrics(self, provider_id: str, credential: CredentialSecret | None) -> Lyrics:
        value = _mid(provider_id)
        lines, words = await self._transport.call_many(
            [
                calls.lyric(value, qrc=False, trans=True, roma=True),
                calls.lyric(value, qrc=True, trans=False, roma=False),
            ],
            read_login(credential),
        )
        if not number(lines, "songID") and not number(words, "songID"):
            raise UpstreamNotFound("QQ Music knows no such song")
        song_id = music_id(Kind.SONG, provider_id)
        try:
            # Decryption is pure-Python CPU work (tens of ms for a long QRC): off the loop.
            return await asyncio.to_thread(_decode_lyrics, song_id, lines, words)
        except LyricDecodeError:
            raise UpstreamBadAnswer("QQ Music sent a lyric that does not decrypt") from None

    # -- albums, artists, playlists, charts ----------------------------------------------

    def _song_piece(
        self, list_key: str, total_key: str, inner: str | None = None
    ) -> ReadPiece[Song]:
        def read(data: JsonObject) -> tuple[list[Song], int]:
            entries = objects(data, list_key)
            tracks = [obj(entry, inner) for entry in entries] if inner else entries
            return self._normalise.songs(tracks), number(data, total_key)

        return read

    async def album(self, provider_id: str, credential: CredentialSecret | None) -> Album:
        value = _mid(provider_id)
        songs: SliceFetch[Song] = SliceFetch(
            0,
            ALBUM_MAX_SONGS,
            lambda begin, num: calls.album_songs(value, begin, num),
            self._song_piece("songList", "totalNum", "songInfo"),
            piece=PAGE_CAP,
            first_pieces=1,
        )
        [detail] = await fetch_slices(
            self._sender(read_login(credential)), [calls.album_detail(value)], [songs]
        )
        listed = songs.result()
        album = self._normalise.album(detail, listed.items, listed.total)
        if album is None:
            raise UpstreamNotFound("QQ Music knows no such album")
        return album

    async def artist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Artist:
        mid = _mid(provider_id)

        def read_albums(data: JsonObject) -> tuple[list[AlbumRef], int]:
            refs = [self._normalise.album_ref(item) for item in objects(data, "albumList")]
            return [r for r in refs if r is not None], number(data, "total")

        songs: SliceFetch[Song] = SliceFetch(
            page.offset,
            page.limit,
            lambda begin, num: calls.artist_songs(mid, begin, num),
            self._song_piece("songList", "totalNum", "songInfo"),
            piece=PAGE_CAP,
        )
        albums: SliceFetch[AlbumRef] = SliceFetch(
            page.offset,
            page.limit,
            lambda begin, num: calls.artist_albums(mid, begin, num),
            read_albums,
            piece=PAGE_CAP,
        )
        header, detail = await fetch_slices(
            self._sender(read_login(credential)),
            [calls.artist_header(mid), calls.artist_detail(mid)],
            [songs, albums],
        )
        artist = self._normalise.artist(header, detail, songs.result(), albums.result())
        if artist is None:
            raise UpstreamNotFound("QQ Music knows no such artist")
        return artist

    async def playlist(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Playlist:
        disstid = _numeric(provider_id)
        songs: SliceFetch[Song] = SliceFetch(
            page.offset,
            page.limit,
            lambda begin, num: calls.playlist(disstid, begin, num),
            self._song_piece("songlist", "total_song_num"),
            piece=PAGE_CAP,
        )
        await fetch_slices(self._sender(read_login(credential)), [], [songs])
        playlist = self._normalise.playlist(songs.first_answer or {}, songs.result())
        if playlist is None:
            raise UpstreamNotFound("QQ Music knows no such playlist")
        return playlist

    async def charts(self, credential: CredentialSecret | None) -> list[Chart]:
        data = await self._transport.call(calls.charts(), read_login(credential))
        found = []
        for group in objects(data, "group"):
            for summary in objects(group, "toplist"):
                if (chart := self._normalise.chart(summary)) is not None:
                    found.append(chart)
        return found

    async def chart(
        self, provider_id: str, page: PageRequest, credential: CredentialSecret | None
    ) -> Chart:
        top_id = _numeric(provider_id)

        def read(data: JsonObject) -> tuple[list[Song], int]:
            songs = self._normalise.songs(objects(data, "songInfoList"))
            return songs, number(obj(data, "data"), "totalNum")

        songs: SliceFetch[Song] = SliceFetch(
            page.offset,
            page.limit,
            lambda begin, num: calls.chart(top_id, begin, num),
            read,
            piece=PAGE_CAP,
        )
        await fetch_slices(self._sender(read_login(credential)), [], [songs])
        chart = self._normalise.chart(obj(songs.first_answer, "data"), songs.result())
        if chart is None:
            raise UpstreamNotFound("QQ Music knows no such chart")
        return chart
