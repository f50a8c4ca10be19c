"""Pay-as-you-go through the quota gate, on the in-process adapters: priced by accumulated
units, paid from the wallet inside the gate's decision; cap, notify threshold, nearLimit."""

from __future__ import annotations

import pytest

from domain.billing.commands import AdjustBalance, BalanceOperation, PlanChanges
from domain.billing.errors import InvalidAmount
from domain.billing.overage import ExtraUsageChanges, month_cost
from domain.clock import ManualClock
from domain.errors import InvalidInput
from domain.quota.errors import QuotaExceeded
from domain.quota.metering import Metered
from domain.quota.service import Caller
from tests.support.billing import SUPERADMIN, new_user, session_of
from tests.support.services import Built, build, unit_settings

CALL = Metered("song.detail", 1)


@pytest.fixture
def built() -> Built:
    return build(ManualClock(), settings=unit_settings(billing_mock_payments=True))


async def on_metered_plan(built: Built, *, price_per_1k: int, monthly: int = 1,
                          credit: int = 0) -> tuple[str, Caller]:  # fmt: skip
    services = built.services
    await services.plans.save(
        SUPERADMIN,
        PlanChanges(
            "meter",
            "Meter",
            price_cents=100,
            monthly_limit=monthly,
            pay_as_you_go=True,
            overage_price_per_1k=price_per_1k,
        ),
    )
    user_id, _me = await new_user(built.adapters.uow)
    await services.subscriptions.grant(SUPERADMIN, user_id, "meter")
    if credit:
        await services.wallet.adjust(
            SUPERADMIN, AdjustBalance(user_id, BalanceOperation.CREDIT, credit)
        )
    return user_id, Caller(user_id, "meter")


def test_overage_is_priced_by_accumulated_units() -> None:
    assert month_cost(1000, 100) == 100  # 1,000 calls at 100¢ per 1k: 100¢, not 1,000¢
    assert month_cost(1, 100) == 1
    assert month_cost(10, 100) == 1
    assert month_cost(11, 100) == 2
    assert month_cost(0, 100) == 0
    assert month_cost(3, 20) == 1


async def test_a_thousand_calls_at_100_per_1k_cost_100(built: Built) -> None:
    services = built.services
    user_id, caller = await on_metered_plan(built, price_per_1k=100, credit=1000)
    me = session_of(user_id)
    await services.overage.update(me, ExtraUsageChanges(enabled=True))
    quota = services.gate.quota
    await quota.admit(caller, [CALL])  # the plan's one unit
    charged = []
    for _ in range(1000):
        admission = await quota.admit(caller, [CALL])
        assert admission.extra_usage is not None and admission.extra_usage.allowed
        charged.append(admission.extra_usage.charged_minor)
    assert sum(charged) == 100
    assert (await services.wallet.balance(me)).balance_minor == 900
    report = await services.overage.report(me)
    assert (report.overage_count, report.overage_weight, report.overage_cents) == (1000, 1000, 100)
    months = await services.overage.charges(me)
    assert months.total == 1 and months.items[0].amount_minor == 100
    events = await services.overage.events(me, limit=5, offset=995)
    assert (events.total, len(events.items)) == (1000, 5)


async def test_refusals_disabled_cap_and_balance(built: Built) -> None:
    services = built.services
    user_id, caller = await on_metered_plan(built, price_per_1k=1000, credit=3)
    me = session_of(user_id)
    quota = services.gate.quota
    await quota.admit(caller, [CALL])
    with pytest.raises(QuotaExceeded) as refused:
        await quota.admit(caller, [CALL])
    assert refused.value.message == "monthly quota exceeded; enable extra usage to continue"
    assert refused.value.data is not None
    assert refused.value.data["extraUsage"]["reason"] == "extra_usage_disabled"
    await services.overage.update(
        me, ExtraUsageChanges(enabled=True, monthly_cap_cents=2, notify_threshold_pct=50)
    )
    for _ in range(2):
        await quota.admit(caller, [CALL])  # 1¢ each
    report = await services.overage.report(me)
    assert (report.used_cap_pct, report.near_limit, report.remaining_cap_cents) == (1.0, True, 0)
    with pytest.raises(QuotaExceeded) as capped:
        await quota.admit(caller, [CALL])
    assert capped.value.message == "extra usage monthly cap reached"
    await services.overage.update(me, ExtraUsageChanges(monthly_cap_cents=0))
    await quota.admit(caller, [CALL])  # the last cent
    with pytest.raises(QuotaExceeded) as broke:
        await quota.admit(caller, [CALL])
    assert broke.value.data is not None
    assert broke.value.data["extraUsage"]["reason"] == "insufficient_balance"
    assert (await services.wallet.balance(me)).balance_minor == 0


async def test_settings_validation(built: Built) -> None:
    user_id, _ = await on_metered_plan(built, price_per_1k=100)
    me = session_of(user_id)
    overage = built.services.overage
    settings = await overage.settings(me)
    assert (settings.enabled, settings.monthly_cap_minor, settings.notify_threshold_pct) == (
        False, 0, 80,
    )  # fmt: skip
    with pytest.raises(InvalidAmount):
        await overage.update(me, ExtraUsageChanges(monthly_cap_cents=-1))
    with pytest.raises(InvalidInput):
        await overage.update(me, ExtraUsageChanges(notify_threshold_pct=101))
    with pytest.raises(InvalidInput):
        await overage.report(me, "2026-13")
