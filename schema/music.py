"""GraphQL fields of the music context: every query of the /v1 music routes, plus
``musicProviders`` (each provider and its capabilities) and the music types in ``node``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.music.model import Kind, Quality
from resolvers import music
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.types.music import (
    Album,
    Artist,
    Chart,
    Lyrics,
    MusicItemEdge,
    MusicProviderInfo,
    MusicQuality,
    MusicSearchConnection,
    Playlist,
    PlayUrl,
    ProviderName,
    SearchType,
    Song,
    music_item,
)


@strawberry.type
class MusicQueries:
    @strawberry.field(description="Every music provider, whether it is available here, and "
                      "what it answers.")  # fmt: skip
    def music_providers(self, info: CtxInfo) -> list[MusicProviderInfo]:
        return [MusicProviderInfo.from_domain(p) for p in music.providers(info.context)]

    @strawberry.field(description="A song by its id (provider:song:id). 1 unit.")
    async def song(self, info: CtxInfo, id: strawberry.ID) -> Song | None:
        return Song.from_domain(await music.song(info.context, music.music_id(id, Kind.SONG)))

    @strawberry.field(description="Songs by id, in the order asked (null for unknown ids); "
                      "at most 100. 1 unit.")  # fmt: skip
    async def songs(
        self,
        info: CtxInfo,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description="Song ids (provider:song:id), at most 100."),
        ],
    ) -> list[Song | None] | None:
        wanted = [music.music_id(i, Kind.SONG, field="ids") for i in ids]
        found = await music.songs(info.context, wanted)
        return [Song.from_domain(s) if s else None for s in found]

    @strawberry.field(description="Search one provider (songs, albums, artists or "
                      "playlists). 1 unit.")  # fmt: skip
    async def search(
        self,
        info: CtxInfo,
        provider: Annotated[
            ProviderName,  # type: ignore[valid-type]
            strawberry.argument(description="The provider to search (see `musicProviders`)."),
        ],
        query: Annotated[
            str, strawberry.argument(description="What to look for (1 to 200 characters).")
        ],
        type: Annotated[
            SearchType, strawberry.argument(description="What kind of item to find.")  # type: ignore[valid-type]
        ] = SearchType.SONG,
        first: int = 20,
        after: str | None = None,
    ) -> MusicSearchConnection | None:
        offset = page_window(first, after)
        found = await music.search(
            info.context, provider, query, type, music.page_request(offset, first)
        )
        nodes = [music_item(i) for i in found.items]
        return connection(MusicSearchConnection, MusicItemEdge, nodes, found, offset)  # type: ignore[arg-type]

    @strawberry.field(description="A play URL for a song (the /v1 url route's twin). 3 units.")
    async def song_url(
        self,
        info: CtxInfo,
        id: strawberry.ID,
        quality: Annotated[
            MusicQuality,  # type: ignore[valid-type]
            strawberry.argument(
                description="The quality wanted (a lower one is given when it is not offered)."
            ),
        ] = Quality.MP3_128,
    ) -> PlayUrl | None:
        _, url = await music.song_url(info.context, music.music_id(id, Kind.SONG), quality)
        return PlayUrl.from_domain(url)

    @strawberry.field(description="A song's lyrics (the /v1 lyric route's twin). 1 unit.")
    async def song_lyrics(self, info: CtxInfo, id: strawberry.ID) -> Lyrics | None:
        _, lyrics = await music.song_lyrics(info.context, music.music_id(id, Kind.SONG))
        return Lyrics.from_domain(lyrics)

    @strawberry.field(description="An album with its songs. 1 unit.")
    async def album(self, info: CtxInfo, id: strawberry.ID) -> Album | None:
        return Album.from_domain(await music.album(info.context, music.music_id(id, Kind.ALBUM)))

    @strawberry.field(description="An artist. 1 unit.")
    async def artist(self, info: CtxInfo, id: strawberry.ID) -> Artist | None:
        found = await music.artist(
            info.context, music.music_id(id, Kind.ARTIST), music.page_request(0, 20)
        )
        return Artist.from_domain(found)

    @strawberry.field(description="A playlist; its songs are a connection. 1 unit.")
    async def playlist(self, info: CtxInfo, id: strawberry.ID) -> Playlist | None:
        found = await music.playlist(
            info.context, music.music_id(id, Kind.PLAYLIST), music.page_request(0, 20)
        )
        return Playlist.from_domain(found)

    @strawberry.field(description="A provider's charts. 1 unit.")
    async def charts(
        self,
        info: CtxInfo,
        provider: Annotated[
            ProviderName,  # type: ignore[valid-type]
            strawberry.argument(description="The provider (see `musicProviders`)."),
        ],
    ) -> list[Chart] | None:
        return [Chart.from_domain(c) for c in await music.charts(info.context, provider)]

    @strawberry.field(description="A chart; its songs are a connection. 1 unit.")
    async def chart(self, info: CtxInfo, id: strawberry.ID) -> Chart | None:
        found = await music.chart(
            info.context, music.music_id(id, Kind.CHART), music.page_request(0, 20)
        )
        return Chart.from_domain(found)
