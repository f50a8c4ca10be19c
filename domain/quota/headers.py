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
from dataclasses import dataclass
from operator import attrgetter

from domain.quota.gate import CounterLimit, Limit, LimitKind, LimitState, RateLimit

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
_FORMATS_MAX = 10_000
_LIMIT = attrgetter("limit")


@dataclass(frozen=True, slots=True)
class _Format:
    """What the headers of one list of limits share on every request."""

    limits: tuple[Limit, ...]
    """Kept so that the ids in the cache's key stay theirs (an id is reused only after
    its object is freed)."""
    policy: bytes
    """The whole ``RateLimit-Policy`` value: it only changes with the limits."""
    names: tuple[str, ...]
    """``"key-rpm"``, … per limit, as ``RateLimit`` names them."""


_formats: dict[tuple[int, ...], _Format] = {}


def _window(limit: Limit) -> int:
    if isinstance(limit, RateLimit):
        return max(1, round(limit.period))
    return _MONTH if limit.kind is LimitKind.PLAN_MONTHLY else _DAY


def _format_of(states: Sequence[LimitState]) -> _Format:
    """Memoised by the limits' identities: the quota service hands out the same limit
    objects to every request of a caller (until a calendar bucket ends), and hashing
    them by value (dataclasses, enums) would cost more than building the headers."""
    key = tuple(map(id, map(_LIMIT, states)))  # (no Python-level call per limit)
    found = _formats.get(key)
    if found is None:
        limits = tuple([s.limit for s in states])
        names = tuple([_POLICY_NAMES[limit.kind] for limit in limits])
        policy = ", ".join(
            f'"{name}";q={limit.limit};w={_window(limit)}'
            for name, limit in zip(names, limits, strict=True)
        ).encode()
        if len(_formats) >= _FORMATS_MAX:
            _formats.clear()
        found = _formats[key] = _Format(limits, policy, names)
    return found


def _seconds(after: float) -> int:
    """Whole seconds, rounded up, never negative (as ``max(0, ceil(after))``)."""
    return math.ceil(after) if after > 0 else 0


def limit_header_pairs(
    states: Sequence[LimitState], now: float, *, refused: bool = False
) -> list[tuple[bytes, bytes]]:
    if not states:
        return []
    format_ = _format_of(states)
    live = ", ".join([
        # (``_seconds`` inlined: a call per limit is a visible share of this)
        f'"{name}";r={s.remaining if s.remaining > 0 else 0};'
        f't={math.ceil(s.reset_after) if s.reset_after > 0 else 0}'
        for name, s in zip(format_.names, states, strict=True)
    ])  # fmt: skip
    headers: list[tuple[bytes, bytes]] = []
    if refused:
        headers = _refusal_headers(states, now)
    headers.append((b"ratelimit-policy", format_.policy))
    headers.append((b"ratelimit", live.encode()))
    return headers


def _refusal_headers(states: Sequence[LimitState], now: float) -> list[tuple[bytes, bytes]]:
    """The original's ``X-RateLimit-*`` (the key's requests per minute) and ``X-Quota-*``
    (the plan's daily and monthly units), sent with a refusal."""
    headers: list[tuple[bytes, bytes]] = []
    for state in states:
        limit = state.limit
        remaining = max(0, state.remaining)
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
    return headers


def limit_headers(
    states: Sequence[LimitState], now: float, *, refused: bool = False
) -> list[tuple[str, str]]:
    """The same headers as text pairs (for frameworks that take ``str``)."""
    pairs = limit_header_pairs(states, now, refused=refused)
    return [(name.decode(), value.decode()) for name, value in pairs]
