"""/v1 music routes (gin in the original, ``MusicHandler``): ``/v1/:provider/...`` with the
original's shapes, plus charts, paged playlists, and the local provider's stream and
cover files."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypedDict, overload

from starlette.responses import FileResponse, Response

from domain.errors import InvalidInput
from domain.music.errors import MusicNoRights, MusicUpstreamFailed
from domain.music.model import (
    Album,
    AlbumRef,
    Artist,
    Chart,
    Image,
    Kind,
    Lyrics,
    MusicId,
    Page,
    Playlist,
    PlayUrl,
    ProviderName,
    Quality,
    SearchType,
    Song,
    UnavailableReason,
)
from resolvers import music
from rest.envelope import EncodedJson
from rest.router import RestRequest
from rest.schemas import EnumOf, Example
from rest.views import EncodedViews

DEFAULT_PAGE_SIZE = 20

Provider = Annotated[str, EnumOf(ProviderName)]
QualityValue = Annotated[str, EnumOf(Quality)]
Day = Annotated[str, Example("2024-05-01")]
"""An ISO date, or ``""`` when unknown."""


class ArtistRefView(TypedDict):
    id: str
    name: str


class AlbumRefView(TypedDict):
    id: str
    title: str
    cover: str
    """The first image's URL, ``""`` without one."""


class SongView(TypedDict):
    """The original's song, plus ``durationMs``, ``availableQualities`` and ``isrc``."""

    id: Annotated[str, Example("003OUlho2HcRHC")]
    provider: Provider
    title: str
    artist: str
    """The artists' names joined by `` / ``."""
    artists: list[ArtistRefView]
    durationSeconds: int
    durationMs: int
    isVipOnly: bool
    playable: bool
    publishDate: Day
    album: AlbumRefView | None
    availableQualities: list[QualityValue]
    isrc: str | None


class AudioView(TypedDict):
    url: str
    quality: QualityValue
    qualityLabel: str
    format: Annotated[str, Example("mp3")]
    sizeBytes: int
    sizeLabel: Annotated[str, Example("3.4MB")]
    expiresInSeconds: int
    expiresLabel: Annotated[str, Example("2小时")]
    requestedQuality: QualityValue


class SongUrl(TypedDict):
    song: SongView
    audio: AudioView


class LyricView(TypedDict):
    lrc: str
    qrc: str
    trans: str
    roma: str


class SongLyric(TypedDict):
    song: SongView
    lyric: LyricView


class SongPage(TypedDict):
    items: list[SongView]
    total: int
    page: int
    pageSize: int
    hasMore: bool


class AlbumPage(TypedDict):
    items: list[AlbumRefView | None]
    total: int
    page: int
    pageSize: int
    hasMore: bool


class AlbumView(TypedDict):
    id: str
    provider: Provider
    title: str
    artist: str
    artists: list[ArtistRefView]
    cover: str
    releaseDate: Day
    description: str
    songCount: int
    songs: list[SongView]


class ArtistView(TypedDict):
    id: str
    provider: Provider
    mid: str
    name: str
    avatar: str
    background: str
    type: None
    description: str
    songs: SongPage
    albums: AlbumPage


class CreatorView(TypedDict):
    id: str
    nickname: str
    avatar: str


class PlaylistView(TypedDict):
    id: str
    provider: Provider
    title: str
    cover: str
    description: str
    creator: CreatorView | None
    songCount: int
    playCount: int
    hasMore: bool
    page: int
    pageSize: int
    songs: list[SongView]


class ChartView(TypedDict):
    id: str
    provider: Provider
    title: str
    description: str
    cover: str
    period: str | None
    updatedAt: Annotated[str, Example("2026-01-31T12:00:00+00:00")] | None
    """ISO 8601 (``datetime.isoformat``)."""


class ChartList(TypedDict):
    items: list[ChartView]


class ChartSongs(ChartView, SongPage):
    """A chart and one page of its songs."""


def _cover(images: tuple[Image, ...]) -> str:
    return images[0].url if images else ""


def _album_ref(album: AlbumRef | None) -> AlbumRefView | None:
    if album is None:
        return None
    return {"id": album.id.provider_id, "title": album.title, "cover": _cover(album.images)}


def song_view(song: Song) -> SongView:
    """The original's song, plus ``durationMs``, ``availableQualities`` and ``isrc``."""
    return {
        "id": song.id.provider_id, "provider": song.id.provider.value, "title": song.title,
        "artist": " / ".join(a.name for a in song.artists),
        "artists": [{"id": a.id.provider_id, "name": a.name} for a in song.artists],
        "durationSeconds": song.duration_ms // 1000, "durationMs": song.duration_ms,
        "isVipOnly": song.requires_vip, "playable": song.playable,
        "publishDate": song.publish_date.isoformat() if song.publish_date else "",
        "album": _album_ref(song.album),
        "availableQualities": [q.value for q in song.available_qualities], "isrc": song.isrc,
    }  # fmt: skip


def size_label(size: int | None) -> str:
    if not size:
        return ""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}MB"
    return f"{size / 1024:.1f}KB"


def expires_label(seconds: int) -> str:
    """The original's labels: ``2小时``, ``10分钟``, ``30秒``."""
    if seconds >= 3600:
        return f"{seconds // 3600}小时"
    if seconds >= 60:
        return f"{seconds // 60}分钟"
    return f"{max(0, seconds)}秒"


def audio_view(url: PlayUrl, now: datetime) -> AudioView:
    audio = url.audio
    assert audio is not None
    left = max(0, int((audio.expires_at - now).total_seconds()))
    return {
        "url": audio.url, "quality": audio.quality.value, "qualityLabel": audio.quality.label,
        "format": audio.format, "sizeBytes": audio.size_bytes or 0,
        "sizeLabel": size_label(audio.size_bytes), "expiresInSeconds": left,
        "expiresLabel": expires_label(left), "requestedQuality": url.requested.value,
    }  # fmt: skip


_REFUSALS = {
    UnavailableReason.VIP_REQUIRED: "需要 VIP 会员权限",
    UnavailableReason.QUALITY_UNAVAILABLE: "该歌曲暂无此品质资源",
    UnavailableReason.NO_RIGHTS: "该歌曲暂无播放权限",
}


def _page_of(req: RestRequest) -> tuple[int, int]:
    page = req.query_int("page", 1)
    size = req.query_int("page_size", DEFAULT_PAGE_SIZE)
    if page < 1:
        raise InvalidInput("page must be 1 or more", field="page")
    if not 1 <= size <= 100:
        raise InvalidInput("page_size must be between 1 and 100", field="page_size")
    return page, size


@overload
def _paged(items: list[SongView], found: Page[Any] | None, page: int, size: int) -> SongPage: ...
@overload
def _paged(
    items: list[AlbumRefView | None], found: Page[Any] | None, page: int, size: int
) -> AlbumPage: ...
def _paged(items: list[Any], found: Page[Any] | None, page: int, size: int) -> SongPage | AlbumPage:
    total = found.total if found else 0
    return {"items": items, "total": total, "page": page, "pageSize": size,
            "hasMore": found.has_more if found else False}  # fmt: skip


def _id(req: RestRequest, kind: Kind) -> Any:
    params = req.request.path_params
    return _music_id(str(params["id"]), kind, str(params["provider"]))


_IDS: dict[tuple[str, str, str], MusicId] = {}
_IDS_MAX = 10_000


def _music_id(text: str, kind: Kind, provider: str) -> MusicId:
    """``music.music_id`` of a path's id and provider, memoised (perf, issue 18: the
    enum conversion and the id's construction on every call). Ids are immutable; a
    refusal raises every time (it is not kept)."""
    key = (text, kind._value_, provider)  # (an enum member hashes by a Python call)
    found = _IDS.get(key)
    if found is None:
        found = music.music_id(text, kind, provider=provider)
        if len(_IDS) >= _IDS_MAX:
            _IDS.clear()
        _IDS[key] = found
    return found


song_view_json = EncodedViews(song_view, max_entries=10_000)
"""``song_view``, encoded: what ``GET /v1/:provider/songs/:id`` answers (the metered call
the bench's case (a) measures)."""


async def get_song(req: RestRequest) -> Annotated[EncodedJson, SongView]:
    return song_view_json(await music.song(req.ctx, _id(req, Kind.SONG)))


async def get_song_url(req: RestRequest) -> SongUrl:
    id = _id(req, Kind.SONG)
    quality = music.quality_of(req.query("quality"))
    song, url = await music.song_url(req.ctx, id, quality)
    if url.audio is None:
        reason = url.unavailable_reason or UnavailableReason.NO_RIGHTS
        raise MusicNoRights(_REFUSALS[reason], reason=reason.value)
    return {"song": song_view(song), "audio": audio_view(url, req.ctx.services.clock.now())}


def lyric_view(lyrics: Lyrics | None) -> LyricView:
    if lyrics is None:
        return {"lrc": "", "qrc": "", "trans": "", "roma": ""}
    return {"lrc": lyrics.lrc, "qrc": lyrics.word_level, "trans": lyrics.translation,
            "roma": lyrics.romanization}  # fmt: skip


async def get_song_lyric(req: RestRequest) -> SongLyric:
    id = _id(req, Kind.SONG)
    try:
        song, lyrics = await music.song_lyrics(req.ctx, id)
    except MusicUpstreamFailed:
        # The original answered an empty lyric when the upstream failed.
        return {"song": song_view(await music.song(req.ctx, id)), "lyric": lyric_view(None)}
    return {"song": song_view(song), "lyric": lyric_view(lyrics)}


async def search_songs(req: RestRequest) -> SongPage:
    query = (req.query("q") or "").strip()
    if not query:
        raise InvalidInput("q is required", field="q")
    page, size = _page_of(req)
    found = await music.search(
        req.ctx, req.path("provider"), query, SearchType.SONG,
        music.page_request((page - 1) * size, size),
    )  # fmt: skip
    items = [song_view(s) for s in found.items if isinstance(s, Song)]
    return _paged(items, found, page, size)


def album_view(album: Album) -> AlbumView:
    return {
        "id": album.id.provider_id, "provider": album.id.provider.value, "title": album.title,
        "artist": " / ".join(a.name for a in album.artists),
        "artists": [{"id": a.id.provider_id, "name": a.name} for a in album.artists],
        "cover": _cover(album.images),
        "releaseDate": album.release_date.isoformat() if album.release_date else "",
        "description": album.description, "songCount": album.song_count or len(album.songs),
        "songs": [song_view(s) for s in album.songs],
    }  # fmt: skip


async def get_album(req: RestRequest) -> AlbumView:
    return album_view(await music.album(req.ctx, _id(req, Kind.ALBUM)))


async def get_artist(req: RestRequest) -> ArtistView:
    page, size = _page_of(req)
    found: Artist = await music.artist(
        req.ctx, _id(req, Kind.ARTIST), music.page_request((page - 1) * size, size)
    )
    images = found.images
    return {
        "id": found.id.provider_id, "provider": found.id.provider.value,
        "mid": found.id.provider_id, "name": found.name,
        "avatar": images[0].url if images else "",
        "background": images[1].url if len(images) > 1 else "", "type": None,
        "description": found.description,
        "songs": _paged([song_view(s) for s in (found.songs.items if found.songs else ())],
                        found.songs, page, size),
        "albums": _paged([_album_ref(a) for a in (found.albums.items if found.albums else ())],
                         found.albums, page, size),
    }  # fmt: skip


async def get_playlist(req: RestRequest) -> PlaylistView:
    page, size = _page_of(req)
    found: Playlist = await music.playlist(
        req.ctx, _id(req, Kind.PLAYLIST), music.page_request((page - 1) * size, size)
    )
    creator = found.creator
    songs = found.songs
    return {
        "id": found.id.provider_id, "provider": found.id.provider.value, "title": found.title,
        "cover": _cover(found.images), "description": found.description,
        "creator": {"id": creator.id, "nickname": creator.name, "avatar": creator.avatar or ""}
        if creator else None,
        "songCount": found.song_count, "playCount": found.play_count or 0,
        "hasMore": songs.has_more if songs else False, "page": page, "pageSize": size,
        "songs": [song_view(s) for s in (songs.items if songs else ())],
    }  # fmt: skip


def chart_view(chart: Chart) -> ChartView:
    return {
        "id": chart.id.provider_id, "provider": chart.id.provider.value, "title": chart.title,
        "description": chart.description, "cover": _cover(chart.images), "period": chart.period,
        "updatedAt": chart.updated_at.isoformat() if chart.updated_at else None,
    }  # fmt: skip


async def list_charts(req: RestRequest) -> ChartList:
    return {"items": [chart_view(c) for c in await music.charts(req.ctx, req.path("provider"))]}


async def get_chart(req: RestRequest) -> ChartSongs:
    page, size = _page_of(req)
    found = await music.chart(
        req.ctx, _id(req, Kind.CHART), music.page_request((page - 1) * size, size)
    )
    songs = found.songs
    return {
        **chart_view(found),
        **_paged([song_view(s) for s in (songs.items if songs else ())], songs, page, size),
    }


async def stream(req: RestRequest) -> Response:
    """The local provider's audio (the token of a play URL); ``Range`` answers 206."""
    found = await music.stream(req.ctx, req.path("token"))
    return FileResponse(
        found.path, media_type=found.mime,
        headers={"Cache-Control": "private, max-age=600", "Accept-Ranges": "bytes"},
    )  # fmt: skip


async def cover(req: RestRequest) -> Response:
    found = await music.cover(req.ctx, req.path("id"))
    return Response(
        found.data, media_type=found.mime,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )  # fmt: skip
