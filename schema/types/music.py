"""GraphQL types of the music context. Ids are music ids (``provider:kind:providerId``),
which are the types' global ids (``node(id)`` resolves every one of them). Nested lists
are connections; a song's ``url`` (3 units) and ``lyrics`` (1 unit) are metered wherever
they appear in a document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.dataloader import DataLoader

from domain.music import model
from domain.music.model import Kind, MusicId, PageRequest, Quality
from domain.music.ports import Capability
from domain.music.service import ProviderInfo
from resolvers import music
from resolvers.context import Context
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.types.node import Node, PageInfo

MusicQuality = strawberry.enum(Quality, name="MusicQuality")
UnavailableReason = strawberry.enum(model.UnavailableReason, name="UnavailableReason")
SearchType = strawberry.enum(model.SearchType, name="MusicSearchType")
ProviderName = strawberry.enum(model.ProviderName, name="MusicProviderName")
MusicCapability = strawberry.enum(Capability, name="MusicCapability")


def song_loader(ctx: Context) -> DataLoader[MusicId, model.Song | None]:
    """Songs reached through other objects, batched per request (one upstream call per
    provider for all of them)."""
    found = ctx.loaders.get("songs")
    if found is None:

        async def load(ids: list[MusicId]) -> list[model.Song | None]:
            return await music.unmetered_songs(ctx, ids)

        found = ctx.loaders["songs"] = DataLoader(load_fn=load)
    return found


@strawberry.type(name="MusicProvider", description="A music provider and what it answers.")
class MusicProviderInfo:
    name: ProviderName  # type: ignore[valid-type]
    display_name: str
    available: bool = strawberry.field(description="False: no client on this server.")
    capabilities: list[MusicCapability]  # type: ignore[valid-type]
    message: str | None

    @classmethod
    def from_domain(cls, info: ProviderInfo) -> MusicProviderInfo:
        return cls(
            name=info.name, display_name=info.display_name, available=info.available,
            capabilities=list(info.capabilities), message=info.message,
        )  # fmt: skip


@strawberry.type
class MusicImage:
    url: str
    width: int | None
    height: int | None


def _images(images: tuple[model.Image, ...]) -> list[MusicImage]:
    return [MusicImage(url=i.url, width=i.width, height=i.height) for i in images]


@strawberry.type
class Lyrics:
    lrc: str = strawberry.field(description="Line-timed LRC (empty when there is none).")
    word_level: str = strawberry.field(description="Word-timed lyrics (QRC/YRC), decrypted.")
    translation: str
    romanization: str

    @classmethod
    def from_domain(cls, lyrics: model.Lyrics) -> Lyrics:
        return cls(
            lrc=lyrics.lrc, word_level=lyrics.word_level, translation=lyrics.translation,
            romanization=lyrics.romanization,
        )  # fmt: skip


@strawberry.type
class AudioResource:
    url: str
    quality: MusicQuality  # type: ignore[valid-type]
    quality_label: str
    format: str
    expires_at: datetime
    size_bytes: int | None
    bitrate_kbps: int | None


@strawberry.type(description="A play URL at the requested quality or the next lower one.")
class PlayUrl:
    song_id: strawberry.ID
    requested: MusicQuality  # type: ignore[valid-type]
    audio: AudioResource | None
    unavailable_reason: UnavailableReason | None  # type: ignore[valid-type]

    @classmethod
    def from_domain(cls, url: model.PlayUrl) -> PlayUrl:
        audio = url.audio
        return cls(
            song_id=strawberry.ID(str(url.song_id)), requested=url.requested,
            audio=AudioResource(
                url=audio.url, quality=audio.quality, quality_label=audio.quality.label,
                format=audio.format, expires_at=audio.expires_at, size_bytes=audio.size_bytes,
                bitrate_kbps=audio.bitrate_kbps,
            ) if audio else None,
            unavailable_reason=url.unavailable_reason,
        )  # fmt: skip


@strawberry.type
class Song(Node):
    music_id: strawberry.Private[MusicId]
    title: str
    subtitle: str
    artists: list[Artist]
    album: Album | None
    duration_ms: int
    playable: bool
    requires_vip: bool
    available_qualities: list[MusicQuality]  # type: ignore[valid-type]
    isrc: str | None
    publish_date: date | None
    track_number: int | None
    images: list[MusicImage]

    @classmethod
    def from_domain(cls, song: model.Song) -> Song:
        return cls(
            id=strawberry.ID(str(song.id)), music_id=song.id, title=song.title,
            subtitle=song.subtitle, artists=[Artist.of_ref(a) for a in song.artists],
            album=Album.of_ref(song.album) if song.album else None,
            duration_ms=song.duration_ms, playable=song.playable,
            requires_vip=song.requires_vip, available_qualities=list(song.available_qualities),
            isrc=song.isrc, publish_date=song.publish_date, track_number=song.track_number,
            images=_images(song.images),
        )  # fmt: skip

    @strawberry.field(description="A play URL (3 units), falling back to lower qualities.")
    async def url(self, info: CtxInfo, quality: MusicQuality = Quality.MP3_128) -> PlayUrl:  # type: ignore[valid-type]
        return PlayUrl.from_domain(await music.url_of(info.context, self.music_id, quality))

    @strawberry.field(description="The song's lyrics (1 unit).")
    async def lyrics(self, info: CtxInfo) -> Lyrics:
        return Lyrics.from_domain(await music.lyrics_of(info.context, self.music_id))


@strawberry.type
class SongEdge:
    cursor: str
    node: Song


@strawberry.type
class SongConnection:
    edges: list[SongEdge]
    nodes: list[Song]
    total_count: int
    page_info: PageInfo


def song_connection(page: model.Page[model.Song], offset: int) -> SongConnection:
    nodes = [Song.from_domain(s) for s in page.items]
    return connection(SongConnection, SongEdge, nodes, page, offset)  # type: ignore[arg-type]


@strawberry.type
class Album(Node):
    music_id: strawberry.Private[MusicId]
    loaded: strawberry.Private[model.Album | None]
    title: str
    release_date: date | None
    images: list[MusicImage]

    @classmethod
    def from_domain(cls, album: model.Album) -> Album:
        return cls(
            id=strawberry.ID(str(album.id)), music_id=album.id, loaded=album, title=album.title,
            release_date=album.release_date, images=_images(album.images),
        )  # fmt: skip

    @classmethod
    def of_ref(cls, ref: model.AlbumRef) -> Album:
        return cls(
            id=strawberry.ID(str(ref.id)), music_id=ref.id, loaded=None, title=ref.title,
            release_date=ref.release_date, images=_images(ref.images),
        )  # fmt: skip

    async def _full(self, info: CtxInfo) -> model.Album:
        if self.loaded is None or (not self.loaded.songs and self.loaded.song_count):
            self.loaded = await info.context.services.music.album(self.music_id)
        return self.loaded

    @strawberry.field
    async def artists(self, info: CtxInfo) -> list[Artist]:
        return [Artist.of_ref(a) for a in (await self._full(info)).artists]

    @strawberry.field
    async def description(self, info: CtxInfo) -> str:
        return (await self._full(info)).description

    @strawberry.field
    async def song_count(self, info: CtxInfo) -> int:
        found = await self._full(info)
        return found.song_count if found.song_count is not None else len(found.songs)

    @strawberry.field(description="The album's songs, in order.")
    async def songs(
        self, info: CtxInfo, first: int = 50, after: str | None = None
    ) -> SongConnection:
        offset = page_window(first, after)
        found = await self._full(info)
        window = found.songs[offset : offset + first]
        page = model.Page(window, offset, len(found.songs), offset + len(window) < len(found.songs))
        return song_connection(page, offset)


@strawberry.type
class AlbumEdge:
    cursor: str
    node: Album


@strawberry.type
class AlbumConnection:
    edges: list[AlbumEdge]
    nodes: list[Album]
    total_count: int
    page_info: PageInfo


@strawberry.type
class Artist(Node):
    music_id: strawberry.Private[MusicId]
    name: str

    @classmethod
    def of_ref(cls, ref: model.ArtistRef) -> Artist:
        return cls(id=strawberry.ID(str(ref.id)), music_id=ref.id, name=ref.name)

    @classmethod
    def from_domain(cls, artist: model.Artist) -> Artist:
        return cls(id=strawberry.ID(str(artist.id)), music_id=artist.id, name=artist.name)

    async def _page(self, info: CtxInfo, first: int, after: str | None) -> tuple[model.Artist, int]:
        offset = page_window(first, after)
        found = await info.context.services.music.artist(
            self.music_id, PageRequest(offset=offset, limit=first)
        )
        return found, offset

    @strawberry.field
    async def images(self, info: CtxInfo) -> list[MusicImage]:
        found, _ = await self._page(info, 20, None)
        return _images(found.images)

    @strawberry.field
    async def songs(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> SongConnection:
        found, offset = await self._page(info, first, after)
        page = found.songs or model.Page((), offset, 0, False)
        return song_connection(page, offset)

    @strawberry.field
    async def albums(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> AlbumConnection:
        found, offset = await self._page(info, first, after)
        page = found.albums or model.Page((), offset, 0, False)
        nodes = [Album.of_ref(a) for a in page.items]
        return connection(AlbumConnection, AlbumEdge, nodes, page, offset)  # type: ignore[arg-type]


@strawberry.type
class Playlist(Node):
    music_id: strawberry.Private[MusicId]
    title: str
    description: str
    images: list[MusicImage]
    song_count: int
    play_count: int | None
    creator_name: str | None

    @classmethod
    def from_domain(cls, found: model.Playlist) -> Playlist:
        return cls(
            id=strawberry.ID(str(found.id)), music_id=found.id, title=found.title,
            description=found.description, images=_images(found.images),
            song_count=found.song_count, play_count=found.play_count,
            creator_name=found.creator.name if found.creator else None,
        )  # fmt: skip

    @strawberry.field(description="The playlist's songs, paged (all of them, unlike the original).")
    async def songs(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> SongConnection:
        offset = page_window(first, after)
        found = await info.context.services.music.playlist(
            self.music_id, PageRequest(offset=offset, limit=first)
        )
        return song_connection(found.songs or model.Page((), offset, 0, False), offset)


@strawberry.type
class Chart(Node):
    music_id: strawberry.Private[MusicId]
    title: str
    description: str
    images: list[MusicImage]
    period: str | None
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, chart: model.Chart) -> Chart:
        return cls(
            id=strawberry.ID(str(chart.id)), music_id=chart.id, title=chart.title,
            description=chart.description, images=_images(chart.images), period=chart.period,
            updated_at=chart.updated_at,
        )  # fmt: skip

    @strawberry.field
    async def songs(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> SongConnection:
        offset = page_window(first, after)
        found = await info.context.services.music.chart(
            self.music_id, PageRequest(offset=offset, limit=first)
        )
        return song_connection(found.songs or model.Page((), offset, 0, False), offset)


MusicItem = Annotated[Song | Album | Artist | Playlist, strawberry.union("MusicItem")]


@strawberry.type
class MusicItemEdge:
    cursor: str
    node: MusicItem


@strawberry.type
class MusicSearchConnection:
    edges: list[MusicItemEdge]
    nodes: list[MusicItem]
    total_count: int
    page_info: PageInfo


def music_item(item: model.SearchItem) -> Song | Album | Artist | Playlist:
    if isinstance(item, model.Song):
        return Song.from_domain(item)
    if isinstance(item, model.Album):
        return Album.from_domain(item)
    if isinstance(item, model.Artist):
        return Artist.from_domain(item)
    return Playlist.from_domain(item)


def music_node(value: object) -> Node | None:
    if isinstance(value, model.Song):
        return Song.from_domain(value)
    if isinstance(value, model.Album):
        return Album.from_domain(value)
    if isinstance(value, model.Artist):
        return Artist.from_domain(value)
    if isinstance(value, model.Playlist):
        return Playlist.from_domain(value)
    if isinstance(value, model.Chart):
        return Chart.from_domain(value)
    return None


async def music_node_of(ctx: Context, id: MusicId) -> Node | None:
    if id.kind is Kind.SONG:
        found = await song_loader(ctx).load(id)
        return Song.from_domain(found) if found else None
    return music_node(await music.unmetered(ctx, id))


MUSIC_NODE_TYPES = (Song, Album, Artist, Playlist, Chart)
