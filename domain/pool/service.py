"""``PoolService``: the upstream credential pool.

Leasing (``acquire`` / ``release``, the kernel's ``CredentialLeaser``): among a
provider's active credentials that serve the capability and are not cooling down, pick
one at random weighted by ``max(health, 0.01) / (failCount + 1)`` (the original's rule)
and take one of its slots in the lease registry, which is exclusive up to the
credential's ``maxConcurrency`` and within its request rate, across processes; a
credential refused there is dropped and the choice made again among the rest.
``release`` frees the slot and applies the call's outcome, once:

======================  ==========================================================
``ok``                  health + 0.01 (at most 1), failCount 0
``rate_limited``        cooldown 5 min, health × 0.8
``auth_failed``         status ``expired``, queued for refresh
``not_found``,          no penalty (the content failed, not the account; the
``no_rights``           original penalised these)
``upstream_error``,     failCount + 1; the 5th in a row cools the credential down
``network_error``       for 1 min and starts the count again
======================  ==========================================================

Administration (admins only, every change audited without the payload): add, list,
remove, health per provider, set status, refresh and test through the provider's
``CredentialLifecycle``. Payloads are sealed by the key ring with associated data
``pool:<credential id>``; nothing here logs, audits or returns one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from domain.clock import Clock
from domain.errors import DomainError, InvalidInput, Unauthenticated
from domain.ids import new_id
from domain.keyring_service import KeyRingProvider
from domain.leases import CredentialSecret, Lease, LeaseResult
from domain.observations import Observations
from domain.paging import MAX_OFFSET, Page
from domain.pool.commands import AddCredential, CheckCredential, SetCredentialStatus
from domain.pool.errors import (
    PoolAdminRequired,
    PoolCredentialNotFound,
    PoolInvalidInput,
    PoolInvalidPayload,
    PoolLifecycleUnavailable,
    PoolRefreshFailed,
    PoolRefreshInProgress,
    PoolUnavailable,
    PoolUnknownProvider,
)
from domain.pool.model import (
    SETTABLE_STATUSES,
    Credential,
    CredentialFilter,
    CredentialStatus,
    CredentialTestResult,
    ProviderHealth,
)
from domain.pool.ports import (
    CredentialLifecycle,
    LeaseRegistry,
    LeaseVerdict,
    RefreshLock,
    SealedCredential,
    SlotRequest,
    UnitOfWorkFactory,
)
from domain.principal import Principal
from domain.security.audit import AuditLog
from domain.security.model import AuditAction

log = logging.getLogger("karpov.pool")

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_LABEL = 200
DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 500
HEALTH_CHECK = "health_check"
"""The capability a test names when none is given (the original's ``HealthCheck``)."""

OK_HEALTH_STEP = 0.01
RATE_LIMIT_COOLDOWN = timedelta(minutes=5)
RATE_LIMIT_HEALTH_FACTOR = 0.8
FAILURES_BEFORE_COOLDOWN = 5
FAILURE_COOLDOWN = timedelta(minutes=1)
# -- worker (issue 17) --
HEALTH_CONCURRENCY = 8
HEALTH_TIMEOUT = 5.0
HEALTH_FAILURES_TO_DISABLE = 3
REFRESH_BEFORE_EXPIRY: Mapping[str, timedelta] = {"qqmusic": timedelta(hours=2)}


@dataclass(frozen=True, slots=True)
class HealthSweep:
    checked: int
    failed: int
    disabled: int


@dataclass(frozen=True, slots=True)
class PoolPolicy:
    lease_ttl_seconds: float = 30.0
    refresh_lock_ttl_seconds: float = 60.0
    """Longer than any lifecycle call may take (their clients time out well before)."""
    default_max_concurrency: int = 4
    default_requests_per_second: int = 3
    max_concurrency_limit: int = 64
    requests_per_second_limit: int = 1000
    # -- upstreams (issue 15) --
    provider_requests_per_second: Mapping[str, int] = field(default_factory=dict)
    """A provider's own default request rate for its new credentials (over the one above)."""


def payload_aad(credential_id: str) -> bytes:
    """The associated data binding a sealed payload to its credential: a blob copied onto
    another credential's row does not decrypt."""
    return f"pool:{credential_id}".encode()


def apply_result(credential: Credential, result: LeaseResult, now: datetime) -> Credential:
    """The credential after a call made with it ended with ``result`` (the taxonomy)."""
    if result is LeaseResult.OK:
        health = min(1.0, round(credential.health_score + OK_HEALTH_STEP, 6))
        return replace(credential, health_score=health, fail_count=0, last_used_at=now)
    if result is LeaseResult.RATE_LIMITED:
        return replace(
            credential,
            health_score=round(credential.health_score * RATE_LIMIT_HEALTH_FACTOR, 6),
            cooldown_until=now + RATE_LIMIT_COOLDOWN,
            last_used_at=now,
            last_failed_at=now,
        )
    if result is LeaseResult.AUTH_FAILED:
        status = credential.status
        if status is CredentialStatus.ACTIVE:
            status = CredentialStatus.EXPIRED
        return replace(
            credential,
            status=status,
            refresh_queued_at=credential.refresh_queued_at or now,
            last_used_at=now,
            last_failed_at=now,
        )
    if result in (LeaseResult.NOT_FOUND, LeaseResult.NO_RIGHTS):
        return replace(credential, last_used_at=now)
    # upstream_error, network_error
    failures = credential.fail_count + 1
    cooldown = credential.cooldown_until
    if failures >= FAILURES_BEFORE_COOLDOWN:
        failures, cooldown = 0, now + FAILURE_COOLDOWN
    return replace(
        credential,
        fail_count=failures,
        cooldown_until=cooldown,
        last_used_at=now,
        last_failed_at=now,
    )


def _result_of(error: BaseException) -> LeaseResult | None:
    """The taxonomy result a provider failure names (``ProviderFailure.result``), without
    importing the music context that declares those failures."""
    result = getattr(error, "result", None)
    return result if isinstance(result, LeaseResult) else None


class PoolService:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        leases: LeaseRegistry,
        refresh_lock: RefreshLock,
        keys: KeyRingProvider,
        audit: AuditLog,
        clock: Clock,
        providers: Mapping[str, Collection[str]],
        lifecycles: Iterable[CredentialLifecycle] = (),
        policy: PoolPolicy | None = None,
        rng: random.Random | None = None,
        observations: Observations | None = None,  # worker (issue 17): metrics
    ) -> None:
        """``providers``: every provider name a credential may be added for, with the
        capabilities it has. ``lifecycles``: the providers whose accounts can be checked
        and refreshed on this server."""
        self._uow = uow
        self._leases = leases
        self._lock = refresh_lock
        self._keys = keys
        self._audit = audit
        self._clock = clock
        self._providers = {name: frozenset(caps) for name, caps in providers.items()}
        self._lifecycles = {lc.provider: lc for lc in lifecycles}
        self._policy = policy or PoolPolicy()
        self._rng = rng or random.SystemRandom()
        self._observe = observations or Observations()

    # -- leasing (domain.leases.CredentialLeaser) -----------------------------------------

    async def acquire(
        self, provider: str, capability: str, *, exclude: Collection[str] = ()
    ) -> Lease | None:
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.pool_credentials.leasable(provider)
        usable = [
            s
            for s in found
            if s.credential.id not in exclude
            and s.credential.serves(capability)
            and not s.credential.cooling_down(now)
        ]
        while usable:
            chosen = self._choose(usable)
            usable.remove(chosen)
            credential = chosen.credential
            lease_id = new_id()
            request = SlotRequest(
                credential_id=credential.id,
                lease_id=lease_id,
                max_concurrency=credential.max_concurrency,
                requests_per_second=credential.requests_per_second,
                ttl_seconds=self._policy.lease_ttl_seconds,
                now=now,
            )
            try:
                verdict = await self._leases.take(request)
            except Exception:
                # Without the registry no slot can be counted: refuse rather than overrun.
                log.exception("the pool's lease registry failed")
                raise PoolUnavailable() from None
            if verdict is not LeaseVerdict.GRANTED:
                continue
            try:
                payload = await self._keys.decrypt(chosen.payload_enc, payload_aad(credential.id))
            except Exception:
                # A blob we cannot open (a lost key version): skip it, loudly.
                log.exception(
                    "pool payload could not be decrypted", extra={"credential": credential.id}
                )
                await self._leases.give_back(credential.id, lease_id, now)
                continue
            self._observe.lease_taken(credential.provider)
            return Lease(lease_id=lease_id, secret=CredentialSecret(credential.id, payload))
        return None

    async def release(self, lease: Lease, result: LeaseResult) -> None:
        credential_id = lease.secret.credential_id
        now = self._clock.now()
        try:
            held = await self._leases.give_back(credential_id, lease.lease_id, now)
        except Exception:
            # The slot expires by itself; the outcome is lost with the registry.
            log.exception("the pool's lease registry failed", extra={"credential": credential_id})
            return
        if not held:
            return  # released already, or expired: its outcome was applied or is moot
        result = LeaseResult(result)
        self._observe.lease_released(result.value)
        changed = await self._apply(credential_id, result)
        if changed is not None and result is LeaseResult.AUTH_FAILED:
            log.warning(
                "pool credential's login failed; queued for refresh",
                extra={"credential": credential_id, "provider": changed.provider},
            )

    def _choose(self, candidates: list[SealedCredential]) -> SealedCredential:
        weights = [s.credential.weight for s in candidates]
        return self._rng.choices(candidates, weights=weights, k=1)[0]

    async def _apply(self, credential_id: str, result: LeaseResult) -> Credential | None:
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.pool_credentials.get_for_update(credential_id)
            if current is None:
                return None
            changed = apply_result(current, result, now)
            if changed != current:
                await uow.pool_credentials.update(changed)
                await uow.commit()
        return changed

    # -- administration -------------------------------------------------------------------

    async def add(self, principal: Principal, command: AddCredential) -> Credential:
        self._require_admin(principal)
        provider = self._known_provider(command.provider)
        label = command.label.strip()
        if not label:
            raise PoolInvalidInput("label is required", field="label")
        if len(label) > MAX_LABEL:
            raise PoolInvalidInput(f"label is longer than {MAX_LABEL} characters", field="label")
        capabilities = self._known_capabilities(provider, command.capabilities)
        payload = _decode_payload(command.payload_base64)
        expires_at = self._validated_expiry(provider, payload)
        policy = self._policy
        max_concurrency = _bounded(
            command.max_concurrency, policy.default_max_concurrency,
            policy.max_concurrency_limit, "maxConcurrency",
        )  # fmt: skip
        per_second = _bounded(
            command.requests_per_second,
            policy.provider_requests_per_second.get(provider, policy.default_requests_per_second),
            policy.requests_per_second_limit, "requestsPerSecond",
        )  # fmt: skip
        credential = Credential(
            id=new_id(),
            provider=provider,
            label=label,
            capabilities=capabilities,
            status=CredentialStatus.ACTIVE,
            health_score=1.0,
            fail_count=0,
            created_at=self._clock.now(),
            expires_at=expires_at,
            max_concurrency=max_concurrency,
            requests_per_second=per_second,
        )
        sealed = await self._keys.encrypt(payload, payload_aad(credential.id))
        async with self._uow() as uow:
            await uow.pool_credentials.add(credential, sealed)
            await uow.commit()
        await self._record(AuditAction.POOL_CREDENTIAL_ADDED, principal, credential)
        return credential

    async def get(self, principal: Principal, credential_id: str) -> Credential:
        self._require_admin(principal)
        async with self._uow() as uow:
            found = await uow.pool_credentials.get(credential_id)
        if found is None:
            raise PoolCredentialNotFound(field="id")
        return (await self._with_refreshing([found]))[0]

    async def list_credentials(
        self,
        principal: Principal,
        *,
        provider: str | None = None,
        status: str | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int = 0,
    ) -> Page[Credential]:
        self._require_admin(principal)
        if provider:
            self._known_provider(provider, field="provider")
        wanted = _parse_status(status, field="statusFilter") if status else None
        if limit <= 0:
            limit = DEFAULT_LIST_LIMIT
        limit = min(limit, MAX_LIST_LIMIT)
        if offset < 0 or offset > MAX_OFFSET:
            raise PoolInvalidInput(f"offset must be between 0 and {MAX_OFFSET}", field="offset")
        if wanted is CredentialStatus.REFRESHING:
            # Not a stored status: the credentials a refresh holds right now.
            async with self._uow() as uow:
                everything = await uow.pool_credentials.page(
                    CredentialFilter(provider=provider or None), limit=1_000_000, offset=0
                )
            shown = [
                c
                for c in await self._with_refreshing(everything.items)
                if c.status is CredentialStatus.REFRESHING
            ]
            return Page(shown[offset : offset + limit], len(shown), limit, offset)
        async with self._uow() as uow:
            page = await uow.pool_credentials.page(
                CredentialFilter(provider=provider or None, status=wanted),
                limit=limit,
                offset=offset,
            )
        return replace(page, items=await self._with_refreshing(page.items))

    async def remove(self, principal: Principal, credential_id: str) -> None:
        self._require_admin(principal)
        async with self._uow() as uow:
            found = await uow.pool_credentials.get_for_update(credential_id)
            if found is None:
                raise PoolCredentialNotFound(field="id")
            await uow.pool_credentials.delete(credential_id)
            await uow.commit()
        await self._record(AuditAction.POOL_CREDENTIAL_REMOVED, principal, found)

    async def health(self, principal: Principal, provider: str) -> ProviderHealth:
        self._require_admin(principal)
        if not provider:
            raise PoolInvalidInput("provider is required", field="provider")
        provider = self._known_provider(provider)
        async with self._uow() as uow:
            credentials = await uow.pool_credentials.of_provider(provider)
        now = self._clock.now()
        shown = await self._with_refreshing(credentials)
        counts = {s: 0 for s in CredentialStatus}
        for c in shown:
            counts[c.status] += 1
        active = [c for c in shown if c.status is CredentialStatus.ACTIVE]
        average = sum(c.health_score for c in active) / len(active) if active else 0.0
        return ProviderHealth(
            provider=provider,
            total=len(shown),
            active=counts[CredentialStatus.ACTIVE],
            disabled=counts[CredentialStatus.DISABLED],
            banned=counts[CredentialStatus.BANNED],
            expired=counts[CredentialStatus.EXPIRED],
            refreshing=counts[CredentialStatus.REFRESHING],
            in_cooldown=sum(1 for c in active if c.cooling_down(now)),
            avg_health_score=round(average, 4),
        )

    async def set_status(self, principal: Principal, command: SetCredentialStatus) -> Credential:
        self._require_admin(principal)
        status = _parse_status(command.status, field="status")
        if status not in SETTABLE_STATUSES:
            allowed = ", ".join(s.value for s in SETTABLE_STATUSES)
            raise PoolInvalidInput(f"status can only be set to {allowed}", field="status")
        async with self._uow() as uow:
            found = await uow.pool_credentials.get_for_update(command.credential_id)
            if found is None:
                raise PoolCredentialNotFound(field="id")
            if status is CredentialStatus.ACTIVE:
                # The original's rule: activating clears the diagnostics that keep it out.
                changed = replace(
                    found, status=status, cooldown_until=None, fail_count=0, refresh_queued_at=None
                )
            else:
                changed = replace(found, status=status)
            await uow.pool_credentials.update(changed)
            await uow.commit()
        await self._record(AuditAction.POOL_CREDENTIAL_STATUS_SET, principal, changed)
        return (await self._with_refreshing([changed]))[0]

    async def refresh(self, principal: Principal, credential_id: str) -> Credential:
        """Renew the credential's login through its provider. One refresh at a time per
        credential (a second one is refused with 409); its lock expires by itself."""
        self._require_admin(principal)
        credential = await self._refresh(credential_id)
        await self._record(AuditAction.POOL_CREDENTIAL_REFRESHED, principal, credential)
        return credential

    async def refresh_queued(self, *, limit: int = 20) -> int:
        """Refresh the credentials calls found dead (the worker's job); returns how many
        came back. A provider without a lifecycle keeps its queue for an admin."""
        async with self._uow() as uow:
            queued = await uow.pool_credentials.refresh_queue(limit=limit)
        renewed = 0
        for credential in queued:
            if credential.provider not in self._lifecycles:
                continue
            try:
                await self._refresh(credential.id)
            except DomainError as error:
                log.info(
                    "queued pool refresh failed",
                    extra={"credential": credential.id, "code": error.code},
                )
                continue
            renewed += 1
        return renewed

    async def refresh_queued_periodically(self, interval: float) -> None:
        """The background refresher (one per process; the refresh lock keeps two processes
        from renewing the same login at once)."""
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self.refresh_queued()
                if renewed:
                    log.info("renewed %d queued pool credential(s)", renewed)
            except Exception:
                log.exception("the pool's refresh queue failed; trying again later")

    async def check(self, principal: Principal, command: CheckCredential) -> CredentialTestResult:
        """A health check through the provider (a call only a live login answers); its
        outcome is applied as a call's would be (a dead login becomes ``expired``)."""
        self._require_admin(principal)
        capability = (command.capability or "").strip() or HEALTH_CHECK
        sealed, lifecycle = await self._sealed_with_lifecycle(command.credential_id)
        credential = sealed.credential
        if capability != HEALTH_CHECK:
            self._known_capabilities(credential.provider, [capability], field="capability")
        secret = CredentialSecret(
            credential.id,
            await self._keys.decrypt(sealed.payload_enc, payload_aad(credential.id)),
        )
        started = self._clock.now()
        error: str | None = None
        try:
            await lifecycle.check(secret)
            result = LeaseResult.OK
        except Exception as failure:
            named = _result_of(failure)
            if named is None:
                raise
            result, error = named, str(failure) or type(failure).__name__
        latency = int((self._clock.now() - started).total_seconds() * 1000)
        await self._apply(credential.id, result)
        outcome = CredentialTestResult(
            success=result is LeaseResult.OK,
            capability=capability,
            latency_ms=max(latency, 0),
            error=error,
        )
        await self._record(
            AuditAction.POOL_CREDENTIAL_TESTED, principal, credential, result=result.value
        )
        return outcome

    # -- worker (issue 17): the scheduled health checks and refreshes ----------------------

    async def check_all(
        self,
        *,
        concurrency: int = HEALTH_CONCURRENCY,
        timeout: float = HEALTH_TIMEOUT,  # noqa: ASYNC109
    ) -> HealthSweep:
        """Health-check every active credential of a provider with a lifecycle, at most
        ``concurrency`` at once, each within ``timeout`` seconds. A failure (any error or
        the timeout) adds one to its streak, stored with the credential; the third in a
        row disables it. A success ends the streak."""
        candidates: list[Credential] = []
        for provider in sorted(self._lifecycles):
            async with self._uow() as uow:
                found = await uow.pool_credentials.of_provider(provider)
            candidates += [c for c in found if c.status is CredentialStatus.ACTIVE]
        gate = asyncio.Semaphore(concurrency)

        async def one(credential: Credential) -> tuple[bool, bool]:
            async with gate:
                return await self._scheduled_check(credential.id, timeout)

        outcomes = await asyncio.gather(*(one(c) for c in candidates))
        return HealthSweep(
            checked=len(outcomes),
            failed=sum(1 for ok, _ in outcomes if not ok),
            disabled=sum(1 for _, disabled in outcomes if disabled),
        )

    async def _scheduled_check(
        self,
        credential_id: str,
        timeout: float,  # noqa: ASYNC109
    ) -> tuple[bool, bool]:
        """(passed, disabled now)."""
        try:
            sealed, lifecycle = await self._sealed_with_lifecycle(credential_id)
        except DomainError:
            return True, False  # removed meanwhile
        secret = CredentialSecret(
            credential_id, await self._keys.decrypt(sealed.payload_enc, payload_aad(credential_id))
        )
        result = LeaseResult.OK
        try:
            await asyncio.wait_for(lifecycle.check(secret), timeout)
        except asyncio.CancelledError:
            raise
        except Exception as failure:  # the timeout included: every failure counts
            result = _result_of(failure) or LeaseResult.NETWORK_ERROR
        passed = result is LeaseResult.OK
        self._observe.health_checked(sealed.credential.provider, passed)
        now = self._clock.now()
        async with self._uow() as uow:
            current = await uow.pool_credentials.get_for_update(credential_id)
            if current is None:
                return passed, False
            changed = apply_result(current, result, now)
            streak = 0 if passed else current.check_failures + 1
            disable = streak >= HEALTH_FAILURES_TO_DISABLE and (
                changed.status is CredentialStatus.ACTIVE
            )
            changed = replace(
                changed,
                check_failures=streak,
                status=CredentialStatus.DISABLED if disable else changed.status,
            )
            if changed != current:
                await uow.pool_credentials.update(changed)
                await uow.commit()
        if disable:
            log.warning("pool credential disabled after failed health checks",
                        extra={"credential": credential_id, "failures": streak})  # fmt: skip
            await self._record(
                AuditAction.POOL_CREDENTIAL_STATUS_SET, None, changed,
                reason="health_checks_failed",
            )  # fmt: skip
        return passed, disable

    async def refresh_due(self, *, expiring: Mapping[str, timedelta] | None = None) -> int:
        """The refresh queue, then every active credential of a provider in ``expiring``
        whose login has less than that much validity left (QQ Music: 2 h)."""
        renewed = await self.refresh_queued()
        rules = REFRESH_BEFORE_EXPIRY if expiring is None else expiring
        now = self._clock.now()
        for provider, margin in rules.items():
            if provider not in self._lifecycles:
                continue
            async with self._uow() as uow:
                found = await uow.pool_credentials.of_provider(provider)
            for credential in found:
                due = credential.expires_at is not None and credential.expires_at - now < margin
                if credential.status is not CredentialStatus.ACTIVE or not due:
                    continue
                try:
                    await self._refresh(credential.id)
                except DomainError as error:
                    log.info("pool refresh before expiry failed",
                             extra={"credential": credential.id, "code": error.code})  # fmt: skip
                    continue
                renewed += 1
        return renewed

    # -- helpers --------------------------------------------------------------------------

    async def _refresh(self, credential_id: str) -> Credential:
        sealed, lifecycle = await self._sealed_with_lifecycle(credential_id)
        token = new_id()
        ttl = self._policy.refresh_lock_ttl_seconds
        if not await self._lock.hold(credential_id, token, ttl_seconds=ttl, now=self._clock.now()):
            raise PoolRefreshInProgress(field="id")
        try:
            secret = CredentialSecret(
                credential_id,
                await self._keys.decrypt(sealed.payload_enc, payload_aad(credential_id)),
            )
            try:
                renewed = await lifecycle.refresh(secret)
            except Exception as failure:
                result = _result_of(failure)
                if result is None:
                    raise
                if result is LeaseResult.AUTH_FAILED:
                    await self._apply(credential_id, result)
                raise PoolRefreshFailed(str(failure) or None, field="id") from None
            blob = await self._keys.encrypt(renewed.payload, payload_aad(credential_id))
            async with self._uow() as uow:
                current = await uow.pool_credentials.get_for_update(credential_id)
                if current is None:
                    raise PoolCredentialNotFound(field="id")
                changed = replace(
                    current,
                    status=CredentialStatus.ACTIVE,
                    health_score=1.0,
                    fail_count=0,
                    cooldown_until=None,
                    refresh_queued_at=None,
                    expires_at=renewed.expires_at,
                )
                await uow.pool_credentials.update(changed)
                await uow.pool_credentials.replace_payload(credential_id, blob, renewed.expires_at)
                await uow.commit()
            return changed
        finally:
            await self._lock.let_go(credential_id, token)

    async def _sealed_with_lifecycle(
        self, credential_id: str
    ) -> tuple[SealedCredential, CredentialLifecycle]:
        async with self._uow() as uow:
            sealed = await uow.pool_credentials.sealed(credential_id)
        if sealed is None:
            raise PoolCredentialNotFound(field="id")
        lifecycle = self._lifecycles.get(sealed.credential.provider)
        if lifecycle is None:
            raise PoolLifecycleUnavailable(
                f"{sealed.credential.provider} credentials cannot be refreshed or tested on "
                "this server (no client for this provider is configured)"
            )
        return sealed, lifecycle

    async def _with_refreshing(self, credentials: list[Credential]) -> list[Credential]:
        """The credentials as shown: ``refreshing`` while a refresh holds one."""
        if not credentials:
            return credentials
        held = await self._lock.refreshing([c.id for c in credentials], self._clock.now())
        return [
            replace(c, status=CredentialStatus.REFRESHING) if c.id in held else c
            for c in credentials
        ]

    def _known_provider(self, provider: str, *, field: str = "provider") -> str:
        name = provider.strip().lower()
        if name not in self._providers:
            allowed = ", ".join(sorted(self._providers))
            raise PoolUnknownProvider(f"provider must be one of: {allowed}", field=field)
        return name

    def _known_capabilities(
        self, provider: str, capabilities: Iterable[str], *, field: str = "capabilities"
    ) -> tuple[str, ...]:
        known = self._providers[provider]
        chosen: list[str] = []
        for raw in capabilities:
            capability = raw.strip()
            if capability not in known:
                allowed = ", ".join(sorted(known))
                raise PoolInvalidInput(
                    f"unknown capability {capability!r}; one of: {allowed}", field=field
                )
            if capability not in chosen:
                chosen.append(capability)
        return tuple(chosen)

    def _validated_expiry(self, provider: str, payload: bytes) -> datetime | None:
        lifecycle = self._lifecycles.get(provider)
        if lifecycle is None:
            return None
        try:
            return lifecycle.validate_payload(payload)
        except InvalidInput as error:
            raise PoolInvalidPayload(f"payload: {error.message}", field="payload") from None

    async def _record(
        self,
        action: AuditAction,
        principal: Principal | None,
        credential: Credential,
        **details: str,
    ) -> None:
        await self._audit.record(
            action,
            principal,
            credential=credential.id,
            provider=credential.provider,
            label=credential.label,
            status=credential.status.value,
            **details,
        )

    @staticmethod
    def _require_admin(principal: Principal) -> None:
        if not principal.is_authenticated:
            raise Unauthenticated()
        if not principal.is_admin:
            raise PoolAdminRequired()


def _decode_payload(text: str) -> bytes:
    cleaned = "".join(text.split())
    if not cleaned:
        raise PoolInvalidPayload("payload is required", field="payload")
    try:
        payload = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise PoolInvalidPayload("payload must be standard base64", field="payload") from None
    if not payload:
        raise PoolInvalidPayload("payload is empty", field="payload")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PoolInvalidPayload(
            f"payload is larger than {MAX_PAYLOAD_BYTES} bytes", field="payload"
        )
    return payload


def _parse_status(value: str, *, field: str) -> CredentialStatus:
    try:
        return CredentialStatus(value.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in CredentialStatus)
        raise PoolInvalidInput(f"{field} must be one of: {allowed}", field=field) from None


def _bounded(value: int | None, default: int, limit: int, field: str) -> int:
    if value is None:
        return default
    if not 1 <= value <= limit:
        raise PoolInvalidInput(f"{field} must be between 1 and {limit}", field=field)
    return value
