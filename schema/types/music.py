"""GraphQL types of the music context. Ids are music ids (``provider:kind:providerId``),
which are the types' global ids (``node(id)`` resolves every one of them). Nested lists
are connections; a song's ``url`` (3 units) and ``lyrics`` (1 unit) are metered wherever
they appear in a document."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader

from domain.music import model
from domain.music.model import Kind, MusicId, PageRequest, Quality
from domain.music.ports import Capability
from domain.music.service import ProviderInfo
from resolvers import music
from resolvers.context import Context
from schema.describe import describe_values
from schema.info import CtxInfo
from schema.pagination import connection, lazy_edges, page_window
from schema.types.node import Node, PageInfo

MusicQuality = describe_values(
    strawberry.enum(
        Quality, name="MusicQuality", description="An audio quality (the original's names)."
    ),
    {
        "MP3_128": "MP3 at 128 kbit/s.",
        "MP3_320": "MP3 at 320 kbit/s.",
        "AAC_48": "AAC at 48 kbit/s.",
        "AAC_96": "AAC at 96 kbit/s.",
        "AAC_192": "AAC at 192 kbit/s.",
        "OGG_96": "Ogg Vorbis at 96 kbit/s.",
        "OGG_192": "Ogg Vorbis at 192 kbit/s.",
        "OGG_320": "Ogg Vorbis at 320 kbit/s.",
        "OGG_640": "Ogg Vorbis at 640 kbit/s.",
        "FLAC": "Lossless FLAC (CD quality).",
        "MASTER": "Hi-res lossless master (24-bit).",
        "ATMOS_2": "Dolby Atmos, stereo.",
        "ATMOS_51": "Dolby Atmos, 5.1 channels.",
        "ATMOS_71": "Dolby Atmos, 7.1 channels.",
        "DOLBY": "Dolby surround.",
        "DTS_X": "DTS:X surround.",
        "MFLAC": "FLAC in the provider's encrypted container.",
        "MOGG_320": "Ogg at 320 kbit/s in the provider's encrypted container.",
        "MOGG_640": "Ogg at 640 kbit/s in the provider's encrypted container.",
        "MMASTER": "Hi-res master in the provider's encrypted container.",
    },
)
UnavailableReason = describe_values(
    strawberry.enum(
        model.UnavailableReason, name="UnavailableReason", description="Why a song has no play URL."
    ),
    {
        "VIP_REQUIRED": "The provider plays it to its paying members only.",
        "NO_RIGHTS": "The provider may not play it here.",
        "QUALITY_UNAVAILABLE": "Neither the quality asked for nor a lower one is offered.",
    },
)
SearchType = describe_values(
    strawberry.enum(
        model.SearchType, name="MusicSearchType", description="What a music search looks for."
    ),
    {
        "SONG": "Songs.",
        "ALBUM": "Albums.",
        "ARTIST": "Artists.",
        "PLAYLIST": "Playlists.",
    },
)
ProviderName = describe_values(
    strawberry.enum(model.ProviderName, name="MusicProviderName", description="A music provider."),
    {
        "QQMUSIC": "QQ Music.",
        "NETEASE": "NetEase Cloud Music.",
        "LOCAL": "This server's own catalog (`karpov catalog`).",
    },
)
MusicCapability = describe_values(
    strawberry.enum(
        Capability, name="MusicCapability", description="An operation a music provider answers."
    ),
    {
        "SONG": "A song by id.",
        "SONGS": "Songs by ids, in one call.",
        "SEARCH": "Search.",
        "PLAY_URL": "Play URLs.",
        "LYRICS": "Lyrics.",
        "ALBUM": "Albums.",
        "ARTIST": "Artists.",
        "PLAYLIST": "Playlists.",
        "CHARTS": "Charts.",
    },
)


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
    name: ProviderName = strawberry.field(description="The provider.")  # type: ignore[valid-type]
    display_name: str = strawberry.field(description="Its name for people.")
    available: bool = strawberry.field(description="False: no client on this server.")
    capabilities: list[MusicCapability] = strawberry.field(description="The operations it answers.")  # type: ignore[valid-type]
    message: str | None = strawberry.field(description="Why it is not available, when it is not.")

    @classmethod
    def from_domain(cls, info: ProviderInfo) -> MusicProviderInfo:
        return cls(
            name=info.name, display_name=info.display_name, available=info.available,
            capabilities=list(info.capabilities), message=info.message,
        )  # fmt: skip


@strawberry.type(description="A picture (cover art, a portrait) at one size.")
class MusicImage:
    url: str = strawberry.field(description="Where the picture is.")
    width: int | None = strawberry.field(description="Its width in pixels, when known.")
    height: int | None = strawberry.field(description="Its height in pixels, when known.")


def _images(images: tuple[model.Image, ...]) -> list[MusicImage]:
    if not images:
        return []  # perf (issue 18): most refs have none; no comprehension to run
    return [MusicImage(url=i.url, width=i.width, height=i.height) for i in images]


@strawberry.type(description="A song's lyrics.")
class Lyrics:
    lrc: str = strawberry.field(description="Line-timed LRC (empty when there is none).")
    word_level: str = strawberry.field(description="Word-timed lyrics (QRC/YRC), decrypted.")
    translation: str = strawberry.field(description="A translation (LRC), or empty.")
    romanization: str = strawberry.field(description="A romanization (LRC), or empty.")

    @classmethod
    def from_domain(cls, lyrics: model.Lyrics) -> Lyrics:
        return cls(
            lrc=lyrics.lrc, word_level=lyrics.word_level, translation=lyrics.translation,
            romanization=lyrics.romanization,
        )  # fmt: skip


@strawberry.type(description="A playable audio file.")
class AudioResource:
    url: str = strawberry.field(description="Where to fetch it (until `expiresAt`).")
    quality: MusicQuality = strawberry.field(description="Its quality.")  # type: ignore[valid-type]
    quality_label: str = strawberry.field(description="Its quality for people (e.g. `320 kbps`).")
    format: str = strawberry.field(description="The file format: mp3, flac, ogg, m4a, mp4, wav…")
    expires_at: datetime = strawberry.field(
        description="When the URL stops working (at most 10 minutes away)."
    )
    size_bytes: int | None = strawberry.field(description="Its size, when known.")
    bitrate_kbps: int | None = strawberry.field(description="Its bitrate, when known.")


@strawberry.type(description="A play URL at the requested quality or the next lower one.")
class PlayUrl:
    song_id: strawberry.ID = strawberry.field(description="The song.")
    requested: MusicQuality = strawberry.field(description="The quality asked for.")  # type: ignore[valid-type]
    audio: AudioResource | None = strawberry.field(
        description="The audio to play; null when there is none (see `unavailableReason`)."
    )
    unavailable_reason: UnavailableReason | None = strawberry.field(  # type: ignore[valid-type]
        description="Why there is no audio; null when there is."
    )

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


@strawberry.type(description="A song of a music provider.")
class Song(Node):
    music_id: strawberry.Private[MusicId]
    title: str = strawberry.field(description="The song's title.")
    subtitle: str = strawberry.field(
        description="A second title (a version, a translation), or empty."
    )
    artists: list[Artist] = strawberry.field(description="Who performs it.")
    album: Album | None = strawberry.field(description="The album it is on, when known.")
    duration_ms: int = strawberry.field(description="Its length in milliseconds.")
    playable: bool = strawberry.field(description="Whether a play URL can be had here.")
    requires_vip: bool = strawberry.field(
        description="Whether the provider plays it to paying members only."
    )
    available_qualities: list[MusicQuality] = strawberry.field(  # type: ignore[valid-type]
        description="The qualities the provider offers it in."
    )
    isrc: str | None = strawberry.field(
        description="Its International Standard Recording Code, when known."
    )
    publish_date: date | None = strawberry.field(description="When it was published, when known.")
    track_number: int | None = strawberry.field(description="Its place on the album, when known.")
    images: list[MusicImage] = strawberry.field(
        description="Cover art, in the sizes the provider has."
    )

    @classmethod
    def from_domain(cls, song: model.Song) -> Song:
        """perf (issue 18): the song's plain values are set as the dataclass ``__init__``
        would set them; its artists, album, qualities and images (objects and lists a
        document seldom selects all of) are converted from ``song`` when first read
        (``_SONG_DERIVED``)."""
        found = object.__new__(cls)
        found.__dict__.update(
            id=strawberry.ID(str(song.id)), music_id=song.id, title=song.title,
            subtitle=song.subtitle, duration_ms=song.duration_ms, playable=song.playable,
            requires_vip=song.requires_vip, isrc=song.isrc, publish_date=song.publish_date,
            track_number=song.track_number, _domain=song,
        )  # fmt: skip
        return found

    @strawberry.field(description="A play URL (3 units), falling back to lower qualities.")
    async def url(
        self,
        info: CtxInfo,
        quality: Annotated[
            MusicQuality,  # type: ignore[valid-type]
            strawberry.argument(
                description="The quality wanted (a lower one is given when it is not offered)."
            ),
        ] = Quality.MP3_128,
    ) -> PlayUrl:
        return PlayUrl.from_domain(await music.url_of(info.context, self.music_id, quality))

    @strawberry.field(description="The song's lyrics (1 unit).")
    async def lyrics(self, info: CtxInfo) -> Lyrics:
        return Lyrics.from_domain(await music.lyrics_of(info.context, self.music_id))


class Derived:
    """A field of a strawberry object converted from its domain object (the instance's
    ``_domain``) when first read, then kept in the instance as the dataclass would have
    set it (a non-data descriptor: the instance's value, once there, is read first).
    Set on the class after strawberry made it (a class attribute there would be the
    field's default)."""

    __slots__ = ("convert", "name")

    def __init__(self, name: str, convert: Callable[[Any], Any]) -> None:
        self.name = name
        self.convert = convert

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.convert(instance._domain)
        return value


def derive_fields(cls: type, **converters: Callable[[Any], Any]) -> None:
    for name, convert in converters.items():
        setattr(cls, name, Derived(name, convert))


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


derive_fields(
    Song,
    artists=lambda song: [Artist.of_ref(a) for a in song.artists],
    album=lambda song: Album.of_ref(song.album) if song.album else None,
    available_qualities=lambda song: list(song.available_qualities),
    images=lambda song: _images(song.images),
)


def song_connection(page: model.Page[model.Song], offset: int) -> SongConnection:
    nodes = [Song.from_domain(s) for s in page.items]
    return connection(SongConnection, SongEdge, nodes, page, offset)  # type: ignore[arg-type]


@strawberry.type(description="An album of a music provider.")
class Album(Node):
    music_id: strawberry.Private[MusicId]
    loaded: strawberry.Private[model.Album | None]
    title: str = strawberry.field(description="The album's title.")
    release_date: date | None = strawberry.field(description="When it was released, when known.")
    images: list[MusicImage] = strawberry.field(description="Cover art.")

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

    @strawberry.field(description="Whose album it is.")
    async def artists(self, info: CtxInfo) -> list[Artist]:
        return [Artist.of_ref(a) for a in (await self._full(info)).artists]

    @strawberry.field(description="The provider's text about it.")
    async def description(self, info: CtxInfo) -> str:
        return (await self._full(info)).description

    @strawberry.field(description="How many songs it has.")
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


@strawberry.type(description="A performer at a music provider.")
class Artist(Node):
    music_id: strawberry.Private[MusicId]
    name: str = strawberry.field(description="The artist's name.")

    @classmethod
    def of_ref(cls, ref: model.ArtistRef) -> Artist:
        """perf (issue 18): a song's artists are made for every song a document reads
        (twenty per search page); the global id is written when first read
        (``derive_fields`` below), the plain values as the dataclass ``__init__`` sets them."""
        found = object.__new__(cls)
        found.__dict__.update(music_id=ref.id, name=ref.name, _domain=ref)
        return found

    @classmethod
    def from_domain(cls, artist: model.Artist) -> Artist:
        return cls(id=strawberry.ID(str(artist.id)), music_id=artist.id, name=artist.name)

    async def _page(self, info: CtxInfo, first: int, after: str | None) -> tuple[model.Artist, int]:
        offset = page_window(first, after)
        found = await info.context.services.music.artist(
            self.music_id, PageRequest(offset=offset, limit=first)
        )
        return found, offset

    @strawberry.field(description="Portraits.")
    async def images(self, info: CtxInfo) -> list[MusicImage]:
        found, _ = await self._page(info, 20, None)
        return _images(found.images)

    @strawberry.field(description="The artist's songs.")
    async def songs(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> SongConnection:
        found, offset = await self._page(info, first, after)
        page = found.songs or model.Page((), offset, 0, False)
        return song_connection(page, offset)

    @strawberry.field(description="The artist's albums.")
    async def albums(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> AlbumConnection:
        found, offset = await self._page(info, first, after)
        page = found.albums or model.Page((), offset, 0, False)
        nodes = [Album.of_ref(a) for a in page.items]
        return connection(AlbumConnection, AlbumEdge, nodes, page, offset)  # type: ignore[arg-type]


@strawberry.type(description="A playlist of a music provider.")
class Playlist(Node):
    music_id: strawberry.Private[MusicId]
    title: str = strawberry.field(description="The playlist's title.")
    description: str = strawberry.field(description="Its creator's text about it.")
    images: list[MusicImage] = strawberry.field(description="Cover art.")
    song_count: int = strawberry.field(description="How many songs it has.")
    play_count: int | None = strawberry.field(
        description="How often it was played, at the provider."
    )
    creator_name: str | None = strawberry.field(description="Who made it.")

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


@strawberry.type(description="A provider's chart (a ranked list of songs).")
class Chart(Node):
    music_id: strawberry.Private[MusicId]
    title: str = strawberry.field(description="The chart's title.")
    description: str = strawberry.field(description="The provider's text about it.")
    images: list[MusicImage] = strawberry.field(description="Cover art.")
    period: str | None = strawberry.field(
        description="The period it ranks (e.g. a week), as the provider names it."
    )
    updated_at: datetime | None = strawberry.field(description="When the provider last updated it.")

    @classmethod
    def from_domain(cls, chart: model.Chart) -> Chart:
        return cls(
            id=strawberry.ID(str(chart.id)), music_id=chart.id, title=chart.title,
            description=chart.description, images=_images(chart.images), period=chart.period,
            updated_at=chart.updated_at,
        )  # fmt: skip

    @strawberry.field(description="The ranked songs, best first.")
    async def songs(
        self, info: CtxInfo, first: int = 20, after: str | None = None
    ) -> SongConnection:
        offset = page_window(first, after)
        found = await info.context.services.music.chart(
            self.music_id, PageRequest(offset=offset, limit=first)
        )
        return song_connection(found.songs or model.Page((), offset, 0, False), offset)


MusicItem = Annotated[
    Song | Album | Artist | Playlist,
    strawberry.union("MusicItem", description="What a music search finds."),
]


derive_fields(Artist, id=lambda ref: strawberry.ID(str(ref.id)))


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


lazy_edges(MusicSearchConnection, SongConnection)


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
