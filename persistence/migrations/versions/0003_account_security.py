"""Account security: the audit log, one-time e-mail tokens, e-mail codes, and the
one-account-per-IP claim on users.

Revision ID: 0003_account_security
Revises: 0002_twofactor
Create Date: 2026-12-11
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_account_security"
down_revision: str | Sequence[str] | None = "0002_twofactor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot add a unique constraint in place: batch mode recreates the table.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("ip_claim", sa.String(64), nullable=True))
        batch.create_unique_constraint(op.f("uq_users_ip_claim"), ["ip_claim"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("subject_user_id", sa.String(32), nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"])
    op.create_index(op.f("ix_audit_events_created_at"), "audit_events", ["created_at"])
    op.create_index(op.f("ix_audit_events_actor"), "audit_events", ["actor"])
    op.create_index(op.f("ix_audit_events_subject_user_id"), "audit_events", ["subject_user_id"])

    op.create_table(
        "one_time_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_one_time_tokens")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_one_time_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_one_time_tokens_user_id"), "one_time_tokens", ["user_id"])

    op.create_table(
        "email_codes",
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_email_codes")),
    )


def downgrade() -> None:
    op.drop_table("email_codes")
    op.drop_table("one_time_tokens")
    op.drop_table("audit_events")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("uq_users_ip_claim"), type_="unique")
        batch.drop_column("ip_claim")
