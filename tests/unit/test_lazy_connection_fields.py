"""A search page's edges and its songs' artists' ids are built when first read (issue 18):
what a document reads is what the eager construction gave."""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry

import schema  # noqa: F401  (the types are complete once the schema is)
from domain.music import model
from domain.paging import Page
from schema.pagination import connection, offset_cursor
from schema.types.music import (
    Artist,
    MusicItemEdge,
    MusicSearchConnection,
    SongConnection,
    SongEdge,
)


def _ref(n: int) -> model.ArtistRef:
    return model.ArtistRef(
        id=model.MusicId(model.ProviderName.LOCAL, model.Kind.ARTIST, f"artist{n}"),
        name=f"Artist {n}",
    )


def test_an_artist_of_a_reference_is_the_one_the_dataclass_makes() -> None:
    for n in range(3):
        ref = _ref(n)
        lazy = Artist.of_ref(ref)
        eager = Artist(id=strawberry.ID(str(ref.id)), music_id=ref.id, name=ref.name)
        assert lazy == eager  # the dataclass's equality reads every field, id included
        assert lazy.id == "local:artist:" + f"artist{n}" and lazy.name == ref.name
        assert (lazy.id, lazy.music_id, lazy.name) == (eager.id, eager.music_id, eager.name)
        assert dataclasses.astuple(lazy)[:3] == dataclasses.astuple(eager)[:3]


def test_lazy_edges_are_the_eager_edges() -> None:
    nodes = [Artist.of_ref(_ref(n)) for n in range(5)]
    for make, edge in ((MusicSearchConnection, MusicItemEdge), (SongConnection, SongEdge)):
        for offset, total in ((0, 5), (20, 100), (0, 0)):
            page = Page(nodes if total else [], total, 5, offset)
            items = nodes if total else []
            found: Any = connection(make, edge, items, page, offset)
            assert found.nodes == items and found.total_count == total
            assert [(e.cursor, e.node) for e in found.edges] == [
                (offset_cursor(offset + i), n) for i, n in enumerate(items)
            ]
            assert found.edges is found.edges  # built once, then kept
            assert type(found) is make
