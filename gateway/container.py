"""The running application's resources: it opens the engine, Redis clients and the HTTP
client (the I/O), builds the services once with ``bootstrap.build_services`` over
``Adapters.sql``, runs the background work, and closes everything on shutdown."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.ports import PasswordHasher
from domain.apikeys.ports import KeyInvalidations
from domain.apikeys.verifier import ApiKeyVerifier
from domain.clock import Clock, SystemClock
from domain.jobs.service import Scheduler
from domain.quota.service import OnStoreError
from gateway.adapters import Adapters, Outbound
from gateway.bootstrap import build_services
from gateway.settings import CLUSTER_SCHEMES, Settings, cluster_node_url
from persistence.redis.client import redis_client
from persistence.redis.quota import GateClient
from persistence.sql.engine import create_engine, ping
from resolvers.context import Services

log = logging.getLogger("karpov.container")

FLUSH_INTERVAL = 1.0
TASK_STOP_TIMEOUT = 2.0
GATE_TIMEOUT = 0.25
GATE_CONNECTIONS = 256
READINESS_TIMEOUT = 0.8
RESTORE_INTERVAL = 0.5
HEARTBEAT_KEY = "karpov:worker:heartbeat"  # written by gateway.worker
HEARTBEAT_STALE = 120.0


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    redis: Redis | None
    http: httpx.AsyncClient
    adapters: Adapters
    services: Services
    clock: Clock
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    scheduler: Scheduler | None = None
    """worker (issue 17): the in-process job scheduler (serve without Redis)."""

    async def readiness(self) -> dict[str, bool]:
        """Which dependencies answer right now: each is asked at once, and one that does
        not answer within ``READINESS_TIMEOUT`` is down (so /readyz answers within 1 s)."""

        async def answers(check: Awaitable[object]) -> bool:
            try:
                async with asyncio.timeout(READINESS_TIMEOUT):
                    await check
            except Exception:
                return False
            return True

        names = ["database"]
        checks: list[Awaitable[bool]] = [answers(ping(self.engine))]
        if self.redis is not None:
            names.append("redis")
            checks.append(answers(self.redis.ping()))
        return dict(zip(names, await asyncio.gather(*checks), strict=True))

    async def worker_heartbeat(self) -> str | None:
        """worker (issue 17): with Redis, ``None`` unless the ``karpov worker`` heartbeat
        is older than two minutes (``stale``); no heartbeat at all (no worker has run
        yet, or it stopped over ten minutes ago) is not named."""
        if self.redis is None:
            return None
        try:
            value = await self.redis.get(HEARTBEAT_KEY)
        except Exception:
            return "unknown (redis)"
        if value is None:
            return None
        age = self.clock.now().timestamp() - float(value)
        return None if age <= HEARTBEAT_STALE else f"stale (last heartbeat {int(age)} s ago)"

    @property
    def api_key_verifier(self) -> ApiKeyVerifier:
        return self.services.api_key_verifier

    def start(self) -> None:
        """Background work: follow key invalidations, flush key and usage counters, prune
        old usage events."""
        services = self.services
        self._tasks = [
            asyncio.create_task(
                _forever(services.api_key_verifier.follow, self.adapters.key_invalidations)
            ),
            asyncio.create_task(services.api_key_verifier.flush_periodically(FLUSH_INTERVAL)),
            asyncio.create_task(services.usage_recorder.flush_periodically(FLUSH_INTERVAL)),
            # -- billing (issue 14): plan changes made by other processes --
            asyncio.create_task(_forever(services.plan_changes.follow, self.adapters.plan_changes)),
        ]
        # -- worker (issue 17): usage retention, the pool's refreshes and billing's clock
        # (order expiry, subscription renewal) are scheduled jobs now; without Redis they
        # run here, on the in-process scheduler (with Redis, `karpov worker` runs them).
        if self.settings.jobs_in_process and not self.settings.redis_url:
            self.scheduler = Scheduler(services.jobs, self.clock)
            self._tasks.append(asyncio.create_task(self.scheduler.run_forever()))
        if self.redis is not None:  # harden: plan counters restored when Redis lost them
            self._tasks.append(asyncio.create_task(self.restore_quota_forever()))

    async def restore_quota(self, *, wait_for_others: bool) -> None:
        """Restore the quota gate's plan counters from the usage roll-ups if Redis lost
        them (``QuotaService.restore_if_lost``). Usage not yet flushed is flushed first;
        ``wait_for_others`` also waits for the other processes' periodic flush."""
        recorder = self.services.usage_recorder

        async def settle() -> None:
            await recorder.flush()
            if wait_for_others:
                await asyncio.sleep(FLUSH_INTERVAL * 1.5)

        await self.services.gate.quota.restore_if_lost(settle)

    async def restore_quota_forever(self) -> None:
        while True:
            await asyncio.sleep(RESTORE_INTERVAL)
            try:
                await self.restore_quota(wait_for_others=True)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or the database down: the next round retries
                log.debug("quota restore not possible yet (%r)", exc)

    async def close(self) -> None:
        if self.scheduler is not None:  # worker (issue 17): running jobs finish first
            await self.scheduler.stop(self.settings.shutdown_grace)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # Bounded: a background task that ignores its cancellation (a library awaiting
            # a dead socket) must not hold the shutdown; it is abandoned with a warning.
            _, stuck = await asyncio.wait(self._tasks, timeout=TASK_STOP_TIMEOUT)
            for task in stuck:
                log.warning(
                    "background task %s did not stop within %.1fs",
                    task.get_name(),
                    TASK_STOP_TIMEOUT,
                )
        self._tasks = []
        # Nothing counted is lost at shutdown.
        await self.services.api_key_verifier.flush_usage()
        await self.services.usage_recorder.flush()
        for closer in reversed(self._closers):
            await closer()


async def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http: httpx.AsyncClient | None = None,
    hasher: PasswordHasher | None = None,
) -> Container:
    """``http`` and ``hasher`` let tests put in a fake HIBP transport and a cheap hash."""
    clock = clock or SystemClock()
    settings = settings.with_master_key()
    closers: list[Callable[[], Awaitable[None]]] = []
    engine = create_engine(settings.database_url)
    closers.append(engine.dispose)
    redis: Redis | None = None
    quota_redis: GateClient | None = None
    if settings.redis_url:
        redis = redis_client(settings.redis_url)  # harden: bounded timeouts (~1 s)
        closers.append(redis.aclose)
        quota_redis = quota_gate_client(settings.quota_gate_url, settings.quota_gate_timeout)
        closers.append(quota_redis.aclose)
    if http is None:
        http = httpx.AsyncClient(timeout=settings.hibp_timeout, follow_redirects=False)
        closers.append(http.aclose)
    outbound = Outbound.from_settings(settings, http=http, clock=clock, hasher=hasher)
    closers.extend(outbound.closers)  # upstreams (issue 15): their connection pools
    adapters = Adapters.sql(
        engine, redis, quota_redis=quota_redis, clock=clock, outbound=outbound,
        # A refused request is charged nothing, even when Redis ran its reservation late.
        refund_late_charges=settings.quota_on_redis_error is OnStoreError.DENY,
    )  # fmt: skip
    container = Container(
        settings=settings, engine=engine, redis=redis, http=http, adapters=adapters,
        services=build_services(adapters, settings, clock), clock=clock, _closers=closers,
    )  # fmt: skip
    if redis is not None:
        try:  # harden: a fresh or emptied Redis starts from the roll-ups
            await container.restore_quota(wait_for_others=False)
        except Exception as exc:
            log.warning("quota restore at start failed (%r); retrying in the background", exc)
    container.start()
    return container


def quota_gate_client(url: str, timeout: float = GATE_TIMEOUT) -> GateClient:
    """The quota gate's own client: every API-key and metered request waits on it, so an
    unreachable Redis must fail within a fraction of a second (then the configured policy
    applies) instead of redis-py's default 5 s timeouts and retries. perf (issue 18): the
    lean pipelined client (one connection, the commands of one loop tick in one write,
    hiredis); redis-py's, with a pool a burst waits on, only where hiredis is missing.
    ``redis+cluster://`` / ``rediss+cluster://`` (issue 18): redis-py's ``RedisCluster``
    (one retry after a topology refresh, MOVED/ASK followed by redis-py)."""
    if url.startswith(CLUSTER_SCHEMES):
        return quota_cluster_client(url, timeout)
    if importlib.util.find_spec("hiredis") is not None:
        from persistence.redis.pipelined import PipelinedRedis

        return PipelinedRedis(url, timeout=timeout)
    pool = BlockingConnectionPool.from_url(
        url, max_connections=GATE_CONNECTIONS, timeout=timeout,
        socket_timeout=timeout, socket_connect_timeout=timeout,
    )  # fmt: skip
    client = Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0), retry_on_error=[])
    client.auto_close_connection_pool = True  # worker (issue 17): aclose() closes the pool
    return client


def quota_cluster_client(url: str, timeout: float = GATE_TIMEOUT) -> RedisCluster:
    """redis-py's cluster client for ``redis+cluster://host:port`` (any node; the others are
    discovered): ``timeout`` for connecting and answering, no retry on one connection, and
    one retry of a failed command after the slots are read again (a failover moved them)."""
    client: RedisCluster = RedisCluster.from_url(
        cluster_node_url(url), socket_timeout=timeout, socket_connect_timeout=timeout,
        cluster_error_retry_attempts=1, connection_error_retry_attempts=0,
    )  # fmt: skip
    return client


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
