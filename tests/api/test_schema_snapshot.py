"""The committed SDL (schema/schema.graphql) is exactly what the code builds.

After an intended schema change, run `make schema` and commit the file."""

from __future__ import annotations

from schema.build import SDL_PATH, export_sdl


def test_committed_schema_matches_the_code() -> None:
    assert SDL_PATH.read_text() == export_sdl(), "schema changed: run `make schema`"
