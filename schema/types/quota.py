"""GraphQL types of the limits a caller is measured against (mirrors of ``domain.quota``)."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.quota.gate import LimitKind
from domain.quota.service import LimitReport, QuotaStatus
from schema.mirror import Mirrored, mirror, mirror_enum
from schema.types.billing import PLAN_ID_DEPRECATED, PlanRef


@strawberry.enum
class LimitName(Enum):
    KEY_RPM = "key_rpm"
    KEY_DAILY = "key_daily"
    PLAN_QPS = "plan_qps"
    PLAN_DAILY = "plan_daily"
    PLAN_MONTHLY = "plan_monthly"


mirror_enum(LimitKind, LimitName)


@mirror(
    LimitReport,
    name="LimitStatus",
    description="One limit the caller is measured against.",
    descriptions={
        "reset_after": "Seconds until the allowance is whole again, or the window ends.",
        "window_seconds": "The rolling window of a rate (60 for per minute); null for "
        "calendar windows (day, month).",
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
