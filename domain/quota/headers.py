"""Response headers describing the limits a request was measured against.

Both edges send the same set: the original's ``X-RateLimit-*`` (the key's requests per
minute) and ``X-Quota-*`` (the plan's daily and monthly units), and the IETF draft-10
``RateLimit-Policy`` / ``RateLimit`` fields listing every limit (``q`` quota, ``w``
window in seconds, ``r`` remaining, ``t`` seconds until the allowance is whole again or
the window ends).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from domain.quota.gate import CounterLimit, LimitKind, LimitState, RateLimit

_POLICY_NAMES = {
    LimitKind.KEY_RPM: "key-rpm",
    LimitKind.KEY_DAILY: "key-daily",
    LimitKind.PLAN_QPS: "plan-qps",
    LimitKind.PLAN_DAILY: "plan-daily",
    LimitKind.PLAN_MONTHLY: "plan-monthly",
}
_DAY = 86_400
_MONTH = 2_592_000  # 30 days: draft-10 windows are in seconds, a month is nominal


def _window(state: LimitState) -> int:
    limit = state.limit
    if isinstance(limit, RateLimit):
        return max(1, round(limit.period))
    return _MONTH if limit.kind is LimitKind.PLAN_MONTHLY else _DAY


def limit_headers(states: Sequence[LimitState], now: float) -> list[tuple[str, str]]:
    if not states:
        return []
    headers: list[tuple[str, str]] = []
    policies: list[str] = []
    live: list[str] = []
    for state in states:
        name = _POLICY_NAMES[state.limit.kind]
        reset = max(0, math.ceil(state.reset_after))
        remaining = max(0, state.remaining)
        policies.append(f'"{name}";q={state.limit.limit};w={_window(state)}')
        live.append(f'"{name}";r={remaining};t={reset}')
        match state.limit.kind:
            case LimitKind.KEY_RPM:
                headers += [
                    ("X-RateLimit-Limit", str(state.limit.limit)),
                    ("X-RateLimit-Remaining", str(remaining)),
                    ("X-RateLimit-Reset", str(math.ceil(now + state.reset_after))),
                ]
            case LimitKind.PLAN_DAILY | LimitKind.PLAN_MONTHLY:
                period = "Daily" if state.limit.kind is LimitKind.PLAN_DAILY else "Monthly"
                assert isinstance(state.limit, CounterLimit)
                headers += [
                    (f"X-Quota-{period}-Limit", str(state.limit.limit)),
                    (f"X-Quota-{period}-Remaining", str(remaining)),
                    (f"X-Quota-{period}-Reset", str(math.ceil(state.limit.resets_at))),
                ]
            case _:
                pass
    headers.append(("RateLimit-Policy", ", ".join(policies)))
    headers.append(("RateLimit", ", ".join(live)))
    return headers
