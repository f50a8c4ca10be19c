"""Usage: raw usage events and their daily and monthly roll-ups per user and operation.

Revision ID: 0005_usage
Revises: 0004_api_keys
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_usage"
down_revision: str | Sequence[str] | None = "0004_api_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def _rollup_counters() -> list[sa.Column[int]]:
    return [
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "usage_events",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        # Deliberately no foreign key to api_keys (see persistence/sql/tables.py).
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.CheckConstraint("status IN ('ok', 'error')", name=op.f("ck_usage_events_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_events")),
        _owner_fk("usage_events"),
    )
    op.create_index(
        op.f("ix_usage_events_user_id_occurred_at"), "usage_events", ["user_id", "occurred_at"]
    )
    op.create_index(op.f("ix_usage_events_occurred_at"), "usage_events", ["occurred_at"])

    op.create_table(
        "usage_daily",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        *_rollup_counters(),
        sa.PrimaryKeyConstraint("user_id", "day", "operation", name=op.f("pk_usage_daily")),
        _owner_fk("usage_daily"),
    )
    op.create_index(op.f("ix_usage_daily_day"), "usage_daily", ["day"])

    op.create_table(
        "usage_monthly",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        *_rollup_counters(),
        sa.PrimaryKeyConstraint("user_id", "month", "operation", name=op.f("pk_usage_monthly")),
        _owner_fk("usage_monthly"),
    )
    op.create_index(op.f("ix_usage_monthly_month"), "usage_monthly", ["month"])


def downgrade() -> None:
    op.drop_table("usage_monthly")
    op.drop_table("usage_daily")
    op.drop_table("usage_events")
