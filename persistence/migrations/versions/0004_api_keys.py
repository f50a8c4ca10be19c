"""API keys and the plan catalog, seeded with the original's four REST plans.

Revision ID: 0004_api_keys
Revises: 0003_account_security
Create Date: 2026-12-18
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004_api_keys"
down_revision: str | Sequence[str] | None = "0003_account_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The original's billing.plans seed, inlined on purpose: a migration must insert the same
# rows forever, whatever domain/quota/plans.py says later (later changes are new revisions).
_PLAN_COLUMNS = (
    "id", "name", "description", "price_cents", "currency", "period", "qps",
    "daily_limit", "monthly_limit", "soft_limit_pct", "pay_as_you_go",
    "overage_price_per_1k", "sort_order", "is_active",
)  # fmt: skip
_SEED_PLANS = (
    ("free", "Free", "For trying things out", 0, "CNY", "monthly",
     5, 100, 1_000, 80, False, 0, 0, True),
    ("basic", "Basic", "For small projects", 900, "CNY", "monthly",
     20, 1_000, 10_000, 80, True, 100, 1, True),
    ("pro", "Pro", "For production apps", 2_900, "CNY", "monthly",
     50, 5_000, 100_000, 80, True, 50, 2, True),
    ("enterprise", "Enterprise", "For heavy traffic", 9_900, "CNY", "monthly",
     200, 50_000, 1_000_000, 80, True, 20, 3, True),
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(), nullable=False),
        sa.Column("previous_hash", sa.LargeBinary(), nullable=True),
        sa.Column("previous_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), server_default=sa.text("''"), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("ip_allowlist", sa.JSON(), nullable=False),
        sa.Column("rate_limit_rpm", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rate_limit_daily", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total_requests", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_keys_user_id_users"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_api_keys_previous_hash"), "api_keys", ["previous_hash"])
    op.create_index(
        op.f("ix_api_keys_user_id_created_at"), "api_keys", ["user_id", "created_at"]
    )

    plans = op.create_table(
        "plans",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), server_default=sa.text("''"), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("qps", sa.Integer(), nullable=False),
        sa.Column("daily_limit", sa.BigInteger(), nullable=False),
        sa.Column("monthly_limit", sa.BigInteger(), nullable=False),
        sa.Column("soft_limit_pct", sa.Integer(), nullable=False),
        sa.Column("pay_as_you_go", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "overage_price_per_1k", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.CheckConstraint(
            "period IN ('monthly', 'yearly', 'lifetime')", name=op.f("ck_plans_period")
        ),
        sa.CheckConstraint(
            "soft_limit_pct BETWEEN 0 AND 100", name=op.f("ck_plans_soft_limit_pct")
        ),
        sa.CheckConstraint(
            "qps >= 0 AND daily_limit >= 0 AND monthly_limit >= 0", name=op.f("ck_plans_limits")
        ),
    )
    assert plans is not None
    now = datetime.now(UTC)
    if op.get_context().dialect.name == "sqlite":
        # The application stores naive UTC text on SQLite (see UTCDateTime).
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        plans,
        [
            {**dict(zip(_PLAN_COLUMNS, row, strict=True)), "created_at": now, "updated_at": now}
            for row in _SEED_PLANS
        ],
    )


def downgrade() -> None:
    op.drop_table("plans")
    op.drop_index(op.f("ix_api_keys_user_id_created_at"), table_name="api_keys")
    op.drop_index(op.f("ix_api_keys_previous_hash"), table_name="api_keys")
    op.drop_table("api_keys")
