"""Plans: what a user's subscription allows. Keys inherit their owner's plan."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    name: str
    description: str
    price_cents: int
    currency: str
    period: str
    """monthly | yearly | lifetime"""
    qps: int
    daily_limit: int
    """Units per day in the configured time zone; 0 = unlimited."""
    monthly_limit: int
    """Units per month in the configured time zone; 0 = unlimited."""
    soft_limit_pct: int
    pay_as_you_go: bool
    overage_price_per_1k: int
    """Cents per 1,000 units beyond the monthly limit (pay-as-you-go plans)."""
    sort_order: int
    is_active: bool = True


# The original's REST catalog (billing.plans seed), the rows migration 0004 inserts.
DEFAULT_PLANS: tuple[Plan, ...] = (
    Plan("free", "Free", "For trying things out", 0, "CNY", "monthly",
         5, 100, 1_000, 80, False, 0, 0),
    Plan("basic", "Basic", "For small projects", 900, "CNY", "monthly",
         20, 1_000, 10_000, 80, True, 100, 1),
    Plan("pro", "Pro", "For production apps", 2_900, "CNY", "monthly",
         50, 5_000, 100_000, 80, True, 50, 2),
    Plan("enterprise", "Enterprise", "For heavy traffic", 9_900, "CNY", "monthly",
         200, 50_000, 1_000_000, 80, True, 20, 3),
)  # fmt: skip

FALLBACK_PLAN_ID = "free"
