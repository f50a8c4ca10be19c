"""Verifying a presented API key on the hot path.

A key is checked for shape and checksum before anything else, hashed with HMAC-SHA256
(never argon2: keys carry 192 random bits, so a fast keyed hash is safe), and looked up
by that hash. Verified keys are cached in-process; every change to a key is published
(``KeyInvalidations``) and drops the cached entry in every process, and an entry is never
trusted longer than ``cache_ttl`` even if a message is lost. The owner's status, role and
plan come from ``owners``, which the composition root backs with the sessions' 1 s
authentication cache, so locking a user stops their keys as quickly as their sessions.
``last_used_at`` and ``total_requests`` are accumulated here and written in batches by
``flush_usage``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from domain.accounts.model import Role, UserStatus
from domain.apikeys.allowlist import ip_allowed
from domain.apikeys.errors import InvalidApiKey, IpNotAllowed
from domain.apikeys.format import KeyHasher, parse_key
from domain.apikeys.model import ApiKey, ApiKeyStatus, KeyUsage
from domain.apikeys.ports import INVALIDATE_ALL, ApiKeyStore, KeyInvalidations, OwnerLookup
from domain.clock import Clock
from domain.principal import AuthMethod, Principal

log = logging.getLogger("karpov.apikeys")

ALL_KEYS = INVALIDATE_ALL


@dataclass(frozen=True, slots=True)
class VerifiedKey:
    key: ApiKey
    owner_role: Role
    owner_plan_id: str

    def principal(self, client_ip: str | None, user_agent: str | None) -> Principal:
        return Principal(
            AuthMethod.API_KEY, user_id=self.key.user_id, role=self.owner_role,
            api_key_id=self.key.id, scopes=frozenset(self.key.scopes), client_ip=client_ip,
            user_agent=user_agent,
        )  # fmt: skip


@dataclass(slots=True)
class _Cached:
    key: ApiKey
    at: float


class ApiKeyVerifier:
    def __init__(
        self,
        *,
        store: ApiKeyStore,
        owners: OwnerLookup,
        hasher: KeyHasher,
        clock: Clock,
        cache_ttl: float = 60.0,
        max_entries: int = 100_000,
    ) -> None:
        self._store = store
        self._owners = owners
        self._hasher = hasher
        self._clock = clock
        self._cache_ttl = cache_ttl
        self._max_entries = max_entries
        self._keys: dict[bytes, _Cached] = {}
        self._digests_of: dict[str, set[bytes]] = {}
        self._epoch = 0
        """Bumped by every invalidation: a lookup that raced one is not cached."""
        # Per key since the last flush: plain counters, because this runs on every request.
        self._requests: dict[str, int] = {}
        self._last_used: dict[str, datetime] = {}
        self._flushing = asyncio.Lock()

    async def verify(self, presented: str, client_ip: str | None) -> VerifiedKey:
        text = parse_key(presented)
        if text is None:
            raise InvalidApiKey()
        digest = self._hasher.hash(text)
        key = await self._key(digest)
        now = self._clock.now()
        if key is None or key.status(now) is not ApiKeyStatus.ACTIVE:
            raise InvalidApiKey()
        if digest != key.key_hash and (
            key.previous_expires_at is None or key.previous_expires_at <= now
        ):
            raise InvalidApiKey()  # an old secret whose grace period has ended
        if key.ip_allowlist and not ip_allowed(key.ip_allowlist, client_ip):
            raise IpNotAllowed()
        owner = await self._owners(key.user_id)
        if owner is None or owner.status is not UserStatus.ACTIVE:
            raise InvalidApiKey()
        self._note_use(key.id, now)
        return VerifiedKey(key, owner.role, owner.plan_id)

    # -- cache ------------------------------------------------------------------------

    async def _key(self, digest: bytes) -> ApiKey | None:
        cached = self._keys.get(digest)
        mono = time.monotonic()
        if cached is not None and mono - cached.at < self._cache_ttl:
            return cached.key
        epoch = self._epoch
        key = await self._store.find_by_hash(digest, self._clock.now())
        if key is None or epoch != self._epoch:
            return key
        if len(self._keys) >= self._max_entries:
            self.forget_all()
        self._keys[digest] = _Cached(key, mono)
        self._digests_of.setdefault(key.id, set()).add(digest)
        return key

    def forget(self, key_id: str) -> None:
        self._epoch += 1
        for digest in self._digests_of.pop(key_id, ()):
            self._keys.pop(digest, None)

    def forget_all(self) -> None:
        self._epoch += 1
        self._keys.clear()
        self._digests_of.clear()

    async def follow(self, invalidations: KeyInvalidations) -> None:
        """Apply published invalidations until cancelled (a background task)."""
        async for key_id in invalidations.subscribe():
            if key_id == ALL_KEYS:
                self.forget_all()
            else:
                self.forget(key_id)

    # -- usage ------------------------------------------------------------------------

    def _note_use(self, key_id: str, now: datetime) -> None:
        self._requests[key_id] = self._requests.get(key_id, 0) + 1
        self._last_used[key_id] = now

    async def flush_usage(self) -> None:
        """Write the accumulated counts; on failure they are kept for the next flush."""
        async with self._flushing:  # the shutdown flush waits for a periodic one in flight
            await self._flush_usage()

    async def _flush_usage(self) -> None:
        if not self._requests:
            return
        requests, last_used = self._requests, self._last_used
        self._requests, self._last_used = {}, {}
        batch = {key_id: KeyUsage(n, last_used[key_id]) for key_id, n in requests.items()}
        try:
            await self._store.add_usage(batch)
        except Exception:
            log.exception("could not record API key usage; retrying on the next flush")
            for key_id, n in requests.items():
                self._requests[key_id] = self._requests.get(key_id, 0) + n
                self._last_used.setdefault(key_id, last_used[key_id])

    async def flush_periodically(self, interval: float = 1.0) -> None:
        while True:
            await asyncio.sleep(interval)
            # Shielded: stopping this loop at shutdown must not abort counts being written
            # (they were taken off the buffer, and an increment is not safe to resend).
            await asyncio.shield(self.flush_usage())


class InvalidateHereFirst:
    """Publishes through ``remote`` after dropping the entry in this process, so the
    process that made a change never serves the old key, even for the milliseconds the
    message takes to come back."""

    def __init__(self, verifier: ApiKeyVerifier, remote: KeyInvalidations) -> None:
        self._verifier = verifier
        self._remote = remote

    async def publish(self, key_id: str) -> None:
        self._verifier.forget(key_id)
        try:
            await self._remote.publish(key_id)
        except Exception:
            # The change is already stored; other processes still drop their copy when
            # its cache entry expires (KARPOV_API_KEY_CACHE_TTL). Failing the request
            # here would report a revocation that did happen as an error.
            log.exception("could not broadcast a change to API key %s", key_id)

    def subscribe(self) -> AsyncIterator[str]:
        return self._remote.subscribe()
