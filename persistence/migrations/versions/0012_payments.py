"""Payments: every provider callback as received (secrets redacted) with its verdict.

Revision ID: 0012_payments
Revises: 0009_billing
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_payments"
down_revision: str | Sequence[str] | None = "0009_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESULTS = "('received', 'fulfilled', 'failed', 'duplicate', 'pending', 'refused')"


def upgrade() -> None:
    op.create_table(
        "payment_callbacks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signature_ok", sa.Boolean(), nullable=False),
        sa.Column("processed", sa.Boolean(), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("provider_txn_id", sa.String(128), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(8), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.CheckConstraint(f"result IN {RESULTS}", name=op.f("ck_payment_callbacks_result")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_callbacks")),
    )
    op.create_index(
        op.f("ix_payment_callbacks_order_id_received_at"),
        "payment_callbacks",
        ["order_id", "received_at"],
    )
    op.create_index(op.f("ix_payment_callbacks_received_at"), "payment_callbacks", ["received_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_callbacks_received_at"), table_name="payment_callbacks")
    op.drop_index(op.f("ix_payment_callbacks_order_id_received_at"), table_name="payment_callbacks")
    op.drop_table("payment_callbacks")
