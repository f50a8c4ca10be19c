"""Music resolvers, shared by GraphQL and /v1: id decoding, the caller check, and metering.

Every metered resolution claims its coordinate on the request's meter (``ctx.meter``,
handed out by the edge's gate with the reservation) before the provider is called and
settles it after, so a request is charged for what it resolved, with the provider in the
recorded operation (``local.song.url``). The weights are declared here, once: a play URL
costs 3 units, every other music query 1; a /v1 route is metered as its GraphQL twin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from domain.errors import InvalidInput, Unauthenticated
from domain.music.catalog import Cover, StreamFile
from domain.music.errors import UnknownMusicProvider
from domain.music.model import (
    Album,
    Artist,
    Chart,
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
)
from domain.music.service import ProviderInfo
from domain.quota.access import declare_scope
from domain.quota.metering import declare_metered, metered
from resolvers.context import Context

T = TypeVar("T")

MAX_IDS = 100

# -- what each music query costs (the original's weights) ----------------------------------
SONG = metered("song", "song")
SONGS = metered("songs", "songs")
SEARCH = metered("search", "search")
SONG_URL = metered("songUrl", "song.url", 3)
SONG_LYRICS = metered("songLyrics", "song.lyrics")
ALBUM = metered("album", "album")
ARTIST = metered("artist", "artist")
PLAYLIST = metered("playlist", "playlist")
CHARTS = metered("charts", "charts")
CHART = metered("chart", "chart")
# The same operations nested in any document (``search { nodes { url } }``).
declare_metered("Song.url", SONG_URL)
declare_metered("Song.lyrics", SONG_LYRICS)

MUSIC_FIELDS = (
    "song", "songs", "search", "songUrl", "songLyrics", "album", "artist", "playlist",
    "charts", "chart", "musicProviders",
)  # fmt: skip
for _field in MUSIC_FIELDS:
    declare_scope(_field, "music:read")


def provider_name(name: str) -> ProviderName:
    try:
        return ProviderName(name)
    except ValueError:
        raise UnknownMusicProvider(f"unknown music provider {name!r}") from None


def music_id(text: str, kind: Kind, *, field: str = "id", provider: str | None = None) -> MusicId:
    """A music id (``provider:kind:id``), or, with ``provider`` (the /v1 path), the
    provider's own id."""
    if provider is not None:
        name = provider_name(provider)
        if ":" not in text:
            if not text or len(text) > 128:
                raise InvalidInput(f"{field} is not a valid id", field=field)
            return MusicId(name, kind, text)
    return MusicId.parse(text, kind=kind, field=field)


def page_request(offset: int, limit: int) -> PageRequest:
    if limit < 1 or limit > 100:
        raise InvalidInput("page size must be between 1 and 100", field="first")
    if offset < 0:
        raise InvalidInput("offset must not be negative", field="after")
    return PageRequest(offset=offset, limit=limit)


def quality_of(text: str | None, *, field: str = "quality") -> Quality:
    if not text:
        return Quality.MP3_128
    try:
        return Quality(text.upper())
    except ValueError:
        raise InvalidInput(f"{field} is not a known quality", field=field) from None


def _signed_in(ctx: Context) -> None:
    if ctx.principal.user_id is None:
        raise Unauthenticated()


async def _metered(
    ctx: Context,
    coordinate: str,
    provider: ProviderName,
    call: Callable[[], Awaitable[T]],
    delivered: Callable[[T], bool] = lambda _: True,
) -> T:
    """``delivered``: whether the answer is what was paid for (a play URL that has no
    audio is answered, with its reason, but not charged)."""
    _signed_in(ctx)
    meter = ctx.meter
    if meter is None:
        return await call()
    claim = meter.claim(coordinate, provider)  # a StrEnum: formats as its value
    try:
        result = await call()
    except BaseException:
        meter.settle(claim, False)
        raise
    meter.settle(claim, delivered(result))
    return result


# -- root queries (both edges) ----------------------------------------------------------------


def providers(ctx: Context) -> list[ProviderInfo]:
    _signed_in(ctx)
    return ctx.services.music.providers()


async def song(ctx: Context, id: MusicId) -> Song:
    return await _metered(ctx, "song", id.provider, lambda: ctx.services.music.song(id))


async def songs(ctx: Context, ids: Sequence[MusicId]) -> list[Song | None]:
    if len(ids) > MAX_IDS:
        raise InvalidInput(f"at most {MAX_IDS} ids", field="ids")
    provider = ids[0].provider if ids else ProviderName.LOCAL
    return await _metered(ctx, "songs", provider, lambda: ctx.services.music.songs(ids))


async def search(
    ctx: Context, provider: str, query: str, type: SearchType, page: PageRequest
) -> Page[SearchItem]:
    name = provider_name(provider)
    return await _metered(
        ctx, "search", name, lambda: ctx.services.music.search(name, query, type, page)
    )


async def song_url(ctx: Context, id: MusicId, quality: Quality) -> tuple[Song, PlayUrl]:
    """The song and its play URL (one metered operation, as the original's route)."""

    async def both() -> tuple[Song, PlayUrl]:
        found = await ctx.services.music.song(id)
        return found, await ctx.services.music.play_url(id, quality)

    return await _metered(ctx, "songUrl", id.provider, both, lambda r: r[1].audio is not None)


async def song_lyrics(ctx: Context, id: MusicId) -> tuple[Song, Lyrics]:
    async def both() -> tuple[Song, Lyrics]:
        found = await ctx.services.music.song(id)
        return found, await ctx.services.music.lyrics(id)

    return await _metered(ctx, "songLyrics", id.provider, both)


async def album(ctx: Context, id: MusicId) -> Album:
    return await _metered(ctx, "album", id.provider, lambda: ctx.services.music.album(id))


async def artist(ctx: Context, id: MusicId, page: PageRequest) -> Artist:
    return await _metered(ctx, "artist", id.provider, lambda: ctx.services.music.artist(id, page))


async def playlist(ctx: Context, id: MusicId, page: PageRequest) -> Playlist:
    return await _metered(
        ctx, "playlist", id.provider, lambda: ctx.services.music.playlist(id, page)
    )


async def charts(ctx: Context, provider: str) -> list[Chart]:
    name = provider_name(provider)
    return await _metered(ctx, "charts", name, lambda: ctx.services.music.charts(name))


async def chart(ctx: Context, id: MusicId, page: PageRequest) -> Chart:
    return await _metered(ctx, "chart", id.provider, lambda: ctx.services.music.chart(id, page))


# -- nested fields (GraphQL) --------------------------------------------------------------------


async def url_of(ctx: Context, id: MusicId, quality: Quality) -> PlayUrl:
    return await _metered(
        ctx, "Song.url", id.provider, lambda: ctx.services.music.play_url(id, quality),
        lambda url: url.audio is not None,
    )  # fmt: skip


async def lyrics_of(ctx: Context, id: MusicId) -> Lyrics:
    return await _metered(ctx, "Song.lyrics", id.provider, lambda: ctx.services.music.lyrics(id))


async def unmetered_songs(ctx: Context, ids: Sequence[MusicId]) -> list[Song | None]:
    """Songs a document reaches through another object (a node, a play URL's song): part
    of the query that reached them."""
    _signed_in(ctx)
    return await ctx.services.music.songs(ids)


async def unmetered(ctx: Context, id: MusicId) -> Album | Artist | Playlist | Chart | None:
    """An album, artist, playlist or chart by id for ``node``, or ``None``."""
    _signed_in(ctx)
    music = ctx.services.music
    page = PageRequest()
    if id.kind is Kind.ALBUM:
        return await music.album(id)
    if id.kind is Kind.ARTIST:
        return await music.artist(id, page)
    if id.kind is Kind.PLAYLIST:
        return await music.playlist(id, page)
    if id.kind is Kind.CHART:
        return await music.chart(id, page)
    return None


# -- the local provider's files -------------------------------------------------------------


async def stream(ctx: Context, token: str) -> StreamFile:
    """The file behind a play URL (the token is the authorisation)."""
    return await ctx.services.local_media.stream(token)


async def cover(ctx: Context, cover_id: str) -> Cover:
    return await ctx.services.local_media.cover(cover_id)
