"""Billing in process: the memory unit of work's orders, wallets, ledger and settings,
and the plan catalog's writes.

The memory unit of work serialises every unit with one lock, so a unit's writes go to a
draft (a shallow copy of the committed tables, made at its first write: the entities are
immutable) that ``commit`` makes current; leaving without commit drops the draft."""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime
from typing import Any

from domain.billing.model import (
    ExtraUsageSettings,
    Invoice,
    LedgerEntry,
    Order,
    OrderStatus,
    OverageEvent,
    OverageMonth,
    Refund,
    Subscription,
    Wallet,
)
from domain.paging import Page
from domain.quota.plans import Plan
from persistence.memory.apikeys import MemoryPlanCatalog


@dataclasses.dataclass
class BillingTables:
    orders: dict[str, Order] = dataclasses.field(default_factory=dict)
    wallets: dict[tuple[str, str], Wallet] = dataclasses.field(default_factory=dict)
    ledger: list[LedgerEntry] = dataclasses.field(default_factory=list)
    settings: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    seq: int = 0
    subscriptions: dict[str, Subscription] = dataclasses.field(default_factory=dict)
    invoices: list[Invoice] = dataclasses.field(default_factory=list)
    refunds: list[Refund] = dataclasses.field(default_factory=list)
    extra_usage: dict[str, ExtraUsageSettings] = dataclasses.field(default_factory=dict)
    overage_months: dict[tuple[str, str], OverageMonth] = dataclasses.field(default_factory=dict)
    overage_events: list[OverageEvent] = dataclasses.field(default_factory=list)

    def copy(self) -> BillingTables:
        return BillingTables(
            dict(self.orders), dict(self.wallets), list(self.ledger),
            copy.deepcopy(self.settings), self.seq, dict(self.subscriptions),
            list(self.invoices), list(self.refunds), dict(self.extra_usage),
            dict(self.overage_months), list(self.overage_events),
        )  # fmt: skip

    def take(self, other: BillingTables) -> None:
        self.orders, self.wallets, self.ledger = other.orders, other.wallets, other.ledger
        self.settings, self.seq = other.settings, other.seq
        self.subscriptions = other.subscriptions
        self.invoices, self.refunds = other.invoices, other.refunds
        self.extra_usage, self.overage_months = other.extra_usage, other.overage_months
        self.overage_events = other.overage_events


class BillingDraft:
    """One unit of work's view: the committed tables until the first write."""

    def __init__(self, tables: BillingTables) -> None:
        self._tables = tables
        self._draft: BillingTables | None = None

    @property
    def read(self) -> BillingTables:
        return self._draft or self._tables

    def write(self) -> BillingTables:
        if self._draft is None:
            self._draft = self._tables.copy()
        return self._draft

    def apply(self) -> None:
        if self._draft is not None:
            self._tables.take(self._draft)
            self._draft = None


class MemoryOrderRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def add(self, order: Order) -> bool:
        if await self.by_idempotency_key(order.user_id, order.idempotency_key) is not None:
            return False
        self._d.write().orders[order.id] = order
        return True

    async def get(self, order_id: str) -> Order | None:
        return self._d.read.orders.get(order_id)

    async def get_for_update(self, order_id: str) -> Order | None:
        return await self.get(order_id)

    async def by_idempotency_key(self, user_id: str, key: str) -> Order | None:
        return next(
            (o for o in self._d.read.orders.values()
             if o.user_id == user_id and o.idempotency_key == key),
            None,
        )  # fmt: skip

    async def update(self, order: Order) -> None:
        current = self._d.read.orders.get(order.id)
        if current is None:
            return
        self._d.write().orders[order.id] = order

    async def list_for_user(self, user_id: str, *, limit: int, offset: int) -> Page[Order]:
        mine = [o for o in self._d.read.orders.values() if o.user_id == user_id]
        mine.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        return Page(mine[offset : offset + limit], len(mine), limit, offset)

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        found = [
            o for o in self._d.read.orders.values()
            if o.status in (OrderStatus.PENDING, OrderStatus.PAYING) and o.expires_at <= now
        ]  # fmt: skip
        found.sort(key=lambda o: o.expires_at)
        return [o.id for o in found[:limit]]

    async def paying_since(self, before: datetime, limit: int) -> list[str]:  # worker (issue 17)
        found = [
            o for o in self._d.read.orders.values()
            if o.status is OrderStatus.PAYING and o.created_at <= before
        ]  # fmt: skip
        found.sort(key=lambda o: (o.created_at, o.id))
        return [o.id for o in found[:limit]]


class MemoryWalletRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def get(self, user_id: str, currency: str) -> Wallet | None:
        return self._d.read.wallets.get((user_id, currency))

    async def lock(self, user_id: str, currency: str, now: datetime) -> Wallet:
        found = self._d.read.wallets.get((user_id, currency))
        if found is None:
            found = Wallet(user_id, currency, 0, 0, now)
            self._d.write().wallets[(user_id, currency)] = found
        return found

    async def save(self, wallet: Wallet) -> None:
        if wallet.balance_minor < 0:
            raise ValueError("a balance cannot be negative")
        self._d.write().wallets[(wallet.user_id, wallet.currency)] = wallet

    async def list_for_user(self, user_id: str) -> list[Wallet]:
        found = [w for (uid, _), w in self._d.read.wallets.items() if uid == user_id]
        return sorted(found, key=lambda w: w.currency)


class MemoryLedgerRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        if await self.by_idempotency_key(entry.idempotency_key) is not None:
            raise ValueError(f"duplicate ledger idempotency key {entry.idempotency_key!r}")
        tables = self._d.write()
        tables.seq += 1
        stored = dataclasses.replace(entry, seq=tables.seq)
        tables.ledger.append(stored)
        return stored

    async def by_idempotency_key(self, key: str) -> LedgerEntry | None:
        return next((e for e in self._d.read.ledger if e.idempotency_key == key), None)

    async def list_for_user(
        self, user_id: str, currency: str | None, *, limit: int, offset: int
    ) -> Page[LedgerEntry]:
        mine = [
            e for e in reversed(self._d.read.ledger)
            if e.user_id == user_id and (currency is None or e.currency == currency)
        ]  # fmt: skip
        return Page(mine[offset : offset + limit], len(mine), limit, offset)

    async def total(self, user_id: str, currency: str) -> int:
        return sum(
            e.amount_minor for e in self._d.read.ledger
            if e.user_id == user_id and e.currency == currency
        )  # fmt: skip


class MemoryBillingSettingsRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def get(self, key: str) -> dict[str, Any] | None:
        found = self._d.read.settings.get(key)
        return None if found is None else copy.deepcopy(found)

    async def get_for_update(self, key: str) -> dict[str, Any] | None:
        """-- payments (issue 16) -- units of work are serialised: ``get`` is locked."""
        return await self.get(key)

    async def put(self, key: str, value: dict[str, Any], now: datetime) -> None:
        self._d.write().settings[key] = copy.deepcopy(value)


class MemorySubscriptionRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def get(self, user_id: str) -> Subscription | None:
        return self._d.read.subscriptions.get(user_id)

    async def get_for_update(self, user_id: str) -> Subscription | None:
        return await self.get(user_id)

    async def save(self, subscription: Subscription) -> None:
        self._d.write().subscriptions[subscription.user_id] = subscription

    async def due(self, now: datetime, limit: int) -> list[str]:
        found = [
            s for s in self._d.read.subscriptions.values()
            if s.live and s.current_period_end is not None and s.current_period_end <= now
        ]  # fmt: skip
        found.sort(key=lambda s: s.current_period_end or now)
        return [s.user_id for s in found[:limit]]


class MemoryInvoiceRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def add(self, invoice: Invoice) -> Invoice:
        if await self.by_order(invoice.order_id) is not None:
            raise ValueError(f"order {invoice.order_id} already has an invoice")
        tables = self._d.write()
        stored = dataclasses.replace(invoice, seq=len(tables.invoices) + 1)
        tables.invoices.append(stored)
        return stored

    async def get(self, invoice_id: str) -> Invoice | None:
        return next((i for i in self._d.read.invoices if i.id == invoice_id), None)

    async def by_order(self, order_id: str) -> Invoice | None:
        return next((i for i in self._d.read.invoices if i.order_id == order_id), None)

    async def list_for_user(self, user_id: str, *, limit: int, offset: int) -> Page[Invoice]:
        mine = [i for i in reversed(self._d.read.invoices) if i.user_id == user_id]
        return Page(mine[offset : offset + limit], len(mine), limit, offset)


class MemoryRefundRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def add(self, refund: Refund) -> None:
        if await self.by_key(refund.order_id, refund.idempotency_key) is not None:
            raise ValueError("duplicate refund key")
        self._d.write().refunds.append(refund)

    async def by_key(self, order_id: str, key: str) -> Refund | None:
        return next(
            (r for r in self._d.read.refunds
             if r.order_id == order_id and r.idempotency_key == key),
            None,
        )  # fmt: skip

    async def list_for_order(self, order_id: str) -> list[Refund]:
        return [r for r in self._d.read.refunds if r.order_id == order_id]


class MemoryOverageRepository:
    def __init__(self, draft: BillingDraft) -> None:
        self._d = draft

    async def settings(self, user_id: str) -> ExtraUsageSettings | None:
        return self._d.read.extra_usage.get(user_id)

    async def save_settings(self, settings: ExtraUsageSettings) -> None:
        self._d.write().extra_usage[settings.user_id] = settings

    async def month(self, user_id: str, year_month: str) -> OverageMonth | None:
        return self._d.read.overage_months.get((user_id, year_month))

    async def save_month(self, month: OverageMonth) -> None:
        self._d.write().overage_months[(month.user_id, month.year_month)] = month

    async def add_event(self, event: OverageEvent) -> None:
        self._d.write().overage_events.append(event)

    async def months(self, user_id: str, *, limit: int, offset: int) -> Page[OverageMonth]:
        mine = [m for (uid, _), m in self._d.read.overage_months.items() if uid == user_id]
        mine.sort(key=lambda m: m.year_month, reverse=True)
        return Page(mine[offset : offset + limit], len(mine), limit, offset)

    async def events(self, user_id: str, *, limit: int, offset: int) -> Page[OverageEvent]:
        mine = [e for e in reversed(self._d.read.overage_events) if e.user_id == user_id]
        return Page(mine[offset : offset + limit], len(mine), limit, offset)


class MemoryPlanStore:
    """Writes into the catalog the quota gate reads (``MemoryPlanCatalog``)."""

    def __init__(self, catalog: MemoryPlanCatalog) -> None:
        self._catalog = catalog

    async def get(self, plan_id: str) -> Plan | None:
        return await self._catalog.get(plan_id)

    async def list_all(self) -> list[Plan]:
        return sorted(self._catalog.plans.values(), key=lambda plan: (plan.sort_order, plan.id))

    async def save(self, plan: Plan, now: datetime) -> None:
        self._catalog.plans[plan.id] = plan
