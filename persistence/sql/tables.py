"""SQLAlchemy Core tables: the single source of truth the Alembic migrations must match.

Constraint names come from a naming convention so that migrations (and SQLite batch mode,
which recreates tables and needs every constraint to have a name) are deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC on the way in and on the way out.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is stored as
    naive UTC text and re-labelled as UTC when read. Naive datetimes are rejected: an
    instant without a zone is a bug waiting for a server in another time zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


USER_STATUSES = ("active", "pending_email", "locked", "disabled", "banned")
USER_ROLES = ("user", "admin", "superadmin")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    # Stored as normalised (lower-case) by the repositories; unique decides races.
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=True),
    Column("status", String(20), nullable=False),
    Column("role", String(20), nullable=False),
    Column("plan_id", String(64), nullable=False, default="free", server_default=text("'free'")),
    Column("totp_enabled", Boolean, nullable=False, default=False, server_default=false()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime, nullable=True),
    Column("register_ip", String(64), nullable=True),
    # Set only under the one-account-per-IP rule; the unique constraint decides races.
    Column("ip_claim", String(64), nullable=True),
    UniqueConstraint("ip_claim", name="uq_users_ip_claim"),
    CheckConstraint(_one_of("status", USER_STATUSES), name="status"),
    CheckConstraint(_one_of("role", USER_ROLES), name="role"),
    # Keyset pagination and the admin list order (created_at DESC, id DESC).
    Index("ix_users_created_at_id", "created_at", "id"),
    Index("ix_users_role", "role"),
    Index("ix_users_status", "status"),
)


def _owner_column(*, index: bool = False, primary_key: bool = False) -> Column[str]:
    """``user_id`` of rows that belong to a user and go when the user goes."""
    return Column(
        "user_id",
        String(32),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
        primary_key=primary_key,
    )


sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    _owner_column(index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
)

key_versions = Table(
    "key_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    # The data key, sealed under the key encryption key (never stored in the clear).
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

user_totp = Table(
    "user_totp",
    metadata,
    _owner_column(primary_key=True),
    # Key-ring blobs, never plaintext.
    Column("secret_enc", LargeBinary, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("pending_secret_enc", LargeBinary, nullable=True),
    Column("pending_expires_at", UTCDateTime, nullable=True),
    Column("failed_attempts", Integer, nullable=False, default=0, server_default=text("0")),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

totp_recovery_codes = Table(
    "totp_recovery_codes",
    metadata,
    _owner_column(),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "code_hash"),
)

login_challenges = Table(
    "login_challenges",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    _owner_column(index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("attempts", Integer, nullable=False, default=0, server_default=text("0")),
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("action", String(64), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=True, index=True),
    # Not a foreign key: audit lines outlive the users they are about.
    Column("subject_user_id", String(32), nullable=True, index=True),
    Column("client_ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
    Column("details", JSON, nullable=False, default=dict),
)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("purpose", String(32), nullable=False),
    _owner_column(index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
)

email_codes = Table(
    "email_codes",
    metadata,
    Column("email", String(254), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0, server_default=text("0")),
)

# --- API keys and plans (issue 5) ------------------------------------------------------

PLAN_PERIODS = ("monthly", "yearly", "lifetime")

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    _owner_column(),
    # HMAC-SHA256 of the whole key: the per-request lookup is one unique-index probe.
    Column("key_hash", LargeBinary, nullable=False, unique=True),
    # After a rotation the old key's hash keeps working until previous_expires_at.
    Column("previous_hash", LargeBinary, nullable=True, index=True),
    Column("previous_expires_at", UTCDateTime, nullable=True),
    Column("prefix", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", String(2000), nullable=False, default="", server_default=text("''")),
    # JSON lists: the same on SQLite and PostgreSQL, and always read whole with the key.
    Column("scopes", JSON, nullable=False),
    Column("ip_allowlist", JSON, nullable=False),
    Column("rate_limit_rpm", Integer, nullable=False, default=0, server_default=text("0")),
    Column("rate_limit_daily", BigInteger, nullable=False, default=0, server_default=text("0")),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("total_requests", BigInteger, nullable=False, default=0, server_default=text("0")),
    # The owner's list, newest first; also serves the foreign key's cascade.
    Index("ix_api_keys_user_id_created_at", "user_id", "created_at"),
)

plans = Table(
    "plans",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("description", String(500), nullable=False, default="", server_default=text("''")),
    Column("price_cents", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period", String(16), nullable=False),
    Column("qps", Integer, nullable=False),
    Column("daily_limit", BigInteger, nullable=False),
    Column("monthly_limit", BigInteger, nullable=False),
    Column("soft_limit_pct", Integer, nullable=False),
    Column("pay_as_you_go", Boolean, nullable=False, default=False, server_default=false()),
    Column("overage_price_per_1k", BigInteger, nullable=False, default=0, server_default=text("0")),
    Column("sort_order", Integer, nullable=False, default=0, server_default=text("0")),
    Column("is_active", Boolean, nullable=False, default=True, server_default=true()),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint(_one_of("period", PLAN_PERIODS), name="period"),
    CheckConstraint("soft_limit_pct BETWEEN 0 AND 100", name="soft_limit_pct"),
    CheckConstraint("qps >= 0 AND daily_limit >= 0 AND monthly_limit >= 0", name="limits"),
)

# --- end of API keys and plans -----------------------------------------------------------

# --- Usage (issue 5) ------------------------------------------------------------------

USAGE_STATUSES = ("ok", "error")

usage_events = Table(
    "usage_events",
    metadata,
    # Chosen by the recorder, so a retried flush cannot count an event twice.
    Column("id", String(64), primary_key=True),
    _owner_column(),
    # Not a foreign key: a deleted key's past usage stays attributed to it, and deleting a
    # key must not scan (or update) this, the largest table.
    Column("key_id", String(32), nullable=True),
    Column("operation", String(64), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("local_day", Date, nullable=False),
    Column("latency_ms", Float, nullable=False),
    CheckConstraint(_one_of("status", USAGE_STATUSES), name="status"),
    # One user's recent calls; also serves the foreign key's cascade.
    Index("ix_usage_events_user_id_occurred_at", "user_id", "occurred_at"),
    # Everyone's recent calls, and pruning old events.
    Index("ix_usage_events_occurred_at", "occurred_at"),
)


def _rollup_counters() -> tuple[Column[int], Column[int], Column[int]]:
    """Successful calls, their summed weights, and failed calls (refunded, not counted)."""
    return (
        Column("count", BigInteger, nullable=False),
        Column("units", BigInteger, nullable=False),
        Column("errors", BigInteger, nullable=False),
    )


usage_daily = Table(
    "usage_daily",
    metadata,
    _owner_column(),
    Column("day", Date, nullable=False),  # the local day of the configured time zone
    Column("operation", String(64), nullable=False),
    *_rollup_counters(),
    PrimaryKeyConstraint("user_id", "day", "operation"),
    # Everyone's totals and history (the key serves one user's).
    Index("ix_usage_daily_day", "day"),
)

usage_monthly = Table(
    "usage_monthly",
    metadata,
    _owner_column(),
    Column("month", String(7), nullable=False),  # local "YYYY-MM"
    Column("operation", String(64), nullable=False),
    *_rollup_counters(),
    PrimaryKeyConstraint("user_id", "month", "operation"),
    Index("ix_usage_monthly_month", "month"),
)

# --- end of usage ----------------------------------------------------------------------

# == OAuth login (issue 6) ================================================================
# Linked provider accounts, and started flows for deployments without Redis.

oauth_identities = Table(
    "oauth_identities",
    metadata,
    Column("id", String(32), primary_key=True),
    _owner_column(),
    Column("provider", String(32), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("login", String(255), nullable=True),
    Column("email", String(320), nullable=True),
    Column("name", String(255), nullable=True),
    Column("avatar_url", String(2048), nullable=True),
    Column("trust_level", Integer, nullable=True),
    # Space-separated, as OAuth spells scopes.
    Column("scopes", String(1024), nullable=False, default="", server_default=text("''")),
    # Key-ring blobs (associated data oauth:<provider>:<subject>), never plaintext.
    Column("access_token_enc", LargeBinary, nullable=True),
    Column("refresh_token_enc", LargeBinary, nullable=True),
    Column("token_expires_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime, nullable=True),
    # Linking is by provider subject only; one account of each provider per user.
    UniqueConstraint("provider", "subject", name="uq_oauth_identities_provider_subject"),
    UniqueConstraint("user_id", "provider", name="uq_oauth_identities_user_id_provider"),
)

oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state_hash", String(64), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("intent", String(16), nullable=False),
    Column("binding_hash", String(64), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("next_url", String(2048), nullable=True),
    # Not a foreign key: a flow is a 15-minute note, gone long before any user could be.
    Column("user_id", String(32), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    CheckConstraint("intent IN ('login', 'bind')", name="intent"),
)

# == end of OAuth login ===================================================================

# == Billing (issue 14) ===================================================================
# Orders, wallets with their append-only ledger, and billing's settings documents.

ORDER_STATUSES = ("pending", "paying", "paid", "completed", "failed", "expired", "canceled",
                  "refunded")  # fmt: skip
ORDER_PURPOSES = ("subscription", "topup")
LEDGER_KINDS = ("topup", "subscription", "overage", "refund", "adjust")

billing_orders = Table(
    "billing_orders",
    metadata,
    Column("id", String(32), primary_key=True),
    _owner_column(),
    Column("purpose", String(16), nullable=False),
    # Not a foreign key: a deleted (inactive) plan stays; plans are never removed.
    Column("plan_id", String(64), nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("payment_provider", String(32), nullable=False),
    Column("idempotency_key", String(160), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("pay_url", String(2048), nullable=False, default="", server_default=text("''")),
    Column("success_url", String(2048), nullable=False, default="", server_default=text("''")),
    Column("provider_order_id", String(128), nullable=True),
    Column("provider_txn_id", String(128), nullable=True),
    Column("original_amount_minor", BigInteger, nullable=True),
    Column("original_currency", String(3), nullable=True),
    # A decimal as text: SQLite has no exact numeric type.
    Column("fx_rate", String(64), nullable=True),
    Column("refunded_minor", BigInteger, nullable=False, default=0, server_default=text("0")),
    CheckConstraint(_one_of("status", ORDER_STATUSES), name="status"),
    CheckConstraint(_one_of("purpose", ORDER_PURPOSES), name="purpose"),
    CheckConstraint("amount_minor > 0", name="amount"),
    # A key is the user's own; the unique constraint decides concurrent retries.
    UniqueConstraint("user_id", "idempotency_key", name="uq_billing_orders_user_id_key"),
    # A provider transaction completes one order at most.
    UniqueConstraint("payment_provider", "provider_txn_id", name="uq_billing_orders_txn"),
    Index("ix_billing_orders_user_id_created_at", "user_id", "created_at"),
    Index("ix_billing_orders_status_expires_at", "status", "expires_at"),
)

wallets = Table(
    "wallets",
    metadata,
    _owner_column(),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "currency"),
    CheckConstraint("balance_minor >= 0", name="balance"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(32), nullable=False, unique=True),
    _owner_column(),
    Column("currency", String(3), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("balance_after_minor", BigInteger, nullable=False),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("order_id", String(32), nullable=True, index=True),
    Column("reference", String(200), nullable=False, default="", server_default=text("''")),
    Column("description", String(500), nullable=False, default="", server_default=text("''")),
    Column("actor", String(64), nullable=True),
    CheckConstraint(_one_of("kind", LEDGER_KINDS), name="kind"),
    CheckConstraint("balance_after_minor >= 0", name="balance_after"),
    Index("ix_ledger_entries_user_id_seq", "user_id", "seq"),
)

billing_settings = Table(
    "billing_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

SUBSCRIPTION_STATUSES = ("active", "canceled", "expired", "past_due")

subscriptions = Table(
    "subscriptions",
    metadata,
    # One current subscription per user.
    _owner_column(primary_key=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("plan_id", String(64), nullable=False),
    Column("period", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("current_period_start", UTCDateTime, nullable=False),
    Column("current_period_end", UTCDateTime, nullable=True),
    Column("anchor_day", Integer, nullable=False),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("auto_renew", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("grace_until", UTCDateTime, nullable=True),
    Column("last_order_id", String(32), nullable=True),
    CheckConstraint(_one_of("status", SUBSCRIPTION_STATUSES), name="status"),
    CheckConstraint(_one_of("period", PLAN_PERIODS), name="period"),
    CheckConstraint("source IN ('purchase', 'grant')", name="source"),
    # The clock-driven sweep: live subscriptions whose period has ended.
    Index("ix_subscriptions_status_current_period_end", "status", "current_period_end"),
)

invoices = Table(
    "invoices",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(32), nullable=False, unique=True),
    _owner_column(),
    # One invoice per paid order.
    Column("order_id", String(32), nullable=False, unique=True),
    Column("buyer_email", String(254), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime, nullable=False),
    Column("payment_provider", String(32), nullable=False),
    Index("ix_invoices_user_id_seq", "user_id", "seq"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("order_id", String(32), nullable=False),
    _owner_column(),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("refund_type", String(16), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("idempotency_key", String(160), nullable=False),
    Column("operator", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("refund_type IN ('full', 'partial')", name="refund_type"),
    CheckConstraint("amount_minor > 0", name="amount"),
    UniqueConstraint("order_id", "idempotency_key", name="uq_refunds_order_id_key"),
)

extra_usage_settings = Table(
    "extra_usage_settings",
    metadata,
    _owner_column(primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("monthly_cap_minor", BigInteger, nullable=False),
    Column("notify_threshold_pct", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=True),
    CheckConstraint("monthly_cap_minor >= 0", name="cap"),
    CheckConstraint("notify_threshold_pct BETWEEN 0 AND 100", name="notify"),
)

overage_months = Table(
    "overage_months",
    metadata,
    _owner_column(),
    Column("year_month", String(7), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("units", BigInteger, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "year_month"),
)

overage_events = Table(
    "overage_events",
    metadata,
    Column("id", String(32), primary_key=True),
    _owner_column(),
    Column("year_month", String(7), nullable=False),
    Column("operation", String(64), nullable=False),
    Column("plan_id", String(64), nullable=False),
    Column("units", Integer, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Index("ix_overage_events_user_id_occurred_at", "user_id", "occurred_at"),
)

# == end of billing =======================================================================
# == music: the local catalog (issue 13) ===================================================
# Imported audio files, their artists, albums, covers and playlists. Full-text search:
# SQLite's FTS5 table ``catalog_fts`` and PostgreSQL's GIN index over
# ``to_tsvector('simple', search_text)`` are made by the migration (neither is a plain
# table this metadata can describe).

catalog_artists = Table(
    "catalog_artists",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(512), nullable=False),
    # lower-cased, whitespace collapsed: one row per artist however the tags spell it
    Column("name_key", String(512), nullable=False, unique=True),
)

catalog_covers = Table(
    "catalog_covers",
    metadata,
    Column("id", String(32), primary_key=True),  # SHA-256 of the image, hex
    Column("mime", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
)

catalog_albums = Table(
    "catalog_albums",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(512), nullable=False),
    Column("artist_id", String(32), ForeignKey("catalog_artists.id"), nullable=True),
    Column("album_key", String(1100), nullable=False, unique=True),
    Column("year", Integer, nullable=True),
    Column("cover_id", String(32), ForeignKey("catalog_covers.id"), nullable=True),
)

catalog_tracks = Table(
    "catalog_tracks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("path", String(4096), nullable=False, unique=True),
    Column("title", String(512), nullable=False),
    Column("album_id", String(32), ForeignKey("catalog_albums.id"), nullable=True, index=True),
    Column("track_number", Integer, nullable=True),
    Column("year", Integer, nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("format", String(16), nullable=False),
    Column("mime", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("bitrate_kbps", Integer, nullable=True),
    Column("lrc", Text, nullable=False, default="", server_default=text("''")),
    Column("cover_id", String(32), ForeignKey("catalog_covers.id"), nullable=True),
    Column("isrc", String(32), nullable=True),
    # "title artists album", what the full-text search reads
    Column("search_text", Text, nullable=False),
    Column("added_at", UTCDateTime, nullable=False, index=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

catalog_track_artists = Table(
    "catalog_track_artists",
    metadata,
    Column(
        "track_id", String(32), ForeignKey("catalog_tracks.id", ondelete="CASCADE"), nullable=False
    ),
    Column("position", Integer, nullable=False),
    Column("artist_id", String(32), ForeignKey("catalog_artists.id"), nullable=False, index=True),
    PrimaryKeyConstraint("track_id", "position"),
)

catalog_playlists = Table(
    "catalog_playlists",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("path", String(4096), nullable=False, unique=True),
    Column("title", String(512), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

catalog_playlist_tracks = Table(
    "catalog_playlist_tracks",
    metadata,
    Column(
        "playlist_id",
        String(32),
        ForeignKey("catalog_playlists.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column(
        "track_id",
        String(32),
        ForeignKey("catalog_tracks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    PrimaryKeyConstraint("playlist_id", "position"),
)

# == end of music =========================================================================
# == credential pool (issue 13) ==========================================================
# Upstream accounts; the payload is a key-ring blob (associated data pool:<id>), never
# plaintext. ``refreshing`` is not a stored status (the refresh lock shows it).

pool_credentials = Table(
    "pool_credentials",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("provider", String(32), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("payload_enc", LargeBinary, nullable=False),
    # The capabilities it may serve, as a JSON list; empty: every capability.
    Column("capabilities", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("health_score", Float, nullable=False),
    Column("fail_count", Integer, nullable=False),
    Column("cooldown_until", UTCDateTime, nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("last_failed_at", UTCDateTime, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("max_concurrency", Integer, nullable=False),
    Column("requests_per_second", Integer, nullable=False),
    Column("refresh_queued_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # worker (issue 17): failed health checks in a row (the third disables it)
    Column("check_failures", Integer, nullable=False, default=0, server_default=text("0")),
    CheckConstraint("status IN ('active', 'disabled', 'banned', 'expired')", name="status"),
)

# == end of credential pool ===============================================================
# == worker (issue 17): scheduled jobs and the mail outbox ===============================
# ``job_states``: one row per scheduled job (its last run, counters, and the last claimed
# tick, which makes a tick run once across processes without Redis); ``job_failures``:
# runs that failed on their last try. ``mail_outbox``: mails written in the unit of work
# that causes them; the message is a key-ring blob (associated data mail-outbox:<id>).

job_states = Table(
    "job_states",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("last_tick", BigInteger, nullable=True),
    Column("last_run_at", UTCDateTime, nullable=True),
    Column("last_duration_ms", Integer, nullable=True),
    Column("last_outcome", String(16), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_detail", String(500), nullable=True),
    Column("next_run_at", UTCDateTime, nullable=True),
    Column("runs", Integer, nullable=False, default=0, server_default=text("0")),
    Column("failures", Integer, nullable=False, default=0, server_default=text("0")),
)

job_failures = Table(
    "job_failures",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False, index=True),
    Column("failed_at", UTCDateTime, nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
)

mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("recipient", String(254), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0, server_default=text("0")),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
)

# == end of worker ========================================================================

# == Payments (issue 16) ===================================================================
# Every payment callback as received (secrets redacted) with its verdict.

CALLBACK_RESULTS = ("received", "fulfilled", "failed", "duplicate", "pending", "refused")

payment_callbacks = Table(
    "payment_callbacks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("provider", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("client_ip", String(64), nullable=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("signature_ok", Boolean, nullable=False),
    Column("processed", Boolean, nullable=False),
    Column("result", String(16), nullable=False),
    Column("error", String(500), nullable=True),
    # Not a foreign key: a callback for an unknown order is kept too.
    Column("order_id", String(64), nullable=True),
    Column("provider_txn_id", String(128), nullable=True),
    Column("amount_minor", BigInteger, nullable=True),
    Column("currency", String(8), nullable=True),
    Column("late", Boolean, nullable=False),
    CheckConstraint(_one_of("result", CALLBACK_RESULTS), name="result"),
    Index("ix_payment_callbacks_order_id_received_at", "order_id", "received_at"),
    Index("ix_payment_callbacks_received_at", "received_at"),
)

# == end of payments ======================================================================

REFERENCE_TABLES = ("plans",)
"""Tables whose rows the migrations seed (the plan catalog): not user data."""

APP_TABLES = tuple(
    table.name for table in metadata.sorted_tables if table.name not in REFERENCE_TABLES
)
"""Every table of user data, parents first (for TRUNCATE in tests and admin tooling)."""
