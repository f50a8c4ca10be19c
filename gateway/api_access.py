"""Wiring of API keys, the quota gate and usage (part of the composition root).

Redis present: the gate is one Lua script per request, key changes are broadcast by
pub/sub. Embedded default (no Redis): in-process gate and broadcast, which is exact for
the single process that setup runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.model import User
from domain.accounts.ports import UnitOfWorkFactory
from domain.apikeys.format import KeyHasher, api_key_hmac_secret
from domain.apikeys.ports import KeyInvalidations
from domain.apikeys.service import ApiKeyService
from domain.apikeys.verifier import ApiKeyVerifier, InvalidateHereFirst
from domain.clock import Clock
from domain.quota.access import RequestGate
from domain.quota.plans import FALLBACK_PLAN_ID
from domain.quota.ports import QuotaGate
from domain.quota.service import QuotaService
from domain.security.audit import AuditLog
from domain.usage.service import UsageRecorder, UsageReports
from gateway.settings import Settings
from persistence.memory.key_invalidations import MemoryKeyInvalidations
from persistence.memory.quota import MemoryQuotaGate
from persistence.redis.key_invalidations import RedisKeyInvalidations
from persistence.redis.quota import RedisQuotaGate
from persistence.sql.apikeys import SqlApiKeyStore, SqlPlanCatalog
from persistence.sql.usage import SqlUsageStore

log = logging.getLogger("karpov.api_access")

FLUSH_INTERVAL = 1.0


@dataclass
class ApiAccess:
    verifier: ApiKeyVerifier
    api_keys: ApiKeyService
    gate: RequestGate
    usage: UsageReports
    recorder: UsageRecorder
    remote_invalidations: KeyInvalidations
    gate_redis: Redis | None = None
    usage_retention: timedelta = timedelta(days=90)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        """Background work: follow key invalidations, flush key and usage counters."""
        self._tasks = [
            asyncio.create_task(_forever(self.verifier.follow, self.remote_invalidations)),
            asyncio.create_task(self.verifier.flush_periodically(FLUSH_INTERVAL)),
            asyncio.create_task(self.recorder.flush_periodically(FLUSH_INTERVAL)),
            asyncio.create_task(self.recorder.prune_periodically(self.usage_retention)),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        # Nothing counted is lost at shutdown.
        await self.verifier.flush_usage()
        await self.recorder.flush()
        if self.gate_redis is not None:
            await self.gate_redis.aclose()


async def _forever(
    follow: Callable[[KeyInvalidations], Awaitable[None]], source: KeyInvalidations
) -> None:
    while True:
        try:
            await follow(source)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("key invalidation subscription failed; resubscribing")
            await asyncio.sleep(1.0)


GATE_TIMEOUT = 0.25
GATE_CONNECTIONS = 256


def _gate_client(url: str) -> Redis:
    """The quota gate's own client: every API-key and metered request waits on it, so an
    unreachable Redis must fail within a fraction of a second (then the configured policy
    applies) instead of redis-py's default 5 s timeouts and retries; a burst above the pool
    waits briefly for a connection instead of failing."""
    pool = BlockingConnectionPool.from_url(
        url, max_connections=GATE_CONNECTIONS, timeout=GATE_TIMEOUT,
        socket_timeout=GATE_TIMEOUT, socket_connect_timeout=GATE_TIMEOUT,
    )  # fmt: skip
    return Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0), retry_on_error=[])


def build_api_access(
    settings: Settings,
    *,
    engine: AsyncEngine,
    redis: Redis | None,
    uow: UnitOfWorkFactory,
    clock: Clock,
    audit: AuditLog,
    master_key: bytes,
    cache: AuthenticationCache,
) -> ApiAccess:
    timezone = ZoneInfo(settings.timezone)
    store = SqlApiKeyStore(engine)
    hasher = KeyHasher(api_key_hmac_secret(master_key))

    async def user(user_id: str) -> User | None:
        """The owner of a key or a metered session call, through the sessions' 1 s memo
        (which this process's own changes to the user clear at once)."""
        found = cache.user(user_id)
        if found is not None:
            return found
        async with uow() as work:
            found = await work.users.get(user_id)
        if found is not None:
            cache.remember_user(found)
        return found

    async def plan_of_user(user_id: str) -> str:
        found = await user(user_id)
        return found.plan_id if found is not None else FALLBACK_PLAN_ID

    verifier = ApiKeyVerifier(
        store=store, owners=user, hasher=hasher, clock=clock,
        cache_ttl=settings.api_key_cache_ttl.total_seconds(),
    )  # fmt: skip
    remote: KeyInvalidations = (
        RedisKeyInvalidations(redis) if redis is not None else MemoryKeyInvalidations()
    )
    gate_redis = _gate_client(settings.redis_url) if settings.redis_url else None
    gate_store: QuotaGate = (
        RedisQuotaGate(gate_redis) if gate_redis is not None else MemoryQuotaGate()
    )
    quota = QuotaService(
        gate_store, SqlPlanCatalog(engine), clock, timezone=timezone,
        on_store_error=settings.quota_on_redis_error,
    )  # fmt: skip
    usage_store = SqlUsageStore(engine)
    recorder = UsageRecorder(usage_store, clock, timezone=timezone)
    return ApiAccess(
        gate_redis=gate_redis,
        usage_retention=settings.usage_event_retention,
        verifier=verifier,
        api_keys=ApiKeyService(
            store=store,
            hasher=hasher,
            invalidations=InvalidateHereFirst(verifier, remote),
            clock=clock,
            audit=audit,
        ),
        gate=RequestGate(quota, recorder, plan_of_user=plan_of_user),
        usage=UsageReports(usage_store, recorder, clock, timezone=timezone),
        recorder=recorder,
        remote_invalidations=remote,
    )
