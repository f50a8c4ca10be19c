"""Billing: orders, wallets with their append-only ledger, billing settings, subscriptions.

Revision ID: 0009_billing
Revises: 0008_catalog
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_billing"
down_revision: str | Sequence[str] | None = "0008_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_STATUSES = "('pending', 'paying', 'paid', 'completed', 'failed', 'expired', 'canceled', 'refunded')"  # noqa: E501
LEDGER_KINDS = "('topup', 'subscription', 'overage', 'refund', 'adjust')"


def _owner(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "billing_orders",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment_provider", sa.String(32), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pay_url", sa.String(2048), server_default=sa.text("''"), nullable=False),
        sa.Column("success_url", sa.String(2048), server_default=sa.text("''"), nullable=False),
        sa.Column("provider_order_id", sa.String(128), nullable=True),
        sa.Column("provider_txn_id", sa.String(128), nullable=True),
        sa.Column("original_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("original_currency", sa.String(3), nullable=True),
        sa.Column("fx_rate", sa.String(64), nullable=True),
        sa.Column("refunded_minor", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(f"status IN {ORDER_STATUSES}", name=op.f("ck_billing_orders_status")),
        sa.CheckConstraint(
            "purpose IN ('subscription', 'topup')", name=op.f("ck_billing_orders_purpose")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_billing_orders_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_orders")),
        _owner("billing_orders"),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name=op.f("uq_billing_orders_user_id_key")
        ),
        sa.UniqueConstraint(
            "payment_provider", "provider_txn_id", name=op.f("uq_billing_orders_txn")
        ),
    )
    op.create_index(
        op.f("ix_billing_orders_user_id_created_at"), "billing_orders", ["user_id", "created_at"]
    )
    op.create_index(
        op.f("ix_billing_orders_status_expires_at"), "billing_orders", ["status", "expires_at"]
    )

    op.create_table(
        "wallets",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance_minor >= 0", name=op.f("ck_wallets_balance")),
        sa.PrimaryKeyConstraint("user_id", "currency", name=op.f("pk_wallets")),
        _owner("wallets"),
    )

    op.create_table(
        "ledger_entries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=True),
        sa.Column("reference", sa.String(200), server_default=sa.text("''"), nullable=False),
        sa.Column("description", sa.String(500), server_default=sa.text("''"), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.CheckConstraint(f"kind IN {LEDGER_KINDS}", name=op.f("ck_ledger_entries_kind")),
        sa.CheckConstraint(
            "balance_after_minor >= 0", name=op.f("ck_ledger_entries_balance_after")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
        _owner("ledger_entries"),
        sa.UniqueConstraint("id", name=op.f("uq_ledger_entries_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_ledger_entries_idempotency_key")),
    )
    op.create_index(op.f("ix_ledger_entries_order_id"), "ledger_entries", ["order_id"])
    op.create_index(op.f("ix_ledger_entries_user_id_seq"), "ledger_entries", ["user_id", "seq"])

    op.create_table(
        "billing_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_billing_settings")),
    )


    op.create_table(
        "subscriptions",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("current_period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("anchor_day", sa.Integer(), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grace_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_order_id", sa.String(32), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'canceled', 'expired', 'past_due')",
            name=op.f("ck_subscriptions_status"),
        ),
        sa.CheckConstraint(
            "period IN ('monthly', 'yearly', 'lifetime')", name=op.f("ck_subscriptions_period")
        ),
        sa.CheckConstraint(
            "source IN ('purchase', 'grant')", name=op.f("ck_subscriptions_source")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_subscriptions")),
        _owner("subscriptions"),
        sa.UniqueConstraint("id", name=op.f("uq_subscriptions_id")),
    )
    op.create_index(
        op.f("ix_subscriptions_status_current_period_end"),
        "subscriptions",
        ["status", "current_period_end"],
    )

    op.create_table(
        "invoices",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("buyer_email", sa.String(254), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payment_provider", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_invoices")),
        _owner("invoices"),
        sa.UniqueConstraint("id", name=op.f("uq_invoices_id")),
        sa.UniqueConstraint("order_id", name=op.f("uq_invoices_order_id")),
    )
    op.create_index(op.f("ix_invoices_user_id_seq"), "invoices", ["user_id", "seq"])

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("refund_type", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("idempotency_key", sa.String(160), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "refund_type IN ('full', 'partial')", name=op.f("ck_refunds_refund_type")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_refunds_amount")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        _owner("refunds"),
        sa.UniqueConstraint("order_id", "idempotency_key", name=op.f("uq_refunds_order_id_key")),
    )

    op.create_table(
        "extra_usage_settings",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("monthly_cap_minor", sa.BigInteger(), nullable=False),
        sa.Column("notify_threshold_pct", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("monthly_cap_minor >= 0", name=op.f("ck_extra_usage_settings_cap")),
        sa.CheckConstraint(
            "notify_threshold_pct BETWEEN 0 AND 100", name=op.f("ck_extra_usage_settings_notify")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_extra_usage_settings")),
        _owner("extra_usage_settings"),
    )
    op.create_table(
        "overage_months",
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("year_month", sa.String(7), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "year_month", name=op.f("pk_overage_months")),
        _owner("overage_months"),
    )
    op.create_table(
        "overage_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("year_month", sa.String(7), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("plan_id", sa.String(64), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overage_events")),
        _owner("overage_events"),
    )
    op.create_index(
        op.f("ix_overage_events_user_id_occurred_at"),
        "overage_events",
        ["user_id", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_overage_events_user_id_occurred_at"), table_name="overage_events")
    op.drop_table("overage_events")
    op.drop_table("overage_months")
    op.drop_table("extra_usage_settings")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_invoices_user_id_seq"), table_name="invoices")
    op.drop_table("invoices")
    op.drop_index(op.f("ix_subscriptions_status_current_period_end"), table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("billing_settings")
    op.drop_index(op.f("ix_ledger_entries_user_id_seq"), table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_order_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
    op.drop_table("wallets")
    op.drop_index(op.f("ix_billing_orders_status_expires_at"), table_name="billing_orders")
    op.drop_index(op.f("ix_billing_orders_user_id_created_at"), table_name="billing_orders")
    op.drop_table("billing_orders")
