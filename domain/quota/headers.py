"""Response headers describing the limits a request was measured against.

Every measured response carries the IETF draft-10 ``RateLimit-Policy`` / ``RateLimit``
fields listing every limit (``q`` quota, ``w`` window in seconds, ``r`` remaining, ``t``
seconds until the allowance is whole again or the window ends). A refusal adds the
original's ``X-RateLimit-*`` (the key's requests per minute) and ``X-Quota-*`` (the plan's
daily and monthly units). The original sent those only when it refused; sending them on
every success too would cost each API-key request nine more headers (the server spends
about a microsecond per header) for figures ``RateLimit`` already gives.

Built as raw (lower-case name, value) byte pairs, ready for an ASGI response: this runs on
every API-key request, so the constant parts are prepared once.
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
_QUOTA_NAMES = {
    LimitKind.PLAN_DAILY: (
        b"x-quota-daily-limit", b"x-quota-daily-remaining", b"x-quota-daily-reset"
    ),
    LimitKind.PLAN_MONTHLY: (
        b"x-quota-monthly-limit", b"x-quota-monthly-remaining", b"x-quota-monthly-reset"
    ),
}  # fmt: skip
_POLICY_CACHE_MAX = 10_000
_policies: dict[tuple[object, ...], bytes] = {}


def _window(state: LimitState) -> int:
    limit = state.limit
    if isinstance(limit, RateLimit):
        return max(1, round(limit.period))
    return _MONTH if limit.kind is LimitKind.PLAN_MONTHLY else _DAY


def _policy(states: Sequence[LimitState]) -> bytes:
    """``RateLimit-Policy`` only changes with the limits themselves: memoised."""
    key = tuple([s.limit for s in states])
    policy = _policies.get(key)
    if policy is None:
        policy = ", ".join(
            f'"{_POLICY_NAMES[s.limit.kind]}";q={s.limit.limit};w={_window(s)}' for s in states
        ).encode()
        if len(_policies) >= _POLICY_CACHE_MAX:
            _policies.clear()
        _policies[key] = policy
    return policy


def limit_header_pairs(
    states: Sequence[LimitState], now: float, *, refused: bool = False
) -> list[tuple[bytes, bytes]]:
    if not states:
        return []
    headers: list[tuple[bytes, bytes]] = []
    live: list[str] = []
    for state in states:
        limit = state.limit
        reset = max(0, math.ceil(state.reset_after))
        remaining = max(0, state.remaining)
        live.append(f'"{_POLICY_NAMES[limit.kind]}";r={remaining};t={reset}')
        if not refused:
            continue
        if limit.kind is LimitKind.KEY_RPM:
            headers += (
                (b"x-ratelimit-limit", b"%d" % limit.limit),
                (b"x-ratelimit-remaining", b"%d" % remaining),
                (b"x-ratelimit-reset", b"%d" % math.ceil(now + state.reset_after)),
            )
        elif isinstance(limit, CounterLimit) and limit.kind in _QUOTA_NAMES:
            names = _QUOTA_NAMES[limit.kind]
            headers += (
                (names[0], b"%d" % limit.limit),
                (names[1], b"%d" % remaining),
                (names[2], b"%d" % math.ceil(limit.resets_at)),
            )
    headers.append((b"ratelimit-policy", _policy(states)))
    headers.append((b"ratelimit", ", ".join(live).encode()))
    return headers


def limit_headers(
    states: Sequence[LimitState], now: float, *, refused: bool = False
) -> list[tuple[str, str]]:
    """The same headers as text pairs (for frameworks that take ``str``)."""
    pairs = limit_header_pairs(states, now, refused=refused)
    return [(name.decode(), value.decode()) for name, value in pairs]
