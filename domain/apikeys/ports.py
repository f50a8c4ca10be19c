"""What the API-key context needs from the outside world. Each port has one contract
suite (tests/contract) run against every implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Protocol

from domain import uow
from domain.accounts.model import User
from domain.accounts.ports import UserRepository
from domain.apikeys.model import ApiKey, KeyUsage


class ApiKeyRepository(Protocol):
    """Part of the unit of work (``uow.api_keys``): managing keys, where a check and the
    change it guards (the per-user cap, "not revoked yet") commit together, under the
    lock they need."""

    async def add(self, key: ApiKey) -> None:
        """Insert a new key; ``UserNotFound`` when ``user_id`` names no user."""

    async def get(self, key_id: str) -> ApiKey | None: ...

    async def get_for_update(self, key_id: str) -> ApiKey | None:
        """Like ``get``, but locks the key until the unit of work ends (SQL backends)."""

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        """Every key of the user, revoked ones included, newest first (created_at, id)."""

    async def update(self, key: ApiKey) -> None:
        """Replace every mutable field (everything but id, user_id, created_at,
        last_used_at, total_requests). Raises ``ApiKeyNotFound`` for an unknown id."""

    async def count_for_user(self, user_id: str) -> int:
        """Keys of the user that are not revoked (for the per-user cap). Lock the owner
        (``users.get_for_update``) first when the count guards an insert."""


class UnitOfWork(uow.UnitOfWork, Protocol):
    """The repositories of key management: the keys, and their owners (whose row lock
    serialises the per-user cap)."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]


class ApiKeyStore(Protocol):
    """The hot path's view of the keys, outside any unit of work: one indexed lookup per
    verification, and the batched usage counters."""

    async def find_by_hash(self, key_hash: bytes, now: datetime) -> ApiKey | None:
        """The key whose current hash is ``key_hash``, or whose ``previous_hash`` is and
        whose ``previous_expires_at`` is after ``now``. Status is the caller's business."""

    async def add_usage(self, usage: Mapping[str, KeyUsage]) -> None:
        """Batch flush: per key id, ``total_requests += requests`` and ``last_used_at``
        becomes the later of the stored and the given value. Unknown ids are ignored."""


OwnerLookup = Callable[[str], Awaitable[User | None]]
"""The owner of a key by user id (the composition root backs it with the sessions' 1 s
authentication cache, so locking a user stops their keys as quickly as their sessions)."""


INVALIDATE_ALL = "*"
"""Yielded by ``KeyInvalidations.subscribe`` when ids may have been missed: drop every
cached key. Never a key id (ids are hex)."""


class KeyInvalidations(Protocol):
    """Tells every process that a key changed, so cached verifications are dropped
    (Redis pub/sub across processes; in-process for the embedded default)."""

    async def publish(self, key_id: str) -> None: ...

    def subscribe(self) -> AsyncIterator[str]:
        """Key ids as they are published, until the iterator is closed.

        The first item is :data:`INVALIDATE_ALL`, as soon as the subscription is live
        (anything published from then on is delivered); it comes again whenever the
        subscription was interrupted and re-established, since ids may have been lost
        in between. A subscriber that caches keys drops its whole cache on it."""
