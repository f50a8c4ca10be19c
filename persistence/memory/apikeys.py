"""In-process API keys and plans, for a single process without a database server.

Every method completes without awaiting, so each call is atomic under asyncio, like the
SQL store's one transaction per call. Keys are indexed by their current and previous
hash, so the per-request lookup is a dictionary probe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

from domain.apikeys.errors import ApiKeyNotFound
from domain.apikeys.model import ApiKey, KeyUsage
from domain.quota.plans import DEFAULT_PLANS, Plan


class MemoryApiKeyStore:
    def __init__(self) -> None:
        self._by_id: dict[str, ApiKey] = {}
        self._id_by_hash: dict[bytes, str] = {}
        self._id_by_previous_hash: dict[bytes, str] = {}

    async def add(self, key: ApiKey) -> None:
        if key.id in self._by_id or key.key_hash in self._id_by_hash:
            raise ValueError("duplicate api key id or hash")
        self._put(_utc_fields(key))

    async def get(self, key_id: str) -> ApiKey | None:
        return self._by_id.get(key_id)

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        own = [key for key in self._by_id.values() if key.user_id == user_id]
        return sorted(own, key=lambda key: (key.created_at, key.id), reverse=True)

    async def find_by_hash(self, key_hash: bytes, now: datetime) -> ApiKey | None:
        key_id = self._id_by_hash.get(key_hash)
        if key_id is not None:
            return self._by_id[key_id]
        key_id = self._id_by_previous_hash.get(key_hash)
        if key_id is None:
            return None
        key = self._by_id[key_id]
        grace = key.previous_expires_at
        return key if grace is not None and grace > now else None

    async def update(self, key: ApiKey) -> None:
        current = self._by_id.get(key.id)
        if current is None:
            raise ApiKeyNotFound()
        owner = self._id_by_hash.get(key.key_hash)
        if owner is not None and owner != key.id:
            raise ValueError("duplicate api key hash")
        self._forget_hashes(current)
        self._put(
            _utc_fields(key).with_changes(
                user_id=current.user_id,
                created_at=current.created_at,
                last_used_at=current.last_used_at,
                total_requests=current.total_requests,
            )
        )

    async def add_usage(self, usage: Mapping[str, KeyUsage]) -> None:
        for key_id, used in usage.items():
            key = self._by_id.get(key_id)
            if key is None:
                continue
            seen = used.last_used_at.astimezone(UTC)
            if key.last_used_at is not None and key.last_used_at > seen:
                seen = key.last_used_at
            self._by_id[key_id] = replace(
                key, total_requests=key.total_requests + used.requests, last_used_at=seen
            )

    async def count_for_user(self, user_id: str) -> int:
        return sum(
            1 for key in self._by_id.values() if key.user_id == user_id and key.revoked_at is None
        )

    def _put(self, key: ApiKey) -> None:
        self._by_id[key.id] = key
        self._id_by_hash[key.key_hash] = key.id
        if key.previous_hash is not None:
            self._id_by_previous_hash[key.previous_hash] = key.id

    def _forget_hashes(self, key: ApiKey) -> None:
        self._id_by_hash.pop(key.key_hash, None)
        if key.previous_hash is not None:
            self._id_by_previous_hash.pop(key.previous_hash, None)


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
        self._plans = {plan.id: plan for plan in plans}

    async def get(self, plan_id: str) -> Plan | None:
        return self._plans.get(plan_id)

    async def list_active(self) -> list[Plan]:
        active = [plan for plan in self._plans.values() if plan.is_active]
        return sorted(active, key=lambda plan: (plan.sort_order, plan.id))
