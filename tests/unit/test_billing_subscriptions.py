"""Subscriptions through the services as the application builds them, with a manual clock:
purchase, extension, cancellation at the period end, renewal from the wallet, past due
with grace, expiry back to free, admin grants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.billing.commands import AdjustBalance, BalanceOperation, CreateOrder
from domain.billing.errors import SubscriptionNotFound
from domain.billing.model import EntryKind, SubscriptionSource, SubscriptionStatus
from domain.clock import ManualClock
from domain.principal import Principal
from integrations.payments import MockProvider
from tests.support.billing import SUPERADMIN, new_user
from tests.support.services import Built, build, unit_settings

START = datetime(2026, 1, 31, 10, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def built(clock: ManualClock) -> Built:
    return build(clock, settings=unit_settings(billing_mock_payments=True))


async def buy(built: Built, me: Principal, plan: str = "pro") -> None:
    order = await built.services.orders.create_plan_order(me, CreateOrder(plan, "mock"))
    params = MockProvider.callback_params(order.id, order.amount)
    result = await built.services.orders.handle_callback("mock", params)
    assert result.acknowledgement.body == "ok"


async def plan_of(built: Built, me: Principal) -> str:
    return (await built.services.plans.my_plan(me))[1].id


async def test_a_purchase_starts_a_monthly_subscription_anchored_to_its_day(
    built: Built, clock: ManualClock
) -> None:
    _, me = await new_user(built.adapters.uow)
    await buy(built, me)
    sub = await built.services.subscriptions.current(me)
    assert sub is not None
    assert (sub.plan_id, sub.status, sub.source, sub.auto_renew) == (
        "pro", SubscriptionStatus.ACTIVE, SubscriptionSource.PURCHASE, True,
    )  # fmt: skip
    assert sub.current_period_end == datetime(2026, 2, 28, 10, tzinfo=UTC)
    await buy(built, me)  # the same plan again: one more period
    sub = await built.services.subscriptions.current(me)
    assert sub is not None and sub.current_period_end == datetime(2026, 3, 31, 10, tzinfo=UTC)
    assert await plan_of(built, me) == "pro"


async def test_cancel_ends_it_at_the_period_end(built: Built, clock: ManualClock) -> None:
    subs = built.services.subscriptions
    _, me = await new_user(built.adapters.uow)
    await buy(built, me)
    canceled = await subs.cancel(me)
    assert canceled.cancel_at_period_end and canceled.status is SubscriptionStatus.ACTIVE
    clock.set(datetime(2026, 2, 28, 9, 59, tzinfo=UTC))
    assert await subs.advance() == 0
    assert await plan_of(built, me) == "pro"
    clock.advance(timedelta(minutes=1))
    assert await subs.advance() == 1
    sub = await subs.current(me)
    assert sub is not None and sub.status is SubscriptionStatus.CANCELED
    assert await plan_of(built, me) == "free"
    with pytest.raises(SubscriptionNotFound):
        await subs.cancel(me)


async def test_renewal_from_the_wallet(built: Built, clock: ManualClock) -> None:
    subs, wallet = built.services.subscriptions, built.services.wallet
    user_id, me = await new_user(built.adapters.uow)
    await buy(built, me)
    await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.CREDIT, 3000))
    clock.set(datetime(2026, 2, 28, 10, tzinfo=UTC))
    assert await subs.advance() == 1
    sub = await subs.current(me)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE
    assert sub.current_period_end == datetime(2026, 3, 31, 10, tzinfo=UTC)  # the anchor holds
    assert (await wallet.balance(me)).balance_minor == 100
    lines = await wallet.transactions(me, limit=10, offset=0)
    assert (lines.items[0].kind, lines.items[0].amount_minor) == (EntryKind.SUBSCRIPTION, -2900)
    assert await subs.advance() == 0  # nothing more is due


async def test_without_money_it_goes_past_due_then_expires_to_free(
    built: Built, clock: ManualClock
) -> None:
    subs = built.services.subscriptions
    _, me = await new_user(built.adapters.uow)
    await buy(built, me)
    clock.set(datetime(2026, 2, 28, 10, tzinfo=UTC))
    await subs.advance()
    sub = await subs.current(me)
    assert sub is not None and sub.status is SubscriptionStatus.PAST_DUE
    assert sub.grace_until == datetime(2026, 3, 3, 10, tzinfo=UTC)
    assert await plan_of(built, me) == "pro"  # limits kept during the grace period
    clock.set(datetime(2026, 3, 2, tzinfo=UTC))
    assert await subs.advance() == 0
    clock.set(datetime(2026, 3, 3, 10, tzinfo=UTC))
    assert await subs.advance() == 1
    sub = await subs.current(me)
    assert sub is not None and sub.status is SubscriptionStatus.EXPIRED
    assert await plan_of(built, me) == "free"


async def test_a_past_due_subscription_renews_once_money_arrives(
    built: Built, clock: ManualClock
) -> None:
    subs, wallet = built.services.subscriptions, built.services.wallet
    user_id, me = await new_user(built.adapters.uow)
    await buy(built, me)
    clock.set(datetime(2026, 2, 28, 10, tzinfo=UTC))
    await subs.advance()
    await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.CREDIT, 2900))
    clock.advance(timedelta(days=1))
    await subs.advance()
    sub = await subs.current(me)
    assert sub is not None and sub.status is SubscriptionStatus.ACTIVE
    assert sub.current_period_start == datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert (await wallet.balance(me)).balance_minor == 0


async def test_auto_renew_off_expires_at_the_end(built: Built, clock: ManualClock) -> None:
    subs, wallet = built.services.subscriptions, built.services.wallet
    user_id, me = await new_user(built.adapters.uow)
    await buy(built, me, "basic")
    await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.CREDIT, 5000))
    assert not (await subs.set_auto_renew(me, False)).auto_renew
    clock.set(datetime(2026, 3, 1, tzinfo=UTC))
    await subs.advance()
    sub = await subs.current(me)
    assert sub is not None and sub.status is SubscriptionStatus.EXPIRED
    assert (await wallet.balance(me)).balance_minor == 5000
    assert await plan_of(built, me) == "free"


async def test_an_admin_grant_lasts_until_changed(built: Built, clock: ManualClock) -> None:
    subs = built.services.subscriptions
    user_id, me = await new_user(built.adapters.uow)
    granted = await subs.grant(SUPERADMIN, user_id, "enterprise")
    assert (granted.plan_id, granted.updated_keys, granted.total_keys) == ("enterprise", 0, 0)
    sub = await subs.current(me)
    assert sub is not None and sub.source is SubscriptionSource.GRANT
    assert sub.current_period_end is None
    clock.advance(timedelta(days=400))
    assert await subs.advance() == 0
    assert await plan_of(built, me) == "enterprise"
    await subs.cancel(me)  # no period end: it ends now
    assert await plan_of(built, me) == "free"
    await subs.grant(SUPERADMIN, user_id, "pro")
    await subs.grant(SUPERADMIN, user_id, "free")
    assert await plan_of(built, me) == "free"
