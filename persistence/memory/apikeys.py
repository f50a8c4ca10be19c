"""In-process API keys and plans, for a single process without a database server.

Key management goes through the memory unit of work (``uow.api_keys``: staged, applied on
commit); the verification lookup reads the committed keys, indexed by their current and
previous hash, so the per-request lookup is a dictionary probe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from domain.accounts.errors import UserNotFound
from domain.accounts.model import User
from domain.apikeys.errors import ApiKeyNotFound
from domain.apikeys.model import ApiKey, KeyUsage
from domain.quota.plans import DEFAULT_PLANS, Plan


class ApiKeyTables:
    """The committed keys of a memory unit-of-work factory, with the hash indexes the
    verification lookup probes (shared by ``MemoryApiKeyRepository`` and
    ``MemoryApiKeyStore``)."""

    def __init__(self) -> None:
        self.by_id: dict[str, ApiKey] = {}
        self.id_by_hash: dict[bytes, str] = {}
        self.id_by_previous_hash: dict[bytes, str] = {}

    def put(self, key: ApiKey) -> None:
        current = self.by_id.get(key.id)
        if current is not None:
            self.id_by_hash.pop(current.key_hash, None)
            if current.previous_hash is not None:
                self.id_by_previous_hash.pop(current.previous_hash, None)
            # Usage is the lookup store's to count (add_usage), as the SQL update leaves it.
            key = replace(
                key, total_requests=current.total_requests, last_used_at=current.last_used_at
            )
        self.by_id[key.id] = key
        self.id_by_hash[key.key_hash] = key.id
        if key.previous_hash is not None:
            self.id_by_previous_hash[key.previous_hash] = key.id


class ApiKeyStage:
    """One unit of work's pending key writes."""

    def __init__(self) -> None:
        self.rows: dict[str, ApiKey] = {}

    def apply_to(self, tables: ApiKeyTables) -> None:
        for key in self.rows.values():
            tables.put(key)
        self.rows.clear()


class MemoryApiKeyRepository:
    """``uow.api_keys``: reads see the committed keys overlaid with the staged writes."""

    def __init__(
        self,
        *,
        users: dict[str, User],
        staged_users: dict[str, User],
        tables: ApiKeyTables,
        stage: ApiKeyStage,
    ) -> None:
        self._users = users
        self._staged_users = staged_users
        self._tables = tables
        self._stage = stage

    async def add(self, key: ApiKey) -> None:
        if key.user_id not in self._users and key.user_id not in self._staged_users:
            raise UserNotFound()
        if self._visible(key.id) is not None or self._hash_owner(key.key_hash) is not None:
            raise ValueError("duplicate api key id or hash")
        self._stage.rows[key.id] = _utc_fields(key)

    async def get(self, key_id: str) -> ApiKey | None:
        return self._visible(key_id)

    async def get_for_update(self, key_id: str) -> ApiKey | None:
        return self._visible(key_id)  # the factory's lock already serialises everything

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        keys = {**self._tables.by_id, **self._stage.rows}
        own = [key for key in keys.values() if key.user_id == user_id]
        return sorted(own, key=lambda key: (key.created_at, key.id), reverse=True)

    async def update(self, key: ApiKey) -> None:
        current = self._visible(key.id)
        if current is None:
            raise ApiKeyNotFound()
        owner = self._hash_owner(key.key_hash)
        if owner is not None and owner != key.id:
            raise ValueError("duplicate api key hash")
        self._stage.rows[key.id] = _utc_fields(key).with_changes(
            user_id=current.user_id,
            created_at=current.created_at,
            last_used_at=current.last_used_at,
            total_requests=current.total_requests,
        )

    async def count_for_user(self, user_id: str) -> int:
        keys = {**self._tables.by_id, **self._stage.rows}
        return sum(1 for k in keys.values() if k.user_id == user_id and k.revoked_at is None)

    def _visible(self, key_id: str) -> ApiKey | None:
        staged = self._stage.rows.get(key_id)
        return staged if staged is not None else self._tables.by_id.get(key_id)

    def _hash_owner(self, key_hash: bytes) -> str | None:
        for key in self._stage.rows.values():
            if key.key_hash == key_hash:
                return key.id
        return self._tables.id_by_hash.get(key_hash)


class MemoryApiKeyStore:
    """The verification lookup and usage counters, on the committed keys. Every method
    completes without awaiting, so each call is atomic under asyncio."""

    def __init__(self, tables: ApiKeyTables) -> None:
        self._tables = tables

    async def find_by_hash(self, key_hash: bytes, now: datetime) -> ApiKey | None:
        tables = self._tables
        key_id = tables.id_by_hash.get(key_hash)
        if key_id is not None:
            return tables.by_id[key_id]
        key_id = tables.id_by_previous_hash.get(key_hash)
        if key_id is None:
            return None
        key = tables.by_id[key_id]
        grace = key.previous_expires_at
        return key if grace is not None and grace > now else None

    async def add_usage(self, usage: Mapping[str, KeyUsage]) -> None:
        for key_id, used in usage.items():
            key = self._tables.by_id.get(key_id)
            if key is None:
                continue
            seen = used.last_used_at.astimezone(UTC)
            if key.last_used_at is not None and key.last_used_at > seen:
                seen = key.last_used_at
            self._tables.by_id[key_id] = replace(
                key, total_requests=key.total_requests + used.requests, last_used_at=seen
            )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _utc_fields(key: ApiKey) -> ApiKey:
    """Instants as UTC, like the SQL backends return them."""
    return replace(
        key,
        created_at=key.created_at.astimezone(UTC),
        updated_at=key.updated_at.astimezone(UTC),
        expires_at=_utc(key.expires_at),
        revoked_at=_utc(key.revoked_at),
        last_used_at=_utc(key.last_used_at),
        previous_expires_at=_utc(key.previous_expires_at),
    )


class MemoryPlanCatalog:
    def __init__(self, plans: Iterable[Plan] = DEFAULT_PLANS) -> None:
        self.plans = {plan.id: plan for plan in plans}
        """By id; billing's ``MemoryPlanStore`` writes here."""

    async def get(self, plan_id: str) -> Plan | None:
        return self.plans.get(plan_id)

    async def list_active(self) -> list[Plan]:
        active = [plan for plan in self.plans.values() if plan.is_active]
        return sorted(active, key=lambda plan: (plan.sort_order, plan.id))
