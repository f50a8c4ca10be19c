"""QuotaService: which limits a caller and an operation get, calendar buckets in the
configured time zone, refusals mapped to the original's envelopes, refunds, and the
policy when the gate's store is down. Runs on the in-process gate (the contract suite
shows the Redis gate behaves the same)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.clock import ManualClock
from domain.errors import RateLimited
from domain.quota.errors import QuotaExceeded, QuotaUnavailable
from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitKind,
    LimitState,
    QuotaStoreUnavailable,
    RateLimit,
    Reservation,
)
from domain.quota.metering import Metered
from domain.quota.plans import DEFAULT_PLANS
from domain.quota.ports import QuotaGate
from domain.quota.service import Caller, OnStoreError, QuotaService
from tests.support.services import build, unit_settings

SONG_URL = Metered("song.url", 3)
SHANGHAI = ZoneInfo("Asia/Shanghai")
KEY_CALLER = Caller(user_id="u1", plan_id="free", key_id="k1", key_rpm=60, key_daily=1000)


def service(
    clock: ManualClock, tz: tzinfo = SHANGHAI, *, gate: QuotaGate | None = None, **settings: Any
) -> QuotaService:
    """The quota service as the composition root builds it, on the in-process bundle
    (``gate`` replaces its store)."""
    stores: dict[str, Any] = {"quota_gate": gate} if gate is not None else {}
    config = unit_settings(timezone=str(tz), **settings)
    return build(clock, settings=config, **stores).services.gate.quota


class DownGate:
    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        raise QuotaStoreUnavailable()

    async def refund(self, reservation: Reservation, now: float) -> None:
        raise QuotaStoreUnavailable()

    async def peek(self, limits: Sequence[Limit], now: float) -> tuple[LimitState, ...]:
        raise QuotaStoreUnavailable()

    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        raise QuotaStoreUnavailable()


async def test_an_unmetered_key_request_gets_only_the_keys_limits() -> None:
    clock = ManualClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    quota = service(clock)
    admission = await quota.admit(KEY_CALLER)
    assert [s.limit.kind for s in admission.states] == [LimitKind.KEY_RPM, LimitKind.KEY_DAILY]
    daily = admission.states[1].limit
    assert isinstance(daily, CounterLimit) and daily.bucket == "20261127"  # a UTC day


async def test_a_metered_call_adds_the_plans_limits_with_its_weight() -> None:
    clock = ManualClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    admission = await service(clock).admit(KEY_CALLER, [SONG_URL])
    kinds = {s.limit.kind: s for s in admission.states}
    assert set(kinds) == set(LimitKind)
    assert kinds[LimitKind.PLAN_DAILY].remaining == 100 - 3
    assert kinds[LimitKind.PLAN_MONTHLY].remaining == 1000 - 3
    assert kinds[LimitKind.PLAN_QPS].remaining == 5 - 1  # QPS counts calls, not units
    assert kinds[LimitKind.KEY_RPM].remaining == 59


async def test_zero_means_unlimited_and_is_left_out() -> None:
    clock = ManualClock(datetime(2026, 11, 27, tzinfo=UTC))
    caller = Caller(user_id="u1", plan_id="free", key_id="k1")
    assert (await service(clock).admit(caller)).states == ()


async def test_plan_days_and_months_follow_the_configured_time_zone() -> None:
    # 16:30 UTC on 30 Nov is 00:30 on 1 Dec in Shanghai: a new day and a new month there.
    clock = ManualClock(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    admission = await service(clock).admit(KEY_CALLER, [SONG_URL])
    buckets = {s.limit.kind: s.limit for s in admission.states if isinstance(s.limit, CounterLimit)}
    assert buckets[LimitKind.PLAN_DAILY].bucket == "20261201"
    assert buckets[LimitKind.PLAN_MONTHLY].bucket == "2026-12"
    assert buckets[LimitKind.KEY_DAILY].bucket == "20261130"  # the key's day stays UTC
    ends = datetime.fromtimestamp(buckets[LimitKind.PLAN_DAILY].resets_at, SHANGHAI)
    assert ends == datetime(2026, 12, 2, tzinfo=SHANGHAI)


async def test_daily_units_refuse_with_the_originals_quota_envelope() -> None:
    clock = ManualClock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    quota = service(clock, UTC)
    caller = Caller(user_id="u1", plan_id="free")
    for call in range(33):  # 99 of 100 units
        if call % 5 == 0:
            clock.advance(1)  # stay under the plan's 5 calls per second
        await quota.admit(caller, [SONG_URL])
    clock.advance(1)
    with pytest.raises(QuotaExceeded) as refused:
        await quota.admit(caller, [SONG_URL])
    assert refused.value.code == "QUOTA_EXCEEDED"
    assert refused.value.message == "daily quota exceeded"
    assert refused.value.data == {"dailyLimit": 100, "dailyUsed": 99,
                                  "retryAfter": refused.value.retry_after}  # fmt: skip
    midnight = datetime(2026, 11, 28, tzinfo=UTC)
    assert refused.value.retry_after == int((midnight - clock.now()).total_seconds())
    clock.set(midnight + timedelta(seconds=1))
    await quota.admit(caller, [SONG_URL])  # a new day


async def test_the_keys_rpm_refuses_with_the_originals_rate_envelope() -> None:
    clock = ManualClock(datetime(2026, 11, 27, tzinfo=UTC))
    quota = service(clock)
    caller = Caller(user_id="u1", plan_id="free", key_id="k1", key_rpm=2)
    await quota.admit(caller)
    await quota.admit(caller)
    with pytest.raises(RateLimited) as refused:
        await quota.admit(caller)
    assert type(refused.value) is RateLimited
    assert refused.value.message == "rate limit exceeded"
    assert refused.value.data == {"limitRpm": 2, "retryAfter": 30}
    assert refused.value.states  # headers can still be sent


async def test_a_refund_gives_back_only_the_failed_operations_plan_units() -> None:
    clock = ManualClock(datetime(2026, 11, 27, tzinfo=UTC))
    quota = service(clock)
    admission = await quota.admit(KEY_CALLER, [SONG_URL, Metered("lyric", 1)])
    await quota.refund(admission, SONG_URL)
    states = (await quota.status(KEY_CALLER)).limits
    left = {s.name: s.remaining for s in states}
    assert left[LimitKind.PLAN_DAILY] == 100 - 1  # the lyric's unit stays charged
    assert left[LimitKind.PLAN_MONTHLY] == 1000 - 1
    assert left[LimitKind.KEY_DAILY] == 1000 - 1  # the request itself still counts


async def test_an_unknown_plan_falls_back_to_free_not_to_unlimited() -> None:
    clock = ManualClock(datetime(2026, 11, 27, tzinfo=UTC))
    status = await service(clock).status(Caller(user_id="u1", plan_id="topup"))
    assert status.plan_id == "free"


async def test_an_unreachable_store_denies_by_default_and_can_be_set_to_allow() -> None:
    clock = ManualClock(datetime(2026, 11, 27, tzinfo=UTC))
    deny = service(clock, UTC, gate=DownGate())
    with pytest.raises(QuotaUnavailable):
        await deny.admit(KEY_CALLER, [SONG_URL])
    allow = service(clock, UTC, gate=DownGate(), quota_on_redis_error=OnStoreError.ALLOW)
    admission = await allow.admit(KEY_CALLER, [SONG_URL])
    assert admission.degraded and admission.reservation is None
    await allow.refund(admission, SONG_URL)  # nothing reserved, nothing to give back


def test_rate_limits_are_gcra_over_the_right_period() -> None:
    quota = service(ManualClock(datetime(2026, 11, 27, tzinfo=UTC)))
    limits = quota.limits(KEY_CALLER, None, [], datetime(2026, 11, 27, tzinfo=UTC))
    # issue 18: owned by the caller's user (the gate keeps one user's state in one slot)
    assert limits[0] == RateLimit(LimitKind.KEY_RPM, "key:k1", 60, 60.0, owner="u1")


def test_every_limit_of_a_request_is_owned_by_the_callers_user() -> None:
    quota = service(ManualClock(datetime(2026, 11, 27, tzinfo=UTC)))
    plan = DEFAULT_PLANS[1]
    limits = quota.limits(
        KEY_CALLER, plan, [Metered("lyric", 1)], datetime(2026, 11, 27, tzinfo=UTC)
    )
    assert {limit.kind for limit in limits} == set(LimitKind)  # both subjects: key and user
    assert {limit.owner for limit in limits} == {"u1"}
