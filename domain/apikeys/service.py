"""Managing API keys: create, list, view, change, enable/disable, revoke, rotate.

Keys are managed by a signed-in person: an API-key caller may read its owner's keys but
not create, change or rotate them (a leaked, narrowly scoped key must not be able to mint
a wider one). Every change runs in one unit of work under the lock it needs (the owner's
row for the per-user cap, the key's row for a change), is published so that every process
drops its cached verification at once, and is audited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.accounts.errors import UserNotFound
from domain.apikeys.allowlist import normalise_allowlist
from domain.apikeys.commands import CreateApiKey, RotateApiKey, SetApiKeyEnabled, UpdateApiKey
from domain.apikeys.errors import ApiKeyNotFound
from domain.apikeys.format import KeyHasher, display_prefix, generate_key, last4
from domain.apikeys.model import ApiKey, ApiKeyStatus
from domain.apikeys.ports import KeyInvalidations, UnitOfWork, UnitOfWorkFactory
from domain.apikeys.scopes import normalise_scopes
from domain.clock import Clock
from domain.errors import Conflict, InvalidInput, Unauthenticated
from domain.ids import new_id
from domain.principal import AuthMethod, Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

MAX_KEYS_PER_USER = 50
MAX_NAME = 100
MAX_DESCRIPTION = 500
MAX_RPM = 1_000_000
MAX_DAILY = 1_000_000_000
MAX_GRACE = timedelta(days=7)
MAX_SCOPES = 64
MAX_IP_RULES = 64  # checked on every request made with the key
DEFAULT_GRACE = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    plaintext: str
    """Shown once; only its keyed hash is stored."""


class ApiKeyService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        hasher: KeyHasher,
        invalidations: KeyInvalidations,
        clock: Clock,
        audit: AuditLog,
        max_keys_per_user: int = MAX_KEYS_PER_USER,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._invalidations = invalidations
        self._clock = clock
        self._audit = audit
        self._max_keys = max_keys_per_user

    async def create(self, principal: Principal, spec: CreateApiKey) -> IssuedKey:
        user_id = _signed_in(principal)
        now = self._clock.now()
        name = _name(spec.name)
        description = _description(spec.description)
        scopes = _scopes(spec.scopes)
        allowlist = _allowlist(spec.ip_allowlist)
        rpm = _limit("rateLimitRpm", spec.rate_limit_rpm, MAX_RPM)
        daily = _limit("rateLimitDaily", spec.rate_limit_daily, MAX_DAILY)
        _future("expiresAt", spec.expires_at, now)
        plaintext = generate_key()
        key = ApiKey(
            id=new_id(), user_id=user_id, key_hash=self._hasher.hash(plaintext),
            prefix=display_prefix(plaintext), last4=last4(plaintext), name=name,
            description=description, scopes=scopes, ip_allowlist=allowlist,
            rate_limit_rpm=rpm, rate_limit_daily=daily, enabled=True, created_at=now,
            updated_at=now, expires_at=spec.expires_at,
        )  # fmt: skip
        async with self._uow() as uow:
            # The owner's row lock serialises the user's creates: each count sees the keys
            # every earlier create committed, so concurrent creates cannot pass the cap.
            if await uow.users.get_for_update(user_id) is None:
                raise UserNotFound()
            if await uow.api_keys.count_for_user(user_id) >= self._max_keys:
                raise Conflict(f"at most {self._max_keys} API keys per user; revoke one first")
            await uow.api_keys.add(key)
            await uow.commit()
        await self._audit.record(
            AuditAction.API_KEY_CREATED, principal, subject_user_id=user_id, key_id=key.id
        )
        return IssuedKey(key, plaintext)

    async def list(self, principal: Principal) -> list[ApiKey]:
        user_id = _owner(principal)
        async with self._uow() as uow:
            return await uow.api_keys.list_for_user(user_id)

    async def get(self, principal: Principal, key_id: str) -> ApiKey:
        async with self._uow() as uow:
            key = await uow.api_keys.get(key_id)
        if key is None or key.user_id != _owner(principal):
            raise ApiKeyNotFound()
        return key

    async def update(self, principal: Principal, command: UpdateApiKey) -> ApiKey:
        changes = command.changes
        async with self._mutable(principal, command.key_id) as (uow, key):
            now = self._clock.now()
            updated = key
            if "name" in changes:
                updated = updated.with_changes(name=_name(changes["name"] or ""))
            if "description" in changes:
                text = changes["description"] or ""
                updated = updated.with_changes(description=_description(text))
            if "scopes" in changes:
                updated = updated.with_changes(scopes=_scopes(changes["scopes"] or ()))
            if "ip_allowlist" in changes:
                rules = _allowlist(changes["ip_allowlist"] or ())
                updated = updated.with_changes(ip_allowlist=rules)
            if "rate_limit_rpm" in changes:
                rpm = _limit("rateLimitRpm", changes["rate_limit_rpm"] or 0, MAX_RPM)
                updated = updated.with_changes(rate_limit_rpm=rpm)
            if "rate_limit_daily" in changes:
                daily = _limit("rateLimitDaily", changes["rate_limit_daily"] or 0, MAX_DAILY)
                updated = updated.with_changes(rate_limit_daily=daily)
            if "expires_at" in changes:
                _future("expiresAt", changes["expires_at"], now)
                updated = updated.with_changes(expires_at=changes["expires_at"])
            if updated == key:
                return key
            updated = await self._save(uow, updated.with_changes(updated_at=now))
        await self._published(principal, updated, AuditAction.API_KEY_UPDATED, change="update")
        return updated

    async def set_enabled(self, principal: Principal, command: SetApiKeyEnabled) -> ApiKey:
        enabled = command.enabled
        async with self._mutable(principal, command.key_id) as (uow, key):
            if key.enabled == enabled:
                return key
            changed = await self._save(
                uow, key.with_changes(enabled=enabled, updated_at=self._clock.now())
            )
        change = "enable" if enabled else "disable"
        await self._published(principal, changed, AuditAction.API_KEY_UPDATED, change=change)
        return changed

    async def revoke(self, principal: Principal, key_id: str) -> ApiKey:
        async with self._mutable(principal, key_id) as (uow, key):
            now = self._clock.now()
            revoked = await self._save(uow, key.with_changes(
                revoked_at=now, updated_at=now, previous_hash=None, previous_expires_at=None
            ))  # fmt: skip
        await self._published(principal, revoked, AuditAction.API_KEY_REVOKED)
        return revoked

    async def rotate(self, principal: Principal, command: RotateApiKey) -> IssuedKey:
        """A new secret for the same key (id, settings and history stay); the old secret
        keeps working for ``command.grace`` (0 ends it at once; at most 7 days)."""
        grace = command.grace
        if grace < timedelta(0) or grace > MAX_GRACE:
            raise InvalidInput("grace must be between 0 and 7 days", field="graceSeconds")
        async with self._mutable(principal, command.key_id) as (uow, key):
            now = self._clock.now()
            if key.status(now) is ApiKeyStatus.EXPIRED:
                raise Conflict("an expired key cannot be rotated; create a new one")
            plaintext = generate_key()
            rotated = await self._save(uow, key.with_changes(
                key_hash=self._hasher.hash(plaintext), prefix=display_prefix(plaintext),
                last4=last4(plaintext), updated_at=now,
                previous_hash=key.key_hash if grace > timedelta(0) else None,
                previous_expires_at=now + grace if grace > timedelta(0) else None,
            ))  # fmt: skip
        await self._published(
            principal, rotated, AuditAction.API_KEY_ROTATED,
            grace_seconds=str(int(grace.total_seconds())),
        )  # fmt: skip
        return IssuedKey(rotated, plaintext)

    @asynccontextmanager
    async def _mutable(
        self, principal: Principal, key_id: str
    ) -> AsyncIterator[tuple[UnitOfWork, ApiKey]]:
        """A unit of work holding the caller's live key, locked until it ends: a change
        computed from the key cannot overwrite a concurrent one (a revocation, say)."""
        owner = _signed_in(principal)
        async with self._uow() as uow:
            key = await uow.api_keys.get_for_update(key_id)
            if key is None or key.user_id != owner or key.revoked_at is not None:
                raise ApiKeyNotFound()
            yield uow, key

    @staticmethod
    async def _save(uow: UnitOfWork, key: ApiKey) -> ApiKey:
        await uow.api_keys.update(key)
        await uow.commit()
        return key

    async def _published(
        self, principal: Principal, key: ApiKey, action: AuditAction, **details: str
    ) -> None:
        """After a change is committed: every process drops its cached copy, and the
        change is audited."""
        await self._invalidations.publish(key.id)
        await self._audit.record(
            action, principal, subject_user_id=key.user_id, key_id=key.id, **details
        )


def _owner(principal: Principal) -> str:
    if principal.user_id is None:
        raise Unauthenticated()
    return principal.user_id


def _signed_in(principal: Principal) -> str:
    if principal.method is not AuthMethod.SESSION or principal.user_id is None:
        raise Unauthenticated("managing API keys needs a signed-in session")
    return principal.user_id


def _scopes(raw: Iterable[str]) -> tuple[str, ...]:
    scopes = normalise_scopes(raw)
    if len(scopes) > MAX_SCOPES:
        raise InvalidInput(f"at most {MAX_SCOPES} scopes", field="scopes")
    return scopes


def _allowlist(raw: Iterable[str]) -> tuple[str, ...]:
    rules = normalise_allowlist(raw)
    if len(rules) > MAX_IP_RULES:
        raise InvalidInput(f"at most {MAX_IP_RULES} allowlist entries", field="ipAllowlist")
    return rules


def _name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidInput("name is required", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name is longer than {MAX_NAME} characters", field="name")
    return name


def _description(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description is longer than {MAX_DESCRIPTION} characters", field="description"
        )
    return text


def _limit(field: str, value: int, maximum: int) -> int:
    if value < 0 or value > maximum:
        raise InvalidInput(f"{field} must be between 0 (unlimited) and {maximum}", field=field)
    return value


def _future(field: str, when: datetime | None, now: datetime) -> None:
    if when is not None and when <= now:
        raise InvalidInput(f"{field} must be in the future", field=field)
