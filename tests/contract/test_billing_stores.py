"""Contract of billing's stores (orders, wallets, the ledger, settings documents, the plan
catalog's writes), run against every implementation; the concurrency claims on
PostgreSQL with real concurrent units of work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from domain.billing.commands import AdjustBalance, BalanceOperation, CreateTopup
from domain.billing.errors import InsufficientBalance
from domain.billing.model import (
    ORDER_TTL,
    EntryKind,
    Invoice,
    InvoiceLine,
    Order,
    OrderPurpose,
    OrderStatus,
    Refund,
    RefundType,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
)
from domain.billing.overage import ExtraUsageChanges
from domain.billing.wallet import Posting, WalletService, post
from domain.clock import SystemClock
from domain.ids import new_id
from domain.quota.errors import QuotaExceeded
from domain.quota.metering import Metered
from domain.quota.plans import DEFAULT_PLANS, Plan
from domain.quota.service import Caller
from domain.security.audit import AuditLog
from gateway.adapters import Adapters
from gateway.bootstrap import build_services
from integrations.payments import MockProvider
from persistence.sql.tables import plans
from tests.contract.conftest import Backend
from tests.support.billing import SUPERADMIN, session_of
from tests.support.services import offline, unit_settings

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def an_order(user_id: str, key: str = "k", at: datetime = NOW, **changes: object) -> Order:
    order = Order(
        id=new_id(), user_id=user_id, purpose=OrderPurpose.SUBSCRIPTION, plan_id="pro",
        amount_minor=2900, currency="CNY", status=OrderStatus.PENDING, payment_provider="mock",
        idempotency_key=key, fingerprint="f" * 32, created_at=at, expires_at=at + ORDER_TTL,
    )  # fmt: skip
    return replace(order, **changes)  # type: ignore[arg-type]


async def test_orders_round_trip_and_keys_are_per_user(
    backend: Backend, alice: str, bob: str
) -> None:
    uow = backend.adapters.uow
    order = an_order(alice, original_amount_minor=100, original_currency="USD", fx_rate="7.2")
    async with uow() as work:
        assert await work.orders.add(order)
        assert not await work.orders.add(an_order(alice))  # same user, same key
        assert await work.orders.add(an_order(bob))  # another user's "k"
        await work.commit()
    async with uow() as work:
        assert await work.orders.get(order.id) == order
        assert await work.orders.by_idempotency_key(alice, "k") == order
        paid = order.with_changes(status=OrderStatus.PAYING, pay_url="https://pay/x")
        await work.orders.update(paid)
        await work.commit()
    async with uow() as work:
        assert await work.orders.get_for_update(order.id) == paid


async def test_orders_list_newest_first_and_find_overdue(backend: Backend, alice: str) -> None:
    uow = backend.adapters.uow
    made = [an_order(alice, f"k{i}", NOW + timedelta(minutes=i)) for i in range(3)]
    async with uow() as work:
        for order in made:
            await work.orders.add(order)
        await work.orders.update(made[0].with_changes(status=OrderStatus.COMPLETED))
        await work.commit()
    async with uow() as work:
        page = await work.orders.list_for_user(alice, limit=2, offset=0)
        assert [o.id for o in page.items] == [made[2].id, made[1].id]
        assert page.total == 3
        due = await work.orders.overdue(NOW + ORDER_TTL + timedelta(minutes=1), 10)
        assert due == [made[1].id]


async def test_orders_paying_since_a_time_oldest_first(backend: Backend, alice: str) -> None:
    """Payment reconciliation's query (worker, issue 17): ``paying`` orders made at or
    before the cut-off; pending, completed and younger ones are not asked about."""
    uow = backend.adapters.uow
    made = [an_order(alice, f"p{i}", NOW + timedelta(minutes=i)) for i in range(4)]
    async with uow() as work:
        for order in made:
            await work.orders.add(order)
        for order in made[:3]:
            await work.orders.update(order.with_changes(status=OrderStatus.PAYING))
        await work.orders.update(made[1].with_changes(status=OrderStatus.COMPLETED))
        await work.commit()
    async with uow() as work:
        cutoff = NOW + timedelta(minutes=2)
        assert await work.orders.paying_since(cutoff, 10) == [made[0].id, made[2].id]
        assert await work.orders.paying_since(cutoff, 1) == [made[0].id]
        assert await work.orders.paying_since(NOW - timedelta(seconds=1), 10) == []


async def test_an_uncommitted_unit_changes_nothing(backend: Backend, alice: str) -> None:
    uow = backend.adapters.uow
    async with uow() as work:
        await work.orders.add(an_order(alice))
        await post(work, Posting(alice, "CNY", 100, EntryKind.TOPUP, "t1"), NOW)
    async with uow() as work:
        assert await work.orders.by_idempotency_key(alice, "k") is None
        assert await work.wallets.get(alice, "CNY") is None
        assert await work.ledger.by_idempotency_key("t1") is None


async def test_the_ledger_posts_once_per_key_and_sums_to_the_balance(
    backend: Backend, alice: str
) -> None:
    uow = backend.adapters.uow
    async with uow() as work:
        first = await post(work, Posting(alice, "CNY", 500, EntryKind.TOPUP, "t1"), NOW)
        again = await post(work, Posting(alice, "CNY", 500, EntryKind.TOPUP, "t1"), NOW)
        assert again == first
        await post(work, Posting(alice, "CNY", -120, EntryKind.OVERAGE, "o1"), NOW)
        await post(work, Posting(alice, "USD", 7, EntryKind.ADJUST, "a1"), NOW)
        with pytest.raises(InsufficientBalance):
            await post(work, Posting(alice, "USD", -8, EntryKind.ADJUST, "a2"), NOW)
        await work.commit()
    async with uow() as work:
        wallet = await work.wallets.get(alice, "CNY")
        assert wallet is not None and (wallet.balance_minor, wallet.version) == (380, 2)
        assert await work.ledger.total(alice, "CNY") == 380
        page = await work.ledger.list_for_user(alice, "CNY", limit=10, offset=0)
        assert [(e.amount_minor, e.balance_after_minor) for e in page.items] == [
            (-120, 380), (500, 500),
        ]  # fmt: skip
        assert page.items[0].seq > page.items[1].seq
        everything = await work.ledger.list_for_user(alice, None, limit=10, offset=0)
        assert everything.total == 3
        assert [w.currency for w in await work.wallets.list_for_user(alice)] == ["CNY", "USD"]


async def test_settings_documents_are_replaced(backend: Backend) -> None:
    uow = backend.adapters.uow
    async with uow() as work:
        assert await work.billing_settings.get("currency_config") is None
        await work.billing_settings.put("currency_config", {"a": [1, "2"]}, NOW)
        await work.billing_settings.put("currency_config", {"b": "x"}, NOW)
        await work.commit()
    async with uow() as work:
        assert await work.billing_settings.get("currency_config") == {"b": "x"}


@pytest_asyncio.fixture
async def restore_plans(backend: Backend) -> AsyncIterator[None]:
    yield
    if backend.engine is not None:  # reference data: put the seed back
        async with backend.engine.begin() as conn:
            await conn.execute(plans.delete())
            await conn.execute(
                plans.insert(),
                [{**asdict(p), "created_at": NOW, "updated_at": NOW} for p in DEFAULT_PLANS],
            )


@pytest.mark.usefixtures("restore_plans")
async def test_plan_writes_reach_the_catalog(backend: Backend) -> None:
    store, catalog = backend.adapters.plan_store, backend.adapters.plans
    pro = await store.get("pro")
    assert pro is not None
    cheaper = replace(pro, price_cents=1900, qps=99)
    await store.save(cheaper, NOW)
    new = replace(pro, id="team", name="Team", sort_order=9)
    await store.save(new, NOW)
    await store.save(replace(DEFAULT_PLANS[1], is_active=False), NOW)
    assert await catalog.get("pro") == cheaper
    # Plans are reference data that other suites may have added (and retired) on a shared
    # database: look only at the seeded ones and ours.
    ours = {p.id for p in DEFAULT_PLANS} | {"team"}
    active = [p.id for p in await catalog.list_active() if p.id in ours]
    assert active == ["free", "pro", "enterprise", "team"]
    every = [p.id for p in await store.list_all() if p.id in ours]
    assert every == ["free", "basic", "pro", "enterprise", "team"]


@pytest.mark.backends("postgres")
async def test_a_thousand_concurrent_debits_never_go_negative(backend: Backend, alice: str) -> None:
    uow = backend.adapters.uow
    async with uow() as work:
        await post(work, Posting(alice, "CNY", 600, EntryKind.TOPUP, "seed"), NOW)
        await work.commit()

    async def debit(i: int) -> bool:
        try:
            async with uow() as work:
                await post(work, Posting(alice, "CNY", -1, EntryKind.OVERAGE, f"d{i}"), NOW)
                await work.commit()
            return True
        except InsufficientBalance:
            return False

    results = await asyncio.gather(*(debit(i) for i in range(1000)))
    assert sum(results) == 600
    async with uow() as work:
        wallet = await work.wallets.get(alice, "CNY")
        assert wallet is not None and wallet.balance_minor == 0
        assert await work.ledger.total(alice, "CNY") == 0
        page = await work.ledger.list_for_user(alice, "CNY", limit=200, offset=0)
        assert page.total == 601
        assert all(e.balance_after_minor >= 0 for e in page.items)


@pytest.mark.backends("sqlite", "postgres")
async def test_set_computes_its_delta_under_the_lock(backend: Backend, alice: str) -> None:
    wallet = WalletService(
        uow=backend.adapters.uow, clock=SystemClock(),
        audit=AuditLog(backend.adapters.audit, SystemClock()), default_currency="CNY",
    )  # fmt: skip
    credits = [
        wallet.adjust(SUPERADMIN, AdjustBalance(alice, BalanceOperation.CREDIT, 10))
        for _ in range(40)
    ]
    sets = [wallet.adjust(SUPERADMIN, AdjustBalance(alice, BalanceOperation.SET, 1000))] * 1
    await asyncio.gather(*credits[:20], *sets, *credits[20:])
    async with backend.adapters.uow() as work:
        balance = await work.wallets.get(alice, "CNY")
        assert balance is not None
        assert balance.balance_minor == await work.ledger.total(alice, "CNY")
        assert balance.balance_minor >= 1000


def a_subscription(user_id: str, end: datetime | None, **changes: object) -> Subscription:
    sub = Subscription(
        id=new_id(), user_id=user_id, plan_id="pro", period="monthly",
        status=SubscriptionStatus.ACTIVE, source=SubscriptionSource.PURCHASE,
        current_period_start=NOW, current_period_end=end, anchor_day=1,
        cancel_at_period_end=False, auto_renew=True, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return replace(sub, **changes)  # type: ignore[arg-type]


async def test_subscriptions_are_one_per_user_and_found_when_due(
    backend: Backend, alice: str, bob: str
) -> None:
    uow = backend.adapters.uow
    mine = a_subscription(alice, NOW + timedelta(days=30))
    theirs = a_subscription(bob, NOW + timedelta(days=1), status=SubscriptionStatus.PAST_DUE,
                            grace_until=NOW + timedelta(days=4))  # fmt: skip
    async with uow() as work:
        await work.subscriptions.save(mine)
        await work.subscriptions.save(theirs)
        await work.commit()
    async with uow() as work:
        assert await work.subscriptions.get(alice) == mine
        assert await work.subscriptions.due(NOW + timedelta(days=2), 10) == [bob]
        assert await work.subscriptions.due(NOW + timedelta(days=31), 10) == [bob, alice]
        replaced = replace(mine, plan_id="enterprise", current_period_end=None)
        await work.subscriptions.save(replaced)
        await work.commit()
    async with uow() as work:
        assert await work.subscriptions.get_for_update(alice) == replaced
        assert await work.subscriptions.due(NOW + timedelta(days=31), 10) == [bob]


async def test_invoices_are_numbered_one_per_order_and_refunds_keyed(
    backend: Backend, alice: str
) -> None:
    uow = backend.adapters.uow
    line = InvoiceLine("Pro plan (monthly)", 1, 2900, 2900)

    def an_invoice(order_id: str) -> Invoice:
        return Invoice(new_id(), alice, order_id, "a@example.com", "CNY", 2900, (line,), NOW,
                       NOW, "mock")  # fmt: skip

    async with uow() as work:
        first = await work.invoices.add(an_invoice("o1"))
        second = await work.invoices.add(an_invoice("o2"))
        assert second.seq > first.seq
        refund = Refund(new_id(), "o1", alice, 100, "CNY", RefundType.PARTIAL, "why", "k", "admin",
                        NOW)  # fmt: skip
        await work.refunds.add(refund)
        await work.commit()
    async with uow() as work:
        assert await work.invoices.by_order("o1") == first
        assert await work.invoices.get(second.id) == second
        page = await work.invoices.list_for_user(alice, limit=1, offset=0)
        assert (page.items, page.total) == ([second], 2)
        assert await work.refunds.by_key("o1", "k") == refund
        assert await work.refunds.by_key("o2", "k") is None
        assert await work.refunds.list_for_order("o1") == [refund]


@pytest.mark.backends("postgres")
async def test_a_hundred_concurrent_overage_calls_against_a_wallet_for_40_charge_40(
    backend: Backend, alice: str, redis_client: Redis
) -> None:
    """Through the quota gate (Redis) and the wallet (PostgreSQL), as the server runs them."""
    assert backend.engine is not None
    adapters = Adapters.sql(backend.engine, redis_client, quota_redis=redis_client,
                            clock=SystemClock(), outbound=offline())  # fmt: skip
    services = build_services(adapters, unit_settings(), SystemClock())
    metered = Plan("meter", "Meter", "", 100, "CNY", "monthly", 0, 0, 1, 80, True, 1000, 99)
    await adapters.plan_store.save(metered, NOW)
    try:
        me = session_of(alice)
        await services.subscriptions.grant(SUPERADMIN, alice, "meter")
        await services.wallet.adjust(SUPERADMIN, AdjustBalance(alice, BalanceOperation.CREDIT, 40))
        await services.overage.update(me, ExtraUsageChanges(enabled=True))
        quota, caller = services.gate.quota, Caller(alice, "meter")
        # A flushed Redis looks like a lost gate state (issue 12): the server restores it
        # from the roll-ups before it admits; so does this test.
        await quota.restore_if_lost()
        call = Metered("song.detail", 1)
        await quota.admit(caller, [call])  # the plan's one unit

        async def one() -> bool:
            try:
                admission = await quota.admit(caller, [call])
            except QuotaExceeded as refused:
                assert refused.data is not None
                assert refused.data["extraUsage"]["reason"] == "insufficient_balance"
                return False
            assert admission.extra_usage is not None
            return True

        results = await asyncio.gather(*(one() for _ in range(100)))
        assert sum(results) == 40
        async with adapters.uow() as work:
            wallet = await work.wallets.get(alice, "CNY")
            assert wallet is not None and wallet.balance_minor == 0
            assert await work.ledger.total(alice, "CNY") == 0
            [month] = (await work.overage.months(alice, limit=5, offset=0)).items
            assert (month.count, month.units, month.amount_minor) == (40, 40, 40)
    finally:
        await adapters.plan_store.save(replace(metered, is_active=False), NOW)
        async with backend.engine.begin() as conn:
            await conn.execute(plans.delete().where(plans.c.id == "meter"))


@pytest.mark.backends("postgres")
async def test_concurrent_notifications_of_one_payment_credit_once(
    backend: Backend, alice: str
) -> None:
    """The same callback, twenty times at once: one credit, one invoice, all acknowledged."""
    clock = SystemClock()
    services = build_services(backend.adapters, unit_settings(), clock)
    me = session_of(alice)
    order = await services.orders.create_topup(me, CreateTopup(1234, "mock"))
    params = MockProvider.callback_params(order.id, order.amount)
    results = await asyncio.gather(
        *(services.orders.handle_callback("mock", params) for _ in range(20))
    )
    assert {r.acknowledgement.body for r in results} == {"ok"}
    assert sum(r.changed for r in results) == 1
    async with backend.adapters.uow() as work:
        wallet = await work.wallets.get(alice, "CNY")
        assert wallet is not None and wallet.balance_minor == 1234
        assert await work.ledger.total(alice, "CNY") == 1234
        assert (await work.invoices.list_for_user(alice, limit=5, offset=0)).total == 1
