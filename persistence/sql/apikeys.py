"""API keys and plans in the SQL database.

Key management runs in the unit of work (``SqlApiKeyRepository``: a check and the change it
guards commit together). The verification hot path (``SqlApiKeyStore``) is one short
transaction per call: lookups in autocommit on PostgreSQL (one round trip instead of
BEGIN, SELECT, ROLLBACK); writes take the write lock up front on SQLite (``BEGIN
IMMEDIATE``) so they never hold a read snapshot while waiting for it.

``add_usage`` runs every few seconds in every process: it is one prepared ``UPDATE``
executed for all keys at once (executemany) in one transaction, in id order so that two
processes flushing the same keys lock their rows in the same order and cannot deadlock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.errors import UserNotFound
from domain.apikeys.errors import ApiKeyNotFound
from domain.apikeys.model import ApiKey, KeyUsage
from domain.quota.plans import Plan
from persistence.sql.engine import reader, writer
from persistence.sql.tables import UTCDateTime, api_keys, plans, users
from persistence.sql.transaction import Transaction

_FIELDS = tuple(f.name for f in dataclasses.fields(ApiKey))
"""A key's columns are its fields, by name (``tables.api_keys``)."""
_LISTS = ("scopes", "ip_allowlist")
"""JSON lists in the table, tuples in the entity."""
_BYTES = ("key_hash", "previous_hash")
_FIXED = ("id", "user_id", "created_at", "last_used_at", "total_requests")
"""Never changed by ``update`` (the usage columns are ``add_usage``'s)."""
_MUTABLE = tuple(name for name in _FIELDS if name not in _FIXED)

_seen = bindparam("seen", type_=UTCDateTime)
_ADD_USAGE = (
    update(api_keys)
    .where(api_keys.c.id == bindparam("key_id"))
    .values(
        total_requests=api_keys.c.total_requests + bindparam("requests"),
        last_used_at=case(
            (
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < _seen),
                _seen,
            ),
            else_=api_keys.c.last_used_at,
        ),
    )
)


class SqlApiKeyRepository:
    """Key management, on the unit of work's transaction (``uow.api_keys``)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, key: ApiKey) -> None:
        conn = await self._tx.for_write()
        try:
            # A savepoint keeps the unit of work usable after the failure.
            async with conn.begin_nested():
                await conn.execute(api_keys.insert().values(**_row(key)))
        except IntegrityError:
            # Ids and hashes are random; a missing owner is the failure a caller can cause.
            if not await self._user_exists(key.user_id):
                raise UserNotFound() from None
            raise

    async def get(self, key_id: str) -> ApiKey | None:
        return await self._one(select(api_keys).where(api_keys.c.id == key_id))

    async def get_for_update(self, key_id: str) -> ApiKey | None:
        await self._tx.for_write()
        query = select(api_keys).where(api_keys.c.id == key_id)
        return await self._one(query.with_for_update() if self._tx.is_postgres else query)

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        query = (
            select(api_keys)
            .where(api_keys.c.user_id == user_id)
            .order_by(api_keys.c.created_at.desc(), api_keys.c.id.desc())
        )
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return [_to_key(row) for row in rows]

    async def update(self, key: ApiKey) -> None:
        row = _row(key)
        statement = (
            update(api_keys)
            .where(api_keys.c.id == key.id)
            .values({name: row[name] for name in _MUTABLE})
        )
        conn = await self._tx.for_write()
        result = await conn.execute(statement)
        if result.rowcount == 0:
            raise ApiKeyNotFound()

    async def count_for_user(self, user_id: str) -> int:
        query = (
            select(func.count())
            .select_from(api_keys)
            .where(api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None))
        )
        count: int = (await self._tx.conn.execute(query)).scalar_one()
        return count

    async def _one(self, query: Select[Any]) -> ApiKey | None:
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_key(row)

    async def _user_exists(self, user_id: str) -> bool:
        query = select(users.c.id).where(users.c.id == user_id)
        return (await self._tx.conn.execute(query)).first() is not None


class SqlApiKeyStore:
    """The verification hot path: autocommit lookups on PostgreSQL, and the batched usage
    counters."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)
        self._reader = reader(engine)

    async def find_by_hash(self, key_hash: bytes, now: datetime) -> ApiKey | None:
        # Two indexed probes (PostgreSQL: a BitmapOr; SQLite: its OR-by-union plan).
        query = select(api_keys).where(
            or_(
                api_keys.c.key_hash == key_hash,
                (api_keys.c.previous_hash == key_hash) & (api_keys.c.previous_expires_at > now),
            )
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = [_to_key(row) for row in rows]
        # A current hash wins over a rotated-out one (they cannot collide in practice).
        found.sort(key=lambda key: key.key_hash != key_hash)
        return found[0] if found else None

    async def add_usage(self, usage: Mapping[str, KeyUsage]) -> None:
        if not usage:
            return
        params = [
            {"key_id": key_id, "requests": used.requests, "seen": used.last_used_at}
            for key_id, used in sorted(usage.items())
        ]
        async with self._writer.begin() as conn:
            await conn.execute(_ADD_USAGE, params)


class SqlPlanCatalog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._reader = reader(engine)

    async def get(self, plan_id: str) -> Plan | None:
        query = select(plans).where(plans.c.id == plan_id)
        async with self._reader.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _to_plan(row)

    async def list_active(self) -> list[Plan]:
        query = (
            select(plans)
            .where(plans.c.is_active.is_(True))
            .order_by(plans.c.sort_order, plans.c.id)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_to_plan(row) for row in rows]


def _row(key: ApiKey) -> dict[str, Any]:
    row = {name: getattr(key, name) for name in _FIELDS}
    for name in _LISTS:
        row[name] = list(row[name])
    return row


def _to_key(row: RowMapping) -> ApiKey:
    values = {name: row[name] for name in _FIELDS}
    for name in _LISTS:
        values[name] = tuple(values[name])
    for name in _BYTES:
        values[name] = None if values[name] is None else bytes(values[name])
    return ApiKey(**values)


def _to_plan(row: RowMapping) -> Plan:
    return Plan(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        price_cents=row["price_cents"],
        currency=row["currency"],
        period=row["period"],
        qps=row["qps"],
        daily_limit=row["daily_limit"],
        monthly_limit=row["monthly_limit"],
        soft_limit_pct=row["soft_limit_pct"],
        pay_as_you_go=row["pay_as_you_go"],
        overage_price_per_1k=row["overage_price_per_1k"],
        sort_order=row["sort_order"],
        is_active=row["is_active"],
    )
