"""Contract of ``CatalogStore`` (the local catalog), run against every implementation,
through the importer over generated files of every supported format: tags, duration,
embedded cover and ``.lrc`` sidecar; re-import updates and never duplicates; search by
title, artist and album (full-text on SQLite and PostgreSQL); albums, artists,
playlists and the newest-first chart."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.clock import ManualClock
from domain.music.catalog import CatalogImporter
from domain.music.ports import CatalogStore
from integrations.audio.scanner import MutagenScanner
from integrations.audio.synth import WRITERS, Tags, lrc, png
from persistence.sql.tables import catalog_artists, catalog_covers, catalog_tracks
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")

COVER = png((10, 20, 30))


def write_library(directory: Path) -> None:
    """One file per format; two share an album and the cover; one has a sidecar."""
    songs = [
        ("mp3", "Harbour Lights", ("Mira Sol",), "Coastlines", 1),
        ("flac", "Tidal Clock", ("Mira Sol", "Otto Vey"), "Coastlines", 2),
        ("ogg", "Glass Forest", ("Otto Vey",), "Woodland", 1),
        ("m4a", "Paper Moon", ("Lena Ruiz",), "Night Shift", 1),
        ("wav", "Salt Road", ("Mira Sol",), None, None),
    ]
    for kind, title, artists, album, track in songs:
        tags = Tags(title, artists, album, artists[0] if album else None, track, 2021,
                    cover_png=COVER if album == "Coastlines" else None)  # fmt: skip
        path = directory / f"{title}.{kind}"
        WRITERS[kind](path, tags, seconds=1.5)
    (directory / "Harbour Lights.lrc").write_text(lrc("Harbour Lights", ["one", "two"]))
    (directory / "notes.txt").write_text("not audio")
    (directory / "broken.mp3").write_bytes(b"not really an mp3")
    (directory / "Road_Trip.m3u").write_text("Salt Road.wav\nmissing.mp3\nHarbour Lights.mp3\n")


async def imported(backend: Backend, directory: Path) -> tuple[CatalogStore, CatalogImporter]:
    store = backend.adapters.catalog
    importer = CatalogImporter(
        store, MutagenScanner(), ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    )
    return store, importer


async def test_import_reads_every_format_and_reimport_updates(
    backend: Backend, tmp_path: Path
) -> None:
    write_library(tmp_path)
    store, importer = await imported(backend, tmp_path)
    report = await importer.import_directory(tmp_path)
    assert (report.added, report.updated, report.playlists) == (5, 0, 1)
    assert len(report.skipped) == 1 and "broken.mp3" in report.skipped[0]

    found, total = await store.search_tracks("", 0, 10)
    assert (found, total) == ([], 0)
    tracks, total = await store.recent_tracks(0, 10)
    assert total == 5
    by_title = {t.title: t for t in tracks}
    assert {t.format for t in tracks} == {"mp3", "flac", "ogg", "m4a", "wav"}
    harbour = by_title["Harbour Lights"]
    assert harbour.lrc.startswith("[ti:Harbour Lights]") and harbour.mime == "audio/mpeg"
    assert 1400 <= harbour.duration_ms <= 1600 and harbour.year == 2021
    assert harbour.album is not None and harbour.album.title == "Coastlines"
    assert harbour.album.track_count == 2
    tidal = by_title["Tidal Clock"]
    assert [a.name for a in tidal.artists] == ["Mira Sol", "Otto Vey"]
    assert tidal.cover_id == harbour.cover_id is not None  # one stored copy
    cover = await store.cover(harbour.cover_id)
    assert cover is not None and cover.data == COVER and cover.mime == "image/png"
    assert by_title["Salt Road"].album is None and by_title["Paper Moon"].format == "m4a"

    # Again, after a tag changed: the same rows, updated.
    live = Tags("Harbour Lights (Live)", ("Mira Sol",), "Coastlines", "Mira Sol", 1)
    WRITERS["mp3"](tmp_path / "Harbour Lights.mp3", live)
    again = await importer.import_directory(tmp_path)
    assert (again.added, again.updated) == (0, 5)
    tracks, total = await store.recent_tracks(0, 10)
    assert total == 5 and "Harbour Lights (Live)" in {t.title for t in tracks}
    [same] = [t for t in tracks if t.title.startswith("Harbour")]
    assert same.id == harbour.id
    if backend.engine is not None:
        async with backend.engine.connect() as conn:
            for table, rows in ((catalog_tracks, 5), (catalog_artists, 3), (catalog_covers, 1)):
                count = (await conn.execute(select(func.count()).select_from(table))).scalar()
                assert count == rows, table.name


async def test_search_by_title_artist_and_album(backend: Backend, tmp_path: Path) -> None:
    write_library(tmp_path)
    store, importer = await imported(backend, tmp_path)
    await importer.import_directory(tmp_path)

    async def titles(query: str) -> list[str]:
        found, total = await store.search_tracks(query, 0, 10)
        assert total == len(found)
        return sorted(t.title for t in found)

    assert await titles("tidal") == ["Tidal Clock"]
    assert await titles("TID") == ["Tidal Clock"]  # prefixes, any case
    assert await titles("otto") == ["Glass Forest", "Tidal Clock"]  # by artist
    assert await titles("coastlines") == ["Harbour Lights", "Tidal Clock"]  # by album
    assert await titles("mira coast") == ["Harbour Lights", "Tidal Clock"]  # every word
    assert await titles("nothing-like-this") == []
    assert await titles("'; DROP TABLE catalog_tracks; --") == []
    page, total = await store.search_tracks("mira", 1, 1)
    assert total == 3 and len(page) == 1

    albums, _ = await store.search_albums("coast", 0, 10)
    assert [a.title for a in albums] == ["Coastlines"] and albums[0].track_count == 2
    artists, _ = await store.search_artists("VEY", 0, 10)
    assert [a.name for a in artists] == ["Otto Vey"]
    playlists, _ = await store.search_playlists("road", 0, 10)
    assert [(p.title, p.track_count) for p in playlists] == [("Road Trip", 2)]


async def test_albums_artists_and_playlists(backend: Backend, tmp_path: Path) -> None:
    write_library(tmp_path)
    store, importer = await imported(backend, tmp_path)
    await importer.import_directory(tmp_path)
    [coast], _ = await store.search_albums("coastlines", 0, 1)
    songs = await store.album_tracks(coast.id)
    assert [t.title for t in songs] == ["Harbour Lights", "Tidal Clock"]
    assert coast.artist is not None and coast.artist.name == "Mira Sol"
    mira = coast.artist
    tracks, total = await store.artist_tracks(mira.id, 0, 10)
    assert total == 3 and {t.title for t in tracks} == {
        "Harbour Lights",
        "Tidal Clock",
        "Salt Road",
    }
    albums, _ = await store.artist_albums(mira.id, 0, 10)
    assert [a.title for a in albums] == ["Coastlines"]
    [trip], _ = await store.search_playlists("trip", 0, 1)
    entries, total = await store.playlist_tracks(trip.id, 0, 10)
    assert total == 2 and [t.title for t in entries] == ["Salt Road", "Harbour Lights"]
    second, _ = await store.playlist_tracks(trip.id, 1, 10)
    assert [t.title for t in second] == ["Harbour Lights"]
    assert await store.album("nope") is None and await store.artist("nope") is None
    assert await store.playlist("nope") is None and await store.cover("nope") is None
    assert await store.tracks(["nope"]) == []
    ids = [entries[1].id, "nope", entries[0].id]
    assert [t.title for t in await store.tracks(ids)] == ["Harbour Lights", "Salt Road"]
