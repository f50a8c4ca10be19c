"""The limit headers of a measured response (``domain.quota.headers``), against a plain
reference that formats every header from scratch: the memo of what a list of limits
shares (perf, issue 18) must never change a byte, whatever the states, and two lists of
equal limits, or the same limits with new states, must each get their own figures."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from domain.quota.gate import CounterLimit, Limit, LimitKind, LimitState, RateLimit
from domain.quota.headers import limit_header_pairs, limit_headers

NAMES = {
    LimitKind.KEY_RPM: "key-rpm", LimitKind.KEY_DAILY: "key-daily",
    LimitKind.PLAN_QPS: "plan-qps", LimitKind.PLAN_DAILY: "plan-daily",
    LimitKind.PLAN_MONTHLY: "plan-monthly",
}  # fmt: skip
QUOTA = {LimitKind.PLAN_DAILY: "daily", LimitKind.PLAN_MONTHLY: "monthly"}


def reference(states: Sequence[LimitState], now: float, refused: bool) -> list[tuple[str, str]]:
    """The headers as the module documents them, one by one."""
    headers: list[tuple[str, str]] = []
    policy, live = [], []
    for s in states:
        limit, name = s.limit, NAMES[s.limit.kind]
        if isinstance(limit, RateLimit):
            window = max(1, round(limit.period))
        else:
            window = 2_592_000 if limit.kind is LimitKind.PLAN_MONTHLY else 86_400
        policy.append(f'"{name}";q={limit.limit};w={window}')
        live.append(f'"{name}";r={max(0, s.remaining)};t={max(0, math.ceil(s.reset_after))}')
        if not refused:
            continue
        if limit.kind is LimitKind.KEY_RPM:
            headers += [
                ("x-ratelimit-limit", str(limit.limit)),
                ("x-ratelimit-remaining", str(max(0, s.remaining))),
                ("x-ratelimit-reset", str(math.ceil(now + s.reset_after))),
            ]
        elif isinstance(limit, CounterLimit) and limit.kind in QUOTA:
            word = QUOTA[limit.kind]
            headers += [
                (f"x-quota-{word}-limit", str(limit.limit)),
                (f"x-quota-{word}-remaining", str(max(0, s.remaining))),
                (f"x-quota-{word}-reset", str(math.ceil(limit.resets_at))),
            ]
    return [*headers, ("ratelimit-policy", ", ".join(policy)), ("ratelimit", ", ".join(live))]


def a_limit(kind: LimitKind, limit: int, period: float = 60.0) -> Limit:
    if kind in (LimitKind.KEY_RPM, LimitKind.PLAN_QPS):
        return RateLimit(kind, f"s:{kind}", limit, period, owner="u1")
    return CounterLimit(kind, f"s:{kind}", limit, "20261203", 1_796_342_400.5, owner="u1")


limits_lists = st.lists(
    st.builds(
        a_limit,
        st.sampled_from(list(LimitKind)),
        st.integers(1, 10**9),
        st.floats(0.1, 10**6, allow_nan=False),
    ),
    min_size=1,
    max_size=5,
)


@given(
    limits=limits_lists,
    figures=st.lists(
        st.tuples(st.integers(-5, 10**9), st.floats(-100, 10**7, allow_nan=False)),
        min_size=5,
        max_size=5,
    ),
    now=st.floats(0, 2e9, allow_nan=False),
    refused=st.booleans(),
)
def test_the_headers_are_the_reference_ones(
    limits: list[Limit], figures: list[tuple[int, float]], now: float, refused: bool
) -> None:
    states = [LimitState(limit, r, t) for limit, (r, t) in zip(limits, figures, strict=False)]
    assert limit_headers(states, now, refused=refused) == reference(states, now, refused)
    # the same limit objects again, with other figures: the memo holds no figure
    again = [LimitState(s.limit, s.remaining // 2, s.reset_after / 3) for s in states]
    assert limit_headers(again, now, refused=refused) == reference(again, now, refused)


def test_equal_limits_in_other_objects_and_other_limits_get_their_own_policy() -> None:
    rpm = a_limit(LimitKind.KEY_RPM, 3)
    first = limit_header_pairs([LimitState(rpm, 2, 20.0)], 0.0)
    equal = dataclasses.replace(rpm)
    assert limit_header_pairs([LimitState(equal, 2, 20.0)], 0.0) == first
    other = dataclasses.replace(rpm, limit=5)
    pairs = dict(limit_header_pairs([LimitState(other, 4, 12.0)], 0.0))
    assert pairs[b"ratelimit-policy"] == b'"key-rpm";q=5;w=60'
    assert pairs[b"ratelimit"] == b'"key-rpm";r=4;t=12'
    assert dict(first)[b"ratelimit-policy"] == b'"key-rpm";q=3;w=60'


def test_no_states_no_headers() -> None:
    assert limit_header_pairs([], 0.0, refused=True) == []
