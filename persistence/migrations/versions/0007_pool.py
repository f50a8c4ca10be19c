"""The credential pool: upstream accounts with payloads sealed by the key ring.

Revision ID: 0007_pool
Revises: 0006_oauth
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_pool"
down_revision: str | Sequence[str] | None = "0006_oauth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pool_credentials",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("payload_enc", sa.LargeBinary(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("health_score", sa.Float(), nullable=False),
        sa.Column("fail_count", sa.Integer(), nullable=False),
        sa.Column("cooldown_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("requests_per_second", sa.Integer(), nullable=False),
        sa.Column("refresh_queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'disabled', 'banned', 'expired')",
            name=op.f("ck_pool_credentials_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_credentials")),
    )
    op.create_index(op.f("ix_pool_credentials_provider"), "pool_credentials", ["provider"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pool_credentials_provider"), table_name="pool_credentials")
    op.drop_table("pool_credentials")
