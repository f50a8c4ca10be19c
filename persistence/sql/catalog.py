"""The local catalog in the SQL database (``domain.music.ports.CatalogStore``).

Songs are searched with the database's full-text search: SQLite's FTS5 table
``catalog_fts`` (prefix matches of every word, ranked by bm25), PostgreSQL's
``to_tsvector('simple', search_text)`` (GIN index) with prefix queries, ranked by
``ts_rank``. Albums, artists and playlists (short names) are matched by substring.

Every read of tracks is two queries whatever the number of tracks (the tracks with their
albums, then their artists), so a page of twenty songs costs what one does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.ids import new_id
from domain.music.catalog import (
    CatalogAlbum,
    CatalogArtist,
    CatalogPlaylist,
    CatalogTrack,
    Cover,
    ScannedTrack,
    name_key,
    search_words,
)
from persistence.sql.engine import is_sqlite, reader, writer
from persistence.sql.tables import (
    catalog_albums as albums,
)
from persistence.sql.tables import (
    catalog_artists as artists,
)
from persistence.sql.tables import (
    catalog_covers as covers,
)
from persistence.sql.tables import (
    catalog_playlist_tracks as playlist_tracks,
)
from persistence.sql.tables import (
    catalog_playlists as playlists,
)
from persistence.sql.tables import (
    catalog_track_artists as track_artists,
)
from persistence.sql.tables import (
    catalog_tracks as tracks,
)


def search_text(track: ScannedTrack) -> str:
    return " ".join([track.title, *track.artists, track.album or ""]).strip()


def _like(query: str) -> str:
    escaped = name_key(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_ALBUM_ARTIST = artists.alias("album_artist")
_COUNTED = tracks.alias("counted")
_TRACK_COUNT = (
    select(func.count())
    .select_from(_COUNTED)
    .where(_COUNTED.c.album_id == albums.c.id)
    .correlate(albums)
    .scalar_subquery()
    .label("n")
)


class SqlCatalogStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._reader = reader(engine)
        self._sqlite = is_sqlite(engine)
        self._insert: Any = sqlite.insert if self._sqlite else postgresql.insert

    # -- writes ---------------------------------------------------------------------------

    async def upsert_track(self, track: ScannedTrack, now: datetime) -> tuple[str, bool]:
        async with self._writer.begin() as conn:
            artist_ids = [await self._artist(conn, name) for name in dict.fromkeys(track.artists)]
            cover_id = await self._cover(conn, track.cover) if track.cover else None
            album_id = None
            if track.album:
                owner = track.album_artist or (track.artists[0] if track.artists else None)
                album_id = await self._album(conn, track.album, owner, track.year, cover_id)
            values = {
                "title": track.title, "album_id": album_id, "track_number": track.track_number,
                "year": track.year, "duration_ms": track.duration_ms, "format": track.format,
                "mime": track.mime, "size_bytes": track.size_bytes,
                "bitrate_kbps": track.bitrate_kbps, "lrc": track.lrc, "cover_id": cover_id,
                "isrc": track.isrc, "search_text": search_text(track), "updated_at": now,
            }  # fmt: skip
            existing = (
                await conn.execute(select(tracks.c.id).where(tracks.c.path == track.path))
            ).scalar_one_or_none()
            if existing is None:
                track_id = new_id()
                await conn.execute(
                    tracks.insert().values(id=track_id, path=track.path, added_at=now, **values)
                )
            else:
                track_id = existing
                await conn.execute(update(tracks).where(tracks.c.id == track_id).values(**values))
                await conn.execute(
                    delete(track_artists).where(track_artists.c.track_id == track_id)
                )
            if artist_ids:
                await conn.execute(
                    track_artists.insert(),
                    [{"track_id": track_id, "position": i, "artist_id": a}
                     for i, a in enumerate(artist_ids)],
                )  # fmt: skip
            if self._sqlite:
                await conn.execute(
                    text("DELETE FROM catalog_fts WHERE track_id = :id"), {"id": track_id}
                )
                await conn.execute(
                    text("INSERT INTO catalog_fts (track_id, title, artists, album) "
                         "VALUES (:id, :title, :artists, :album)"),
                    {"id": track_id, "title": track.title, "artists": " ".join(track.artists),
                     "album": track.album or ""},
                )  # fmt: skip
            return track_id, existing is None

    async def _artist(self, conn: AsyncConnection, name: str) -> str:
        key = name_key(name)
        await conn.execute(
            self._insert(artists)
            .values(id=new_id(), name=" ".join(name.split()), name_key=key)
            .on_conflict_do_nothing(index_elements=["name_key"])
        )
        found: str = (
            await conn.execute(select(artists.c.id).where(artists.c.name_key == key))
        ).scalar_one()
        return found

    async def _cover(self, conn: AsyncConnection, cover: Cover) -> str:
        await conn.execute(
            self._insert(covers)
            .values(id=cover.id, mime=cover.mime, data=cover.data)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return cover.id

    async def _album(
        self,
        conn: AsyncConnection,
        title: str,
        owner: str | None,
        year: int | None,
        cover_id: str | None,
    ) -> str:
        owner_id = await self._artist(conn, owner) if owner else None
        key = f"{name_key(title)}\x1f{name_key(owner or '')}"
        await conn.execute(
            self._insert(albums)
            .values(id=new_id(), title=" ".join(title.split()), artist_id=owner_id,
                    album_key=key, year=year, cover_id=cover_id)
            .on_conflict_do_nothing(index_elements=["album_key"])
        )  # fmt: skip
        album_id: str = (
            await conn.execute(select(albums.c.id).where(albums.c.album_key == key))
        ).scalar_one()
        changes: dict[str, Any] = {}
        if year is not None:
            changes["year"] = year
        if cover_id is not None:
            changes["cover_id"] = cover_id
        if changes:
            await conn.execute(update(albums).where(albums.c.id == album_id).values(**changes))
        return album_id

    async def upsert_playlist(
        self, path: str, title: str, track_paths: Sequence[str], now: datetime
    ) -> str:
        async with self._writer.begin() as conn:
            existing = (
                await conn.execute(select(playlists.c.id).where(playlists.c.path == path))
            ).scalar_one_or_none()
            playlist_id = existing or new_id()
            if existing is None:
                await conn.execute(
                    playlists.insert().values(id=playlist_id, path=path, title=title, added_at=now)
                )
            else:
                await conn.execute(
                    update(playlists).where(playlists.c.id == playlist_id).values(title=title)
                )
                await conn.execute(
                    delete(playlist_tracks).where(playlist_tracks.c.playlist_id == playlist_id)
                )
            by_path = dict(
                (
                    await conn.execute(
                        select(tracks.c.path, tracks.c.id).where(tracks.c.path.in_(track_paths))
                    )
                ).all()
            ) if track_paths else {}  # fmt: skip
            rows = [
                {"playlist_id": playlist_id, "position": i, "track_id": by_path[p]}
                for i, p in enumerate(p for p in track_paths if p in by_path)
            ]
            if rows:
                await conn.execute(playlist_tracks.insert(), rows)
            return playlist_id

    # -- tracks ---------------------------------------------------------------------------

    def _track_rows(self) -> Select[Any]:
        return (
            select(
                tracks, albums.c.title.label("album_title"), albums.c.year.label("album_year"),
                albums.c.cover_id.label("album_cover"), _TRACK_COUNT,
                _ALBUM_ARTIST.c.id.label("album_artist_id"),
                _ALBUM_ARTIST.c.name.label("album_artist_name"),
            )
            .select_from(
                tracks.outerjoin(albums, albums.c.id == tracks.c.album_id)
                .outerjoin(_ALBUM_ARTIST, _ALBUM_ARTIST.c.id == albums.c.artist_id)
            )
        )  # fmt: skip

    async def _load(self, conn: AsyncConnection, query: Select[Any]) -> list[CatalogTrack]:
        rows = (await conn.execute(query)).mappings().all()
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        credits: dict[str, list[CatalogArtist]] = {}
        for track_id, artist_id, name in await conn.execute(
            select(track_artists.c.track_id, artists.c.id, artists.c.name)
            .join(artists, artists.c.id == track_artists.c.artist_id)
            .where(track_artists.c.track_id.in_(ids))
            .order_by(track_artists.c.track_id, track_artists.c.position)
        ):
            credits.setdefault(track_id, []).append(CatalogArtist(artist_id, name))
        return [_track(r, tuple(credits.get(r["id"], ()))) for r in rows]

    async def tracks(self, ids: Sequence[str]) -> list[CatalogTrack]:
        if not ids:
            return []
        async with self._reader.connect() as conn:
            found = await self._load(conn, self._track_rows().where(tracks.c.id.in_(list(ids))))
        by_id = {t.id: t for t in found}
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    async def search_tracks(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        words = search_words(query)
        if not words:
            return [], 0
        async with self._reader.connect() as conn:
            if self._sqlite:
                match = " ".join(f'"{w}"*' for w in words)
                total = (
                    await conn.execute(
                        text("SELECT count(*) FROM catalog_fts WHERE catalog_fts MATCH :q"),
                        {"q": match},
                    )
                ).scalar_one()
                ranked = [
                    r[0]
                    for r in await conn.execute(
                        text("SELECT track_id FROM catalog_fts WHERE catalog_fts MATCH :q "
                             "ORDER BY rank LIMIT :limit OFFSET :offset"),
                        {"q": match, "limit": limit, "offset": offset},
                    )
                ]  # fmt: skip
                found = await self._load(conn, self._track_rows().where(tracks.c.id.in_(ranked)))
                by_id = {t.id: t for t in found}
                return [by_id[i] for i in ranked if i in by_id], int(total)
            vector = func.to_tsvector(literal_column("'simple'"), tracks.c.search_text)
            tsquery = func.to_tsquery(
                literal_column("'simple'"), " & ".join(f"{w}:*" for w in words)
            )
            matches: ColumnElement[bool] = vector.op("@@")(tsquery)
            total = (
                await conn.execute(select(func.count()).select_from(tracks).where(matches))
            ).scalar_one()
            page = (
                self._track_rows()
                .where(matches)
                .order_by(func.ts_rank(vector, tsquery).desc(), tracks.c.title, tracks.c.id)
                .offset(offset)
                .limit(limit)
            )
            return await self._load(conn, page), int(total)

    async def recent_tracks(self, offset: int, limit: int) -> tuple[list[CatalogTrack], int]:
        async with self._reader.connect() as conn:
            total = (await conn.execute(select(func.count()).select_from(tracks))).scalar_one()
            page = (
                self._track_rows()
                .order_by(tracks.c.added_at.desc(), tracks.c.title, tracks.c.id)
                .offset(offset)
                .limit(limit)
            )
            return await self._load(conn, page), int(total)

    # -- albums and artists -----------------------------------------------------------------

    def _album_rows(self) -> Select[Any]:
        return select(albums, _TRACK_COUNT, _ALBUM_ARTIST.c.name.label("artist_name")).select_from(
            albums.outerjoin(_ALBUM_ARTIST, _ALBUM_ARTIST.c.id == albums.c.artist_id)
        )

    async def _albums(
        self, where: ColumnElement[bool], offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]:
        async with self._reader.connect() as conn:
            total = (
                await conn.execute(
                    select(func.count())
                    .select_from(
                        albums.outerjoin(_ALBUM_ARTIST, _ALBUM_ARTIST.c.id == albums.c.artist_id)
                    )
                    .where(where)
                )
            ).scalar_one()
            rows = (
                await conn.execute(
                    self._album_rows().where(where).order_by(albums.c.title, albums.c.id)
                    .offset(offset).limit(limit)
                )
            ).mappings().all()  # fmt: skip
        return [_album(r) for r in rows], int(total)

    async def search_albums(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]:
        pattern = _like(query)
        where = or_(
            func.lower(albums.c.title).like(pattern, escape="\\"),
            _ALBUM_ARTIST.c.name_key.like(pattern, escape="\\"),
        )
        return await self._albums(where, offset, limit)

    async def album(self, id: str) -> CatalogAlbum | None:
        found, _ = await self._albums(albums.c.id == id, 0, 1)
        return found[0] if found else None

    async def album_tracks(self, id: str) -> list[CatalogTrack]:
        query = (
            self._track_rows()
            .where(tracks.c.album_id == id)
            .order_by(tracks.c.track_number.is_(None), tracks.c.track_number, tracks.c.title)
        )
        async with self._reader.connect() as conn:
            return await self._load(conn, query)

    async def search_artists(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogArtist], int]:
        where = artists.c.name_key.like(_like(query), escape="\\")
        async with self._reader.connect() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(artists).where(where))
            ).scalar_one()
            rows = await conn.execute(
                select(artists.c.id, artists.c.name).where(where)
                .order_by(artists.c.name_key).offset(offset).limit(limit)
            )  # fmt: skip
            return [CatalogArtist(i, n) for i, n in rows], int(total)

    async def artist(self, id: str) -> CatalogArtist | None:
        async with self._reader.connect() as conn:
            row = (
                await conn.execute(select(artists.c.id, artists.c.name).where(artists.c.id == id))
            ).first()
        return CatalogArtist(row[0], row[1]) if row else None

    async def artist_tracks(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        credited = select(track_artists.c.track_id).where(track_artists.c.artist_id == id)
        async with self._reader.connect() as conn:
            total = (
                await conn.execute(
                    select(func.count()).select_from(tracks).where(tracks.c.id.in_(credited))
                )
            ).scalar_one()
            page = (
                self._track_rows().where(tracks.c.id.in_(credited))
                .order_by(tracks.c.title, tracks.c.id).offset(offset).limit(limit)
            )  # fmt: skip
            return await self._load(conn, page), int(total)

    async def artist_albums(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]:
        return await self._albums(albums.c.artist_id == id, offset, limit)

    # -- playlists ------------------------------------------------------------------------

    async def _playlists(
        self, where: ColumnElement[bool], offset: int, limit: int
    ) -> tuple[list[CatalogPlaylist], int]:
        count = (
            select(func.count())
            .where(playlist_tracks.c.playlist_id == playlists.c.id)
            .scalar_subquery()
        )
        async with self._reader.connect() as conn:
            total = (
                await conn.execute(select(func.count()).select_from(playlists).where(where))
            ).scalar_one()
            rows = await conn.execute(
                select(playlists.c.id, playlists.c.title, count, playlists.c.added_at)
                .where(where).order_by(playlists.c.title, playlists.c.id)
                .offset(offset).limit(limit)
            )  # fmt: skip
            return [CatalogPlaylist(i, t, n, a) for i, t, n, a in rows], int(total)

    async def search_playlists(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogPlaylist], int]:
        where = func.lower(playlists.c.title).like(_like(query), escape="\\")
        return await self._playlists(where, offset, limit)

    async def playlist(self, id: str) -> CatalogPlaylist | None:
        found, _ = await self._playlists(playlists.c.id == id, 0, 1)
        return found[0] if found else None

    async def playlist_tracks(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        async with self._reader.connect() as conn:
            entries = (
                await conn.execute(
                    select(playlist_tracks.c.track_id)
                    .where(playlist_tracks.c.playlist_id == id)
                    .order_by(playlist_tracks.c.position)
                )
            ).scalars().all()  # fmt: skip
            window = list(entries[offset : offset + limit])
            found = await self._load(conn, self._track_rows().where(tracks.c.id.in_(window)))
        by_id = {t.id: t for t in found}
        return [by_id[i] for i in window if i in by_id], len(entries)

    async def cover(self, id: str) -> Cover | None:
        async with self._reader.connect() as conn:
            row = (
                await conn.execute(select(covers.c.mime, covers.c.data).where(covers.c.id == id))
            ).first()
        return Cover(id, row[0], bytes(row[1])) if row else None


def _album(row: Any) -> CatalogAlbum:
    owner = CatalogArtist(row["artist_id"], row["artist_name"]) if row["artist_id"] else None
    return CatalogAlbum(row["id"], row["title"], owner, row["year"], row["cover_id"], row["n"])


def _track(row: Any, credited: tuple[CatalogArtist, ...]) -> CatalogTrack:
    album = None
    if row["album_id"] is not None:
        owner = (
            CatalogArtist(row["album_artist_id"], row["album_artist_name"])
            if row["album_artist_id"]
            else None
        )
        album = CatalogAlbum(
            row["album_id"], row["album_title"], owner, row["album_year"], row["album_cover"],
            row["n"],
        )  # fmt: skip
    return CatalogTrack(
        id=row["id"], path=row["path"], title=row["title"], artists=credited, album=album,
        track_number=row["track_number"], year=row["year"], duration_ms=row["duration_ms"],
        format=row["format"], mime=row["mime"], size_bytes=row["size_bytes"],
        bitrate_kbps=row["bitrate_kbps"], lrc=row["lrc"], cover_id=row["cover_id"],
        isrc=row["isrc"], added_at=row["added_at"],
    )  # fmt: skip
