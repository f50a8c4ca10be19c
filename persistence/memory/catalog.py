"""The local catalog in this process (unit tests, the in-process bundle): the same
contract as the SQL store, with word-prefix matching in place of full-text search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

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


@dataclass
class _Playlist:
    id: str
    title: str
    track_ids: list[str]
    added_at: datetime


class MemoryCatalogStore:
    def __init__(self) -> None:
        self._artists: dict[str, CatalogArtist] = {}  # by name key
        self._albums: dict[str, CatalogAlbum] = {}  # by album key
        self._tracks: dict[str, CatalogTrack] = {}  # by id
        self._paths: dict[str, str] = {}  # path -> track id
        self._covers: dict[str, Cover] = {}
        self._playlists: dict[str, _Playlist] = {}  # by path
        self.reads = 0
        """Calls that read tracks (tests count them)."""

    def _artist(self, name: str) -> CatalogArtist:
        key = name_key(name)
        found = self._artists.get(key)
        if found is None:
            found = self._artists[key] = CatalogArtist(new_id(), " ".join(name.split()))
        return found

    async def upsert_track(self, track: ScannedTrack, now: datetime) -> tuple[str, bool]:
        credited = tuple(self._artist(n) for n in dict.fromkeys(track.artists))
        cover_id = None
        if track.cover is not None:
            self._covers[track.cover.id] = track.cover
            cover_id = track.cover.id
        album = None
        if track.album:
            owner_name = track.album_artist or (track.artists[0] if track.artists else None)
            owner = self._artist(owner_name) if owner_name else None
            key = f"{name_key(track.album)}\x1f{name_key(owner_name or '')}"
            album = self._albums.get(key) or CatalogAlbum(
                new_id(), " ".join(track.album.split()), owner, None, None, 0
            )
            album = replace(
                album, year=track.year or album.year, cover_id=cover_id or album.cover_id
            )
            self._albums[key] = album
        existing = self._paths.get(track.path)
        track_id = existing or new_id()
        previous = self._tracks.get(track_id)
        self._tracks[track_id] = CatalogTrack(
            id=track_id, path=track.path, title=track.title, artists=credited, album=album,
            track_number=track.track_number, year=track.year, duration_ms=track.duration_ms,
            format=track.format, mime=track.mime, size_bytes=track.size_bytes,
            bitrate_kbps=track.bitrate_kbps, lrc=track.lrc, cover_id=cover_id, isrc=track.isrc,
            added_at=previous.added_at if previous else now,
        )  # fmt: skip
        self._paths[track.path] = track_id
        return track_id, existing is None

    async def upsert_playlist(
        self, path: str, title: str, track_paths: Sequence[str], now: datetime
    ) -> str:
        previous = self._playlists.get(path)
        ids = [self._paths[p] for p in track_paths if p in self._paths]
        playlist = _Playlist(previous.id if previous else new_id(), title, ids,
                             previous.added_at if previous else now)  # fmt: skip
        self._playlists[path] = playlist
        return playlist.id

    def _fresh(self, track: CatalogTrack) -> CatalogTrack:
        if track.album is None:
            return track
        current = next((a for a in self._albums.values() if a.id == track.album.id), track.album)
        count = sum(1 for t in self._tracks.values() if t.album and t.album.id == current.id)
        return replace(track, album=replace(current, track_count=count))

    async def tracks(self, ids: Sequence[str]) -> list[CatalogTrack]:
        self.reads += 1
        return [self._fresh(self._tracks[i]) for i in dict.fromkeys(ids) if i in self._tracks]

    async def search_tracks(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        self.reads += 1
        words = search_words(query)
        if not words:
            return [], 0

        def matches(track: CatalogTrack) -> bool:
            text = " ".join(
                [
                    track.title,
                    *(a.name for a in track.artists),
                    track.album.title if track.album else "",
                ]
            )
            have = search_words(text)
            return all(any(h.startswith(w) for h in have) for w in words)

        found = sorted((t for t in self._tracks.values() if matches(t)), key=lambda t: t.title)
        return [self._fresh(t) for t in found[offset : offset + limit]], len(found)

    def _counted(self, album: CatalogAlbum) -> CatalogAlbum:
        count = sum(1 for t in self._tracks.values() if t.album and t.album.id == album.id)
        return replace(album, track_count=count)

    async def search_albums(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]:
        key = name_key(query)
        found = sorted(
            (a for a in self._albums.values()
             if key in name_key(a.title) or (a.artist and key in name_key(a.artist.name))),
            key=lambda a: a.title,
        )  # fmt: skip
        return [self._counted(a) for a in found[offset : offset + limit]], len(found)

    async def album(self, id: str) -> CatalogAlbum | None:
        found = next((a for a in self._albums.values() if a.id == id), None)
        return self._counted(found) if found else None

    async def album_tracks(self, id: str) -> list[CatalogTrack]:
        self.reads += 1
        found = [t for t in self._tracks.values() if t.album and t.album.id == id]
        found.sort(key=lambda t: (t.track_number is None, t.track_number or 0, t.title))
        return [self._fresh(t) for t in found]

    async def search_artists(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogArtist], int]:
        key = name_key(query)
        found = sorted((a for k, a in self._artists.items() if key in k), key=lambda a: a.name)
        return found[offset : offset + limit], len(found)

    async def artist(self, id: str) -> CatalogArtist | None:
        return next((a for a in self._artists.values() if a.id == id), None)

    async def artist_tracks(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        self.reads += 1
        found = sorted(
            (t for t in self._tracks.values() if any(a.id == id for a in t.artists)),
            key=lambda t: (t.title, t.id),
        )
        return [self._fresh(t) for t in found[offset : offset + limit]], len(found)

    async def artist_albums(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogAlbum], int]:
        found = sorted(
            (a for a in self._albums.values() if a.artist and a.artist.id == id),
            key=lambda a: a.title,
        )
        return [self._counted(a) for a in found[offset : offset + limit]], len(found)

    def _view(self, playlist: _Playlist) -> CatalogPlaylist:
        return CatalogPlaylist(
            playlist.id, playlist.title, len(playlist.track_ids), playlist.added_at
        )

    async def search_playlists(
        self, query: str, offset: int, limit: int
    ) -> tuple[list[CatalogPlaylist], int]:
        key = name_key(query)
        found = sorted(
            (p for p in self._playlists.values() if key in name_key(p.title)),
            key=lambda p: p.title,
        )
        return [self._view(p) for p in found[offset : offset + limit]], len(found)

    async def playlist(self, id: str) -> CatalogPlaylist | None:
        found = next((p for p in self._playlists.values() if p.id == id), None)
        return self._view(found) if found else None

    async def playlist_tracks(
        self, id: str, offset: int, limit: int
    ) -> tuple[list[CatalogTrack], int]:
        self.reads += 1
        found = next((p for p in self._playlists.values() if p.id == id), None)
        if found is None:
            return [], 0
        window = found.track_ids[offset : offset + limit]
        return [self._fresh(self._tracks[i]) for i in window], len(found.track_ids)

    async def recent_tracks(self, offset: int, limit: int) -> tuple[list[CatalogTrack], int]:
        self.reads += 1
        found = sorted(self._tracks.values(), key=lambda t: (t.added_at, t.title), reverse=True)
        return [self._fresh(t) for t in found[offset : offset + limit]], len(found)

    async def cover(self, id: str) -> Cover | None:
        return self._covers.get(id)
