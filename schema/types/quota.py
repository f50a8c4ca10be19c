"""GraphQL types of the limits a caller is measured against (mirrors of ``domain.quota``)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.quota.gate import LimitKind
from domain.quota.service import LimitReport, QuotaStatus
from schema.describe import describe_values
from schema.mirror import Mirrored, mirror, mirror_enum
from schema.types.billing import PLAN_ID_DEPRECATED, PlanRef


@strawberry.enum(description="A limit a caller is measured against.")
class LimitName(Enum):
    KEY_RPM = "key_rpm"
    KEY_DAILY = "key_daily"
    PLAN_QPS = "plan_qps"
    PLAN_DAILY = "plan_daily"
    PLAN_MONTHLY = "plan_monthly"


describe_values(
    LimitName,
    {
        "KEY_RPM": "The API key's requests per minute.",
        "KEY_DAILY": "The API key's requests per day.",
        "PLAN_QPS": "The plan's requests per second.",
        "PLAN_DAILY": "The plan's units per day.",
        "PLAN_MONTHLY": "The plan's units per month.",
    },
)


mirror_enum(LimitKind, LimitName)


@mirror(
    LimitReport,
    name="LimitStatus",
    description="One limit the caller is measured against.",
    descriptions={
        "reset_after": "Seconds until the allowance is whole again, or the window ends.",
        "window_seconds": "The rolling window of a rate (60 for per minute); null for "
        "calendar windows (day, month).",
        "name": "Which limit.",
        "limit": "The allowance (requests or units).",
        "remaining": "What is left of it now.",
    },
)
class LimitStatus(Mirrored):
    pass


@mirror(
    QuotaStatus,
    name="RateLimitStatus",
    description="The limits the caller is measured against now, and what remains of them.",
    descriptions={
        "plan_id": "The caller's plan.",
        "plan_name": "The caller's plan's name.",
        "limits": "Each limit that applies, with what remains of it.",
    },
    deprecations={"plan_id": PLAN_ID_DEPRECATED, "plan_name": "Use `plan { name }`."},
)
class RateLimitStatus(PlanRef, Mirrored):
    pass
