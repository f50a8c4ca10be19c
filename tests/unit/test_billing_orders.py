"""Orders, the callback path and the wallet, through the services as the application builds
them (``tests.support.services.build``), on the in-process adapters."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.billing.commands import (
    AdjustBalance,
    BalanceOperation,
    CreateOrder,
    CreateTopup,
    CurrencySettings,
    RefundOrder,
)
from domain.billing.errors import (
    BillingAdminRequired,
    IdempotencyKeyReused,
    InsufficientBalance,
    InvalidAmount,
    InvalidOrderTransition,
    InvalidPlan,
    InvoiceNotFound,
    OrderNotFound,
    OrderNotRefundable,
    SuperadminRequired,
    UnknownPaymentProvider,
)
from domain.billing.model import (
    TRANSITIONS,
    EntryKind,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
    next_status,
)
from domain.billing.money import Money
from domain.clock import ManualClock
from domain.errors import InvalidInput, Unauthenticated
from domain.principal import anonymous
from domain.security.model import AuditFilter
from gateway.settings import ConfigError
from integrations.payments import MockProvider
from tests.support.billing import SUPERADMIN, ForeignProvider, new_user
from tests.support.services import Built, build, unit_settings


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def built(clock: ManualClock) -> Built:
    return build(clock, settings=unit_settings(billing_mock_payments=True))


def test_the_state_machine_is_the_originals() -> None:
    S, E = OrderStatus, OrderEvent
    assert next_status(S.PENDING, E.PAY_START) is S.PAYING
    assert next_status(S.PAYING, E.CALLBACK_OK) is S.PAID
    assert next_status(S.PAID, E.FULFILL) is S.COMPLETED
    assert next_status(S.PAYING, E.CALLBACK_FAIL) is S.FAILED
    assert next_status(S.PAYING, E.TIMEOUT) is S.EXPIRED
    assert next_status(S.PENDING, E.USER_CANCEL) is S.CANCELED
    assert next_status(S.COMPLETED, E.REFUND) is S.REFUNDED
    allowed = set(TRANSITIONS)
    for status in S:
        for event in E:
            if (status, event) not in allowed:
                with pytest.raises(InvalidOrderTransition):
                    next_status(status, event)


async def _pay(built: Built, order_id: str, amount: Money, *, paid: bool = True) -> str:
    params = MockProvider.callback_params(order_id, amount, paid=paid)
    result = await built.services.orders.handle_callback("mock", params)
    return result.acknowledgement.body


async def test_buying_a_plan_with_the_mock_moves_the_user_to_it(built: Built) -> None:
    services = built.services
    _user_id, me = await new_user(built.adapters.uow)
    order = await services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
    assert order.status is OrderStatus.PAYING
    assert (order.amount, order.plan_id, order.purpose) == (
        Money(2900, "CNY"), "pro", OrderPurpose.SUBSCRIPTION,
    )  # fmt: skip
    assert order.pay_url.endswith(f"/v1/billing/mock/pay/{order.id}")
    assert await _pay(built, order.id, order.amount) == "ok"
    done = await services.orders.get(me, order.id)
    assert done.status is OrderStatus.COMPLETED
    assert done.paid_at is not None
    _, plan = await services.plans.my_plan(me)
    assert plan.id == "pro"
    # The same notification again: acknowledged, nothing changes.
    assert await _pay(built, order.id, order.amount) == "ok"
    assert (await services.orders.get(me, order.id)).status is OrderStatus.COMPLETED


async def test_a_topup_credits_exactly_once_and_never_touches_the_plan(built: Built) -> None:
    services = built.services
    _user_id, me = await new_user(built.adapters.uow)
    order = await services.orders.create_topup(me, CreateTopup(12_345, "mock"))
    assert (order.purpose, order.plan_id) == (OrderPurpose.TOPUP, None)
    for _ in range(3):
        assert await _pay(built, order.id, order.amount) == "ok"
    wallet = await services.wallet.balance(me)
    assert wallet.balance == Money(12_345, "CNY")
    page = await services.wallet.transactions(me, limit=50, offset=0)
    assert [(e.kind, e.amount_minor, e.order_id) for e in page.items] == [
        (EntryKind.TOPUP, 12_345, order.id)
    ]
    _, plan = await services.plans.my_plan(me)
    assert plan.id == "free"


async def test_the_callback_refuses_another_amount_and_an_unknown_order(built: Built) -> None:
    services = built.services
    _, me = await new_user(built.adapters.uow)
    order = await services.orders.create_plan_order(me, CreateOrder("basic", "mock"))
    assert await _pay(built, order.id, Money(899, "CNY")) == "fail"
    assert (await services.orders.get(me, order.id)).status is OrderStatus.PAYING
    assert await _pay(built, "0" * 32, Money(900, "CNY")) == "fail"
    result = await services.orders.handle_callback("mock", {"order_id": order.id})
    assert result.acknowledgement.body == "fail"  # no amount: not a readable callback


async def test_the_fail_button_fails_the_order(built: Built) -> None:
    services = built.services
    _, me = await new_user(built.adapters.uow)
    order = await services.orders.create_plan_order(me, CreateOrder("basic", "mock"))
    assert await _pay(built, order.id, order.amount, paid=False) == "ok"
    assert (await services.orders.get(me, order.id)).status is OrderStatus.FAILED
    assert await _pay(built, order.id, order.amount) == "ok"  # too late: nothing happens
    assert (await services.orders.get(me, order.id)).status is OrderStatus.FAILED
    _, plan = await services.plans.my_plan(me)
    assert plan.id == "free"


async def test_the_same_idempotency_key_returns_the_first_order(built: Built) -> None:
    orders = built.services.orders
    _, me = await new_user(built.adapters.uow)
    first = await orders.create_plan_order(me, CreateOrder("pro", "mock", idempotency_key=" k1 "))
    again = await orders.create_plan_order(me, CreateOrder("pro", "mock", idempotency_key="k1"))
    assert again == first
    with pytest.raises(IdempotencyKeyReused):
        await orders.create_plan_order(me, CreateOrder("basic", "mock", idempotency_key="k1"))
    # Another user's key is their own.
    _, other = await new_user(built.adapters.uow)
    theirs = await orders.create_plan_order(other, CreateOrder("pro", "mock", idempotency_key="k1"))
    assert theirs.id != first.id
    page = await orders.list(me, limit=50, offset=0)
    assert [o.id for o in page.items] == [first.id]


async def test_orders_expire_after_30_minutes(built: Built, clock: ManualClock) -> None:
    orders = built.services.orders
    _, me = await new_user(built.adapters.uow)
    order = await orders.create_plan_order(me, CreateOrder("pro", "mock"))
    clock.advance(timedelta(minutes=29, seconds=59))
    assert (await orders.get(me, order.id)).status is OrderStatus.PAYING
    clock.advance(timedelta(seconds=1))
    assert (await orders.get(me, order.id)).status is OrderStatus.EXPIRED
    assert await orders.expire_overdue() == 1
    assert await orders.expire_overdue() == 0


async def test_someone_elses_order_is_not_found(built: Built) -> None:
    orders = built.services.orders
    _, me = await new_user(built.adapters.uow)
    _, other = await new_user(built.adapters.uow)
    order = await orders.create_plan_order(me, CreateOrder("pro", "mock"))
    with pytest.raises(OrderNotFound):
        await orders.get(other, order.id)
    with pytest.raises(Unauthenticated):
        await orders.get(anonymous(), order.id)


async def test_order_input_is_checked(built: Built) -> None:
    orders = built.services.orders
    _, me = await new_user(built.adapters.uow)
    with pytest.raises(InvalidPlan):
        await orders.create_plan_order(me, CreateOrder("free", "mock"))
    with pytest.raises(InvalidPlan):
        await orders.create_plan_order(me, CreateOrder("nope", "mock"))
    with pytest.raises(UnknownPaymentProvider):
        await orders.create_plan_order(me, CreateOrder("pro", "paypal"))
    for cents in (99, 100_000_001):
        with pytest.raises(InvalidAmount):
            await orders.create_topup(me, CreateTopup(cents, "mock"))


async def test_an_fx_order_charges_stores_and_compares_one_integer(built: Built) -> None:
    services = built.services
    provider = ForeignProvider()
    services.orders.register(provider)
    await services.currency.update(SUPERADMIN, CurrencySettings("CNY", (("LDC", "7.2"),)))
    _, me = await new_user(built.adapters.uow)
    order = await services.orders.create_topup(me, CreateTopup(10_000, provider.name))
    assert order.amount == Money(1389, "LDC")
    assert provider.requests[0].amount == order.amount
    assert (order.original_amount_minor, order.original_currency, order.fx_rate) == (
        10_000, "CNY", "0.13888889",
    )  # fmt: skip
    refused = await services.orders.handle_callback(
        provider.name, {"order_id": order.id, "amount": "13.88"}
    )
    assert refused.acknowledgement.body == "fail"
    accepted = await services.orders.handle_callback(
        provider.name, {"order_id": order.id, "amount": "13.89"}
    )
    assert accepted.acknowledgement.body == "success"
    assert (await services.wallet.balance(me)).balance == Money(10_000, "CNY")


async def test_admin_balance_operations_and_their_rules(built: Built) -> None:
    wallet = built.services.wallet
    user_id, me = await new_user(built.adapters.uow)
    moved = await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.CREDIT, 500))
    assert moved.wallet.balance_minor == 500
    with pytest.raises(InsufficientBalance):
        await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.DEBIT, 501))
    await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.DEBIT, 200))
    set_to = await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.SET, 1000))
    assert set_to.entry is not None and set_to.entry.amount_minor == 700
    same = await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.SET, 1000))
    assert same.entry is None
    with pytest.raises(InvalidAmount):
        await wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.CREDIT, 0))
    with pytest.raises(SuperadminRequired):
        await wallet.adjust(me, AdjustBalance(user_id, BalanceOperation.CREDIT, 1))
    page = await wallet.transactions(me, limit=50, offset=0)
    assert [e.amount_minor for e in page.items] == [700, -200, 500]
    assert [e.balance_after_minor for e in page.items] == [1000, 300, 500]
    events = await built.adapters.audit.list(AuditFilter(), limit=50, offset=0)
    assert sum(e.action.value == "billing.balance_adjusted" for e in events.items) == 4


async def test_an_adjustment_with_a_key_posts_once(built: Built) -> None:
    wallet = built.services.wallet
    user_id, me = await new_user(built.adapters.uow)
    command = AdjustBalance(user_id, BalanceOperation.CREDIT, 300, idempotency_key="adj-1")
    await wallet.adjust(SUPERADMIN, command)
    await wallet.adjust(SUPERADMIN, command)
    assert (await wallet.balance(me)).balance_minor == 300


async def test_each_paid_order_gets_one_numbered_invoice(built: Built) -> None:
    services = built.services
    _, me = await new_user(built.adapters.uow)
    first = await services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
    second = await services.orders.create_topup(me, CreateTopup(500, "mock"))
    for order in (first, second, first):
        await _pay(built, order.id, order.amount)
    page = await services.invoices.list(me, limit=10, offset=0)
    assert [i.order_id for i in page.items] == [second.id, first.id]
    newest, oldest = page.items
    assert (oldest.number, newest.number) == ("KRP-2026-000001", "KRP-2026-000002")
    assert oldest.total == Money(2900, "CNY") and oldest.buyer_email.endswith("@example.com")
    assert oldest.lines[0].description == "Pro plan (monthly)"
    assert newest.lines[0].description == "Wallet top-up 5.00 CNY"
    _, other = await new_user(built.adapters.uow)
    with pytest.raises(InvoiceNotFound):
        await services.invoices.get(other, oldest.id)


async def test_refunds_follow_the_rules(built: Built) -> None:
    services = built.services
    refunds = services.refunds
    user_id, me = await new_user(built.adapters.uow)
    pending = await services.orders.create_plan_order(me, CreateOrder("basic", "mock"))
    with pytest.raises(OrderNotRefundable):
        await refunds.refund(SUPERADMIN, RefundOrder(pending.id, "r"))
    plan = await services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
    await _pay(built, plan.id, plan.amount)
    with pytest.raises(InvalidInput):
        await refunds.refund(SUPERADMIN, RefundOrder(plan.id, " "))
    with pytest.raises(BillingAdminRequired):
        await refunds.refund(me, RefundOrder(plan.id, "r"))
    part = await refunds.refund(SUPERADMIN, RefundOrder(plan.id, "r", "partial", "10.00"))
    assert part.order.status is OrderStatus.COMPLETED and part.order.refunded_minor == 1000
    assert (await services.plans.my_plan(me))[1].id == "pro"
    with pytest.raises(InvalidAmount):
        await refunds.refund(SUPERADMIN, RefundOrder(plan.id, "r", "partial", "19.01"))
    full = await refunds.refund(SUPERADMIN, RefundOrder(plan.id, "r"))
    assert full.order.status is OrderStatus.REFUNDED and full.refund.amount_minor == 1900
    assert (await services.plans.my_plan(me))[1].id == "free"
    sub = await services.subscriptions.current(me)
    assert sub is not None and not sub.live
    # A top-up: the wallet gives back what it credited, unless it was spent.
    topup = await services.orders.create_topup(me, CreateTopup(1000, "mock"))
    await _pay(built, topup.id, topup.amount)
    await services.wallet.adjust(SUPERADMIN, AdjustBalance(user_id, BalanceOperation.DEBIT, 600))
    with pytest.raises(InsufficientBalance):
        await refunds.refund(SUPERADMIN, RefundOrder(topup.id, "r"))
    await refunds.refund(SUPERADMIN, RefundOrder(topup.id, "r", "partial", "4.00"))
    assert (await services.wallet.balance(me)).balance_minor == 0
    lines = await services.wallet.transactions(me, limit=10, offset=0)
    assert (lines.items[0].kind, lines.items[0].amount_minor) == (EntryKind.REFUND, -400)
    more = await services.orders.create_topup(me, CreateTopup(300, "mock"))
    await _pay(built, more.id, more.amount)
    again = await refunds.refund(SUPERADMIN, RefundOrder(more.id, "r", idempotency_key="k"))
    replay = await refunds.refund(SUPERADMIN, RefundOrder(more.id, "r", idempotency_key="k"))
    assert replay.refund == again.refund
    assert (await services.wallet.balance(me)).balance_minor == 0


def test_the_mock_provider_is_dev_only() -> None:
    assert unit_settings().mock_payments_enabled  # dev: on by default
    assert not unit_settings(env="prod").mock_payments_enabled
    assert not unit_settings(billing_mock_payments=False).mock_payments_enabled
    with pytest.raises(ConfigError, match="KARPOV_BILLING_MOCK_PAYMENTS"):
        unit_settings(env="prod", billing_mock_payments=True)


async def test_without_the_mock_there_is_no_mock_order_nor_page(clock: ManualClock) -> None:
    built = build(clock, settings=unit_settings(billing_mock_payments=False))
    _, me = await new_user(built.adapters.uow)
    with pytest.raises(UnknownPaymentProvider):
        await built.services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
    with pytest.raises(UnknownPaymentProvider):
        await built.services.orders.handle_callback("mock", {"order_id": "0" * 32})
    assert built.services.mock_payments is False
