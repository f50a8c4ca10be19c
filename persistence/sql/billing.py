"""Billing in the SQL database: orders, wallets, the ledger and settings documents on the
unit of work's transaction, and the plan catalog's writes.

A wallet is locked by ``lock``: on PostgreSQL an ``INSERT … ON CONFLICT DO NOTHING``
(so the row exists) then ``SELECT … FOR UPDATE``; on SQLite the unit of work takes the
database's write lock (``BEGIN IMMEDIATE``), which serialises writers."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.billing.model import (
    EntryKind,
    ExtraUsageSettings,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Order,
    OrderPurpose,
    OrderStatus,
    OverageEvent,
    OverageMonth,
    Refund,
    RefundType,
    Subscription,
    SubscriptionSource,
    SubscriptionStatus,
    Wallet,
)
from domain.paging import Page
from domain.quota.plans import Plan
from persistence.sql.apikeys import _to_plan
from persistence.sql.engine import reader, writer
from persistence.sql.tables import (
    billing_orders,
    billing_settings,
    extra_usage_settings,
    invoices,
    ledger_entries,
    overage_events,
    overage_months,
    plans,
    refunds,
    subscriptions,
    wallets,
)
from persistence.sql.transaction import Transaction

_ORDER_FIELDS = tuple(f.name for f in dataclasses.fields(Order))
_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(LedgerEntry))
_PLAN_FIELDS = tuple(f.name for f in dataclasses.fields(Plan))
_SUBSCRIPTION_FIELDS = tuple(f.name for f in dataclasses.fields(Subscription))
_INVOICE_FIELDS = tuple(f.name for f in dataclasses.fields(Invoice))
_REFUND_FIELDS = tuple(f.name for f in dataclasses.fields(Refund))


def _to_order(row: RowMapping) -> Order:
    values = {name: row[name] for name in _ORDER_FIELDS}
    values["status"] = OrderStatus(values["status"])
    values["purpose"] = OrderPurpose(values["purpose"])
    return Order(**values)


def _order_row(order: Order) -> dict[str, Any]:
    row = {name: getattr(order, name) for name in _ORDER_FIELDS}
    row["status"] = order.status.value
    row["purpose"] = order.purpose.value
    return row


def _to_entry(row: RowMapping) -> LedgerEntry:
    values = {name: row[name] for name in _ENTRY_FIELDS}
    values["kind"] = EntryKind(values["kind"])
    return LedgerEntry(**values)


def _to_wallet(row: RowMapping) -> Wallet:
    return Wallet(
        row["user_id"], row["currency"], row["balance_minor"], row["version"], row["updated_at"]
    )


class SqlOrderRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, order: Order) -> bool:
        conn = await self._tx.for_write()
        try:
            async with conn.begin_nested():
                await conn.execute(billing_orders.insert().values(**_order_row(order)))
        except IntegrityError:
            if await self.by_idempotency_key(order.user_id, order.idempotency_key) is not None:
                return False
            raise
        return True

    async def get(self, order_id: str) -> Order | None:
        return await self._one(select(billing_orders).where(billing_orders.c.id == order_id))

    async def get_for_update(self, order_id: str) -> Order | None:
        await self._tx.for_write()
        query = select(billing_orders).where(billing_orders.c.id == order_id)
        return await self._one(query.with_for_update() if self._tx.is_postgres else query)

    async def by_idempotency_key(self, user_id: str, key: str) -> Order | None:
        query = select(billing_orders).where(
            billing_orders.c.user_id == user_id, billing_orders.c.idempotency_key == key
        )
        return await self._one(query)

    async def update(self, order: Order) -> None:
        row = _order_row(order)
        for fixed in ("id", "user_id", "created_at"):
            row.pop(fixed)
        conn = await self._tx.for_write()
        await conn.execute(
            update(billing_orders).where(billing_orders.c.id == order.id).values(**row)
        )

    async def list_for_user(self, user_id: str, *, limit: int, offset: int) -> Page[Order]:
        where = billing_orders.c.user_id == user_id
        query = (
            select(billing_orders)
            .where(where)
            .order_by(billing_orders.c.created_at.desc(), billing_orders.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        conn = self._tx.conn
        rows = (await conn.execute(query)).mappings().all()
        total = (
            await conn.execute(select(func.count()).select_from(billing_orders).where(where))
        ).scalar_one()
        return Page([_to_order(r) for r in rows], int(total), limit, offset)

    async def overdue(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(billing_orders.c.id)
            .where(
                billing_orders.c.status.in_(("pending", "paying")),
                billing_orders.c.expires_at <= now,
            )
            .order_by(billing_orders.c.expires_at)
            .limit(limit)
        )
        return [row[0] for row in (await self._tx.conn.execute(query)).all()]

    async def paying_since(self, before: datetime, limit: int) -> list[str]:  # worker (issue 17)
        query = (
            select(billing_orders.c.id)
            .where(billing_orders.c.status == "paying", billing_orders.c.created_at <= before)
            .order_by(billing_orders.c.created_at, billing_orders.c.id)
            .limit(limit)
        )
        return [row[0] for row in (await self._tx.conn.execute(query)).all()]

    async def _one(self, query: Select[Any]) -> Order | None:
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_order(row)


class SqlWalletRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str, currency: str) -> Wallet | None:
        query = select(wallets).where(wallets.c.user_id == user_id, wallets.c.currency == currency)
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_wallet(row)

    async def lock(self, user_id: str, currency: str, now: datetime) -> Wallet:
        conn = await self._tx.for_write()
        values = {"user_id": user_id, "currency": currency, "balance_minor": 0, "version": 0,
                  "updated_at": now}  # fmt: skip
        insert = pg_insert if self._tx.is_postgres else sqlite_insert
        await conn.execute(insert(wallets).values(**values).on_conflict_do_nothing())
        query = select(wallets).where(wallets.c.user_id == user_id, wallets.c.currency == currency)
        if self._tx.is_postgres:
            query = query.with_for_update()
        row = (await conn.execute(query)).mappings().one()
        return _to_wallet(row)

    async def save(self, wallet: Wallet) -> None:
        conn = await self._tx.for_write()
        await conn.execute(
            update(wallets)
            .where(wallets.c.user_id == wallet.user_id, wallets.c.currency == wallet.currency)
            .values(
                balance_minor=wallet.balance_minor,
                version=wallet.version,
                updated_at=wallet.updated_at,
            )
        )

    async def list_for_user(self, user_id: str) -> list[Wallet]:
        query = select(wallets).where(wallets.c.user_id == user_id).order_by(wallets.c.currency)
        return [_to_wallet(r) for r in (await self._tx.conn.execute(query)).mappings().all()]


class SqlLedgerRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def append(self, entry: LedgerEntry) -> LedgerEntry:
        conn = await self._tx.for_write()
        row = {name: getattr(entry, name) for name in _ENTRY_FIELDS if name != "seq"}
        row["kind"] = entry.kind.value
        result = await conn.execute(
            ledger_entries.insert().values(**row).returning(ledger_entries.c.seq)
        )
        return dataclasses.replace(entry, seq=int(result.scalar_one()))

    async def by_idempotency_key(self, key: str) -> LedgerEntry | None:
        query = select(ledger_entries).where(ledger_entries.c.idempotency_key == key)
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_entry(row)

    async def list_for_user(
        self, user_id: str, currency: str | None, *, limit: int, offset: int
    ) -> Page[LedgerEntry]:
        where = [ledger_entries.c.user_id == user_id]
        if currency is not None:
            where.append(ledger_entries.c.currency == currency)
        query = (
            select(ledger_entries)
            .where(*where)
            .order_by(ledger_entries.c.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        conn = self._tx.conn
        rows = (await conn.execute(query)).mappings().all()
        total = (
            await conn.execute(select(func.count()).select_from(ledger_entries).where(*where))
        ).scalar_one()
        return Page([_to_entry(r) for r in rows], int(total), limit, offset)

    async def total(self, user_id: str, currency: str) -> int:
        query = select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
            ledger_entries.c.user_id == user_id, ledger_entries.c.currency == currency
        )
        return int((await self._tx.conn.execute(query)).scalar_one())


class SqlBillingSettingsRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, key: str) -> dict[str, Any] | None:
        query = select(billing_settings.c.value).where(billing_settings.c.key == key)
        row = (await self._tx.conn.execute(query)).first()
        return None if row is None else dict(row[0])

    # -- payments (issue 16) --
    async def get_for_update(self, key: str) -> dict[str, Any] | None:
        conn = await self._tx.for_write()
        query = select(billing_settings.c.value).where(billing_settings.c.key == key)
        if self._tx.is_postgres:
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        return None if row is None else dict(row[0])

    async def put(self, key: str, value: dict[str, Any], now: datetime) -> None:
        conn = await self._tx.for_write()
        insert = pg_insert if self._tx.is_postgres else sqlite_insert
        statement = insert(billing_settings).values(key=key, value=value, updated_at=now)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[billing_settings.c.key],
                set_={"value": statement.excluded.value, "updated_at": now},
            )
        )


class SqlSubscriptionRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, user_id: str) -> Subscription | None:
        query = select(subscriptions).where(subscriptions.c.user_id == user_id)
        return await self._one(query)

    async def get_for_update(self, user_id: str) -> Subscription | None:
        await self._tx.for_write()
        query = select(subscriptions).where(subscriptions.c.user_id == user_id)
        return await self._one(query.with_for_update() if self._tx.is_postgres else query)

    async def save(self, subscription: Subscription) -> None:
        conn = await self._tx.for_write()
        row = {name: getattr(subscription, name) for name in _SUBSCRIPTION_FIELDS}
        row["status"] = subscription.status.value
        row["source"] = subscription.source.value
        insert = pg_insert if self._tx.is_postgres else sqlite_insert
        statement = insert(subscriptions).values(**row)
        changed = {name: statement.excluded[name] for name in _SUBSCRIPTION_FIELDS
                   if name != "user_id"}  # fmt: skip
        await conn.execute(
            statement.on_conflict_do_update(index_elements=[subscriptions.c.user_id], set_=changed)
        )

    async def due(self, now: datetime, limit: int) -> list[str]:
        query = (
            select(subscriptions.c.user_id)
            .where(
                subscriptions.c.status.in_(("active", "past_due")),
                subscriptions.c.current_period_end <= now,
            )
            .order_by(subscriptions.c.current_period_end)
            .limit(limit)
        )
        return [row[0] for row in (await self._tx.conn.execute(query)).all()]

    async def _one(self, query: Select[Any]) -> Subscription | None:
        row = (await self._tx.conn.execute(query)).mappings().first()
        if row is None:
            return None
        values = {name: row[name] for name in _SUBSCRIPTION_FIELDS}
        values["status"] = SubscriptionStatus(values["status"])
        values["source"] = SubscriptionSource(values["source"])
        return Subscription(**values)


def _to_invoice(row: RowMapping) -> Invoice:
    values = {name: row[name] for name in _INVOICE_FIELDS}
    values["lines"] = tuple(InvoiceLine(**line) for line in values["lines"])
    return Invoice(**values)


class SqlInvoiceRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, invoice: Invoice) -> Invoice:
        conn = await self._tx.for_write()
        row = {name: getattr(invoice, name) for name in _INVOICE_FIELDS if name != "seq"}
        row["lines"] = [dataclasses.asdict(line) for line in invoice.lines]
        result = await conn.execute(invoices.insert().values(**row).returning(invoices.c.seq))
        return dataclasses.replace(invoice, seq=int(result.scalar_one()))

    async def get(self, invoice_id: str) -> Invoice | None:
        return await self._one(select(invoices).where(invoices.c.id == invoice_id))

    async def by_order(self, order_id: str) -> Invoice | None:
        return await self._one(select(invoices).where(invoices.c.order_id == order_id))

    async def list_for_user(self, user_id: str, *, limit: int, offset: int) -> Page[Invoice]:
        where = invoices.c.user_id == user_id
        query = select(invoices).where(where).order_by(invoices.c.seq.desc())
        conn = self._tx.conn
        rows = (await conn.execute(query.limit(limit).offset(offset))).mappings().all()
        total = (
            await conn.execute(select(func.count()).select_from(invoices).where(where))
        ).scalar_one()
        return Page([_to_invoice(r) for r in rows], int(total), limit, offset)

    async def _one(self, query: Select[Any]) -> Invoice | None:
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_invoice(row)


class SqlRefundRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, refund: Refund) -> None:
        conn = await self._tx.for_write()
        row = {name: getattr(refund, name) for name in _REFUND_FIELDS}
        row["refund_type"] = refund.refund_type.value
        await conn.execute(refunds.insert().values(**row))

    async def by_key(self, order_id: str, key: str) -> Refund | None:
        query = select(refunds).where(
            refunds.c.order_id == order_id, refunds.c.idempotency_key == key
        )
        rows = await self._rows(query)
        return rows[0] if rows else None

    async def list_for_order(self, order_id: str) -> list[Refund]:
        query = select(refunds).where(refunds.c.order_id == order_id)
        return await self._rows(query.order_by(refunds.c.created_at, refunds.c.id))

    async def _rows(self, query: Select[Any]) -> list[Refund]:
        found = []
        for row in (await self._tx.conn.execute(query)).mappings().all():
            values = {name: row[name] for name in _REFUND_FIELDS}
            values["refund_type"] = RefundType(values["refund_type"])
            found.append(Refund(**values))
        return found


_SETTINGS_FIELDS = tuple(f.name for f in dataclasses.fields(ExtraUsageSettings))
_MONTH_FIELDS = tuple(f.name for f in dataclasses.fields(OverageMonth))
_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(OverageEvent))


class SqlOverageRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def settings(self, user_id: str) -> ExtraUsageSettings | None:
        query = select(extra_usage_settings).where(extra_usage_settings.c.user_id == user_id)
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else ExtraUsageSettings(**{n: row[n] for n in _SETTINGS_FIELDS})

    async def save_settings(self, settings: ExtraUsageSettings) -> None:
        await self._upsert(extra_usage_settings, settings, _SETTINGS_FIELDS, ["user_id"])

    async def month(self, user_id: str, year_month: str) -> OverageMonth | None:
        query = select(overage_months).where(
            overage_months.c.user_id == user_id, overage_months.c.year_month == year_month
        )
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else OverageMonth(**{n: row[n] for n in _MONTH_FIELDS})

    async def save_month(self, month: OverageMonth) -> None:
        await self._upsert(overage_months, month, _MONTH_FIELDS, ["user_id", "year_month"])

    async def add_event(self, event: OverageEvent) -> None:
        conn = await self._tx.for_write()
        await conn.execute(
            overage_events.insert().values(**{n: getattr(event, n) for n in _EVENT_FIELDS})
        )

    async def months(self, user_id: str, *, limit: int, offset: int) -> Page[OverageMonth]:
        where = overage_months.c.user_id == user_id
        query = select(overage_months).where(where).order_by(overage_months.c.year_month.desc())
        conn = self._tx.conn
        rows = (await conn.execute(query.limit(limit).offset(offset))).mappings().all()
        total = (
            await conn.execute(select(func.count()).select_from(overage_months).where(where))
        ).scalar_one()
        items = [OverageMonth(**{n: r[n] for n in _MONTH_FIELDS}) for r in rows]
        return Page(items, int(total), limit, offset)

    async def events(self, user_id: str, *, limit: int, offset: int) -> Page[OverageEvent]:
        where = overage_events.c.user_id == user_id
        query = (
            select(overage_events)
            .where(where)
            .order_by(overage_events.c.occurred_at.desc(), overage_events.c.id.desc())
        )
        conn = self._tx.conn
        rows = (await conn.execute(query.limit(limit).offset(offset))).mappings().all()
        total = (
            await conn.execute(select(func.count()).select_from(overage_events).where(where))
        ).scalar_one()
        items = [OverageEvent(**{n: r[n] for n in _EVENT_FIELDS}) for r in rows]
        return Page(items, int(total), limit, offset)

    async def _upsert(
        self, table: Any, value: object, fields: tuple[str, ...], keys: list[str]
    ) -> None:
        conn = await self._tx.for_write()
        insert = pg_insert if self._tx.is_postgres else sqlite_insert
        statement = insert(table).values(**{n: getattr(value, n) for n in fields})
        changed = {n: statement.excluded[n] for n in fields if n not in keys}
        await conn.execute(
            statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=changed)
        )


class SqlPlanStore:
    """The plan catalog's writes (and reads of deleted plans too)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._reader = reader(engine)
        self._writer = writer(engine)
        self._postgres = engine.dialect.name == "postgresql"

    async def get(self, plan_id: str) -> Plan | None:
        async with self._reader.connect() as conn:
            row = (
                (await conn.execute(select(plans).where(plans.c.id == plan_id))).mappings().first()
            )
        return None if row is None else _to_plan(row)

    async def list_all(self) -> list[Plan]:
        query = select(plans).order_by(plans.c.sort_order, plans.c.id)
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_to_plan(r) for r in rows]

    async def save(self, plan: Plan, now: datetime) -> None:
        values = {name: getattr(plan, name) for name in _PLAN_FIELDS}
        insert = pg_insert if self._postgres else sqlite_insert
        statement = insert(plans).values(**values, created_at=now, updated_at=now)
        changed = {name: statement.excluded[name] for name in _PLAN_FIELDS if name != "id"}
        async with self._writer.begin() as conn:
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[plans.c.id], set_={**changed, "updated_at": now}
                )
            )
