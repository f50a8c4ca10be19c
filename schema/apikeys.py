"""GraphQL types of API keys, usage and rate limits."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import strawberry

from domain.apikeys import model
from domain.quota.gate import LimitKind, LimitState, RateLimit
from schema.accounts import Node
from schema.errors import UserError
from schema.scalars import to_global_id


@strawberry.enum
class ApiKeyStatus(Enum):
    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"
    REVOKED = "revoked"


@strawberry.type(description="An API key. Its secret is shown once, when created or rotated.")
class ApiKey(Node):
    raw_id: strawberry.Private[str]
    prefix: str = strawberry.field(description="The first characters of the key.")
    last4: str = strawberry.field(description="The last four characters of the key.")
    name: str
    description: str
    scopes: list[str] = strawberry.field(description="Empty means every scope.")
    ip_allowlist: list[str] = strawberry.field(description="Empty means any address.")
    rate_limit_rpm: int = strawberry.field(description="Requests per minute; 0 = no limit.")
    rate_limit_daily: int = strawberry.field(description="Requests per UTC day; 0 = no limit.")
    enabled: bool
    status: ApiKeyStatus
    total_requests: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    previous_key_expires_at: datetime | None = strawberry.field(
        description="After a rotation: until when the previous secret still works."
    )

    @classmethod
    def from_domain(cls, key: model.ApiKey, now: datetime) -> ApiKey:
        grace = key.previous_expires_at
        return cls(
            id=strawberry.ID(to_global_id("ApiKey", key.id)), raw_id=key.id,
            prefix=key.prefix, last4=key.last4, name=key.name, description=key.description,
            scopes=list(key.scopes), ip_allowlist=list(key.ip_allowlist),
            rate_limit_rpm=key.rate_limit_rpm, rate_limit_daily=key.rate_limit_daily,
            enabled=key.enabled, status=ApiKeyStatus(key.status(now).value),
            total_requests=key.total_requests, created_at=key.created_at,
            expires_at=key.expires_at, last_used_at=key.last_used_at,
            previous_key_expires_at=grace if grace is not None and grace > now else None,
        )  # fmt: skip


@strawberry.type(description="A key together with its secret: store the secret now.")
class IssuedApiKey:
    key: ApiKey
    plaintext: str = strawberry.field(description="The whole key; it is never shown again.")


@strawberry.input
class ApiKeyCreateInput:
    name: str
    description: str = ""
    scopes: list[str] = strawberry.field(default_factory=list)
    ip_allowlist: list[str] = strawberry.field(default_factory=list)
    rate_limit_rpm: int = 0
    rate_limit_daily: int = 0
    expires_at: datetime | None = None


@strawberry.input(description="Only the fields given change; expiresAt null removes it.")
class ApiKeyUpdateInput:
    api_key_id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    scopes: list[str] | None = strawberry.UNSET
    ip_allowlist: list[str] | None = strawberry.UNSET
    rate_limit_rpm: int | None = strawberry.UNSET
    rate_limit_daily: int | None = strawberry.UNSET
    expires_at: datetime | None = strawberry.UNSET


@strawberry.input
class ApiKeyIdInput:
    api_key_id: strawberry.ID


@strawberry.input
class ApiKeySetEnabledInput:
    api_key_id: strawberry.ID
    enabled: bool


@strawberry.input
class ApiKeyRotateInput:
    api_key_id: strawberry.ID
    grace_seconds: int = strawberry.field(
        default=86_400, description="How long the old secret keeps working (0 to 7 days)."
    )


@strawberry.type
class ApiKeyIssuePayload:
    issued: IssuedApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# -- usage and limits -------------------------------------------------------------------


@strawberry.type
class UsageSummary:
    day_used: int = strawberry.field(description="Units used today (local calendar).")
    month_used: int
    day_limit: int = strawberry.field(description="0 = unlimited (or everyone's totals).")
    month_limit: int
    date: date
    month: str


@strawberry.type
class UsageDay:
    date: date
    operation: str
    count: int
    units: int


@strawberry.type
class UsageHistory:
    days: list[UsageDay]
    total: int


@strawberry.type
class UsageRealtime:
    qpm: int
    qps: float
    avg_latency_ms: float
    max_latency_ms: float
    min_latency_ms: float
    total_today: int
    total_month: int
    success_rate: float
    error_count: int
    day_used: int
    day_limit: int
    month_used: int
    month_limit: int
    timestamp: datetime


@strawberry.enum
class LimitName(Enum):
    KEY_RPM = "key_rpm"
    KEY_DAILY = "key_daily"
    PLAN_QPS = "plan_qps"
    PLAN_DAILY = "plan_daily"
    PLAN_MONTHLY = "plan_monthly"


@strawberry.type(description="One limit the caller is measured against.")
class LimitStatus:
    name: LimitName
    limit: int
    remaining: int
    reset_after: float = strawberry.field(
        description="Seconds until the allowance is whole again, or the window ends."
    )
    window_seconds: int | None = strawberry.field(
        description="The rolling window of a rate (60 for per minute); null for calendar "
        "windows (day, month)."
    )

    @classmethod
    def from_domain(cls, state: LimitState) -> LimitStatus:
        limit = state.limit
        return cls(
            name=LimitName(LimitKind(limit.kind).value), limit=limit.limit,
            remaining=state.remaining, reset_after=round(state.reset_after, 3),
            window_seconds=round(limit.period) if isinstance(limit, RateLimit) else None,
        )  # fmt: skip


@strawberry.type
class RateLimitStatus:
    plan_id: str
    plan_name: str
    limits: list[LimitStatus]
