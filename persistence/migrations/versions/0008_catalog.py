"""Music: the local catalog (artists, covers, albums, tracks, playlists) and its
full-text search (SQLite FTS5 table, PostgreSQL GIN index over a tsvector).

Revision ID: 0008_catalog
Revises: 0007_pool
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_catalog"
down_revision: str | Sequence[str] | None = "0007_pool"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalog_artists",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("name_key", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_artists")),
        sa.UniqueConstraint("name_key", name=op.f("uq_catalog_artists_name_key")),
    )
    op.create_table(
        "catalog_covers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_covers")),
    )
    op.create_table(
        "catalog_albums",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("artist_id", sa.String(32), nullable=True),
        sa.Column("album_key", sa.String(1100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("cover_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_albums")),
        sa.ForeignKeyConstraint(["artist_id"], ["catalog_artists.id"],
                                name=op.f("fk_catalog_albums_artist_id_catalog_artists")),
        sa.ForeignKeyConstraint(["cover_id"], ["catalog_covers.id"],
                                name=op.f("fk_catalog_albums_cover_id_catalog_covers")),
        sa.UniqueConstraint("album_key", name=op.f("uq_catalog_albums_album_key")),
    )
    op.create_table(
        "catalog_tracks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(4096), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("album_id", sa.String(32), nullable=True),
        sa.Column("track_number", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("mime", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("bitrate_kbps", sa.Integer(), nullable=True),
        sa.Column("lrc", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("cover_id", sa.String(32), nullable=True),
        sa.Column("isrc", sa.String(32), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_tracks")),
        sa.ForeignKeyConstraint(["album_id"], ["catalog_albums.id"],
                                name=op.f("fk_catalog_tracks_album_id_catalog_albums")),
        sa.ForeignKeyConstraint(["cover_id"], ["catalog_covers.id"],
                                name=op.f("fk_catalog_tracks_cover_id_catalog_covers")),
        sa.UniqueConstraint("path", name=op.f("uq_catalog_tracks_path")),
    )
    op.create_index(op.f("ix_catalog_tracks_album_id"), "catalog_tracks", ["album_id"])
    op.create_index(op.f("ix_catalog_tracks_added_at"), "catalog_tracks", ["added_at"])
    op.create_table(
        "catalog_track_artists",
        sa.Column("track_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("artist_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("track_id", "position", name=op.f("pk_catalog_track_artists")),
        sa.ForeignKeyConstraint(["track_id"], ["catalog_tracks.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_track_artists_track_id_catalog_tracks")),
        sa.ForeignKeyConstraint(["artist_id"], ["catalog_artists.id"],
                                name=op.f("fk_catalog_track_artists_artist_id_catalog_artists")),
    )
    op.create_index(
        op.f("ix_catalog_track_artists_artist_id"), "catalog_track_artists", ["artist_id"]
    )
    op.create_table(
        "catalog_playlists",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(4096), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_playlists")),
        sa.UniqueConstraint("path", name=op.f("uq_catalog_playlists_path")),
    )
    op.create_table(
        "catalog_playlist_tracks",
        sa.Column("playlist_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("playlist_id", "position",
                                name=op.f("pk_catalog_playlist_tracks")),
        sa.ForeignKeyConstraint(
            ["playlist_id"], ["catalog_playlists.id"], ondelete="CASCADE",
            name=op.f("fk_catalog_playlist_tracks_playlist_id_catalog_playlists"),
        ),
        sa.ForeignKeyConstraint(["track_id"], ["catalog_tracks.id"], ondelete="CASCADE",
                                name=op.f("fk_catalog_playlist_tracks_track_id_catalog_tracks")),
    )
    op.create_index(
        op.f("ix_catalog_playlist_tracks_track_id"), "catalog_playlist_tracks", ["track_id"]
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE catalog_fts USING fts5("
            "track_id UNINDEXED, title, artists, album, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE INDEX ix_catalog_tracks_search ON catalog_tracks "
            "USING gin (to_tsvector('simple', search_text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS catalog_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_catalog_tracks_search")
    op.drop_table("catalog_playlist_tracks")
    op.drop_table("catalog_playlists")
    op.drop_table("catalog_track_artists")
    op.drop_table("catalog_tracks")
    op.drop_table("catalog_albums")
    op.drop_table("catalog_covers")
    op.drop_table("catalog_artists")
