"""The adapter bundles: every implementation of a domain port, chosen in ONE place.

``Adapters.sql(engine, redis, ...)`` is a deployment: durable facts in the database
(PostgreSQL or the embedded SQLite), and, when a Redis client is given, sessions,
throttles, challenges, flow states, e-mail codes, key invalidations and the quota gate in
Redis. ``Adapters.memory(clock, ...)`` is everything in-process, with the same contracts
(each port's contract suite runs against both): unit tests build services on it.
``Outbound`` carries the adapters that reach outside the process (password hashing, the
breach check, mail, QR codes, OAuth providers); both bundles take one.

``gateway.bootstrap.build_services`` turns a bundle into services, without I/O. To add a
store: a field here, one line in ``sql`` and one in ``memory``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain import uow
from domain.accounts import ports as accounts
from domain.accounts.passwords import Argon2PasswordHasher
from domain.accounts.ports import (
    BreachedPasswordChecker,
    EmailCodeStore,
    OneTimeTokenStore,
    PasswordHasher,
    SessionStore,
)
from domain.apikeys import ports as apikeys
from domain.apikeys.ports import ApiKeyStore, KeyInvalidations
from domain.billing import ports as billing
from domain.billing.ports import (
    CallbackStore,  # payments (issue 16)
    PlanStore,
)
from domain.clock import Clock
from domain.documents.ports import PersistedQueryStore
from domain.jobs.ports import ExpiredPurger, JobStore, TickClaims
from domain.keyring_service import KeyVersionStore
from domain.mail import ports as mail
from domain.mail.ports import Mailer, OutboxStore

# -- music (issue 13) ----------------------------------------------------------------------
from domain.music.ports import CatalogStore, MusicCache, MusicProvider
from domain.oauth import ports as oauth
from domain.oauth.ports import OAuthProvider, OAuthStateStore
from domain.pool import ports as pool
from domain.pool.ports import CredentialLifecycle, LeaseRegistry, RefreshLock
from domain.quota.coalescing import CoalescingGate
from domain.quota.ports import PlanCatalog, QuotaGate
from domain.security.ports import AuditStore, ThrottleStore
from domain.twofactor import ports as twofactor
from domain.twofactor.ports import ChallengeStore, QrCodeRenderer
from domain.usage.ports import UsageStore
from gateway.settings import Settings

# -- end of music --------------------------------------------------------------------------
from integrations.hibp import HibpClient
from integrations.mailer import LogMailer, SmtpMailer
from integrations.netease import (  # upstreams (issue 15)
    NETEASE_WEAPI_KEY,
    Netease,
    NeteaseConfig,
    RsaPublicKey,
    build_netease,
)
from integrations.netease.login_port import NeteaseLoginAdapter  # upstreams (issue 15)
from integrations.oauth.linuxdo import LinuxDoConfig, LinuxDoProvider
from integrations.oauth.oidc import OidcConfig, OidcProvider
from integrations.qqmusic import QQMusicUpstream
from integrations.qqmusic.config import QQMusicConfig
from integrations.qr import SegnoQrRenderer
from persistence.memory.accounts import MemorySessionStore
from persistence.memory.apikeys import MemoryApiKeyStore, MemoryPlanCatalog
from persistence.memory.billing import MemoryPlanStore
from persistence.memory.catalog import MemoryCatalogStore
from persistence.memory.documents import LruPersistedQueryStore
from persistence.memory.jobs import MemoryExpiredPurger, MemoryJobStore  # worker (issue 17)
from persistence.memory.key_invalidations import MemoryKeyInvalidations
from persistence.memory.music_cache import MemoryMusicCache
from persistence.memory.oauth import MemoryOAuthStateStore
from persistence.memory.outbox import MemoryOutboxStore  # worker (issue 17)
from persistence.memory.payments import MemoryCallbackStore  # payments (issue 16)
from persistence.memory.pool import MemoryLeaseRegistry
from persistence.memory.qr_sessions import MemoryQrSessionStore  # upstreams (issue 15)
from persistence.memory.quota import MemoryQuotaGate
from persistence.memory.security import (
    MemoryAuditStore,
    MemoryEmailCodeStore,
    MemoryOneTimeTokenStore,
    MemoryThrottleStore,
)
from persistence.memory.twofactor import MemoryChallengeStore, MemoryKeyVersionStore
from persistence.memory.uow import MemoryUnitOfWorkFactory
from persistence.memory.usage import MemoryUsageStore
from persistence.redis.cached_sessions import CachedSessionStore  # harden
from persistence.redis.challenges import RedisChallengeStore
from persistence.redis.documents import RedisPersistedQueryStore
from persistence.redis.email_codes import RedisEmailCodeStore
from persistence.redis.jobs import RedisTickClaims
from persistence.redis.key_invalidations import RedisKeyInvalidations
from persistence.redis.music_cache import RedisMusicCache
from persistence.redis.oauth import RedisOAuthStateStore
from persistence.redis.pool import RedisLeaseRegistry
from persistence.redis.qr_sessions import RedisQrSessionStore  # upstreams (issue 15)
from persistence.redis.quota import GateClient
from persistence.redis.quota import quota_gate as redis_quota_gate
from persistence.redis.sessions import RedisSessionStore
from persistence.redis.throttle import RedisThrottleStore
from persistence.sql.apikeys import SqlApiKeyStore, SqlPlanCatalog
from persistence.sql.billing import SqlPlanStore
from persistence.sql.catalog import SqlCatalogStore
from persistence.sql.challenges import SqlChallengeStore
from persistence.sql.jobs import SqlExpiredPurger, SqlJobStore
from persistence.sql.keyring import SqlKeyVersionStore
from persistence.sql.oauth import SqlOAuthStateStore
from persistence.sql.outbox import SqlOutboxStore  # worker (issue 17)
from persistence.sql.payments import SqlCallbackStore  # payments (issue 16)
from persistence.sql.security import SqlAuditStore, SqlEmailCodeStore, SqlOneTimeTokenStore
from persistence.sql.sessions import SqlSessionStore
from persistence.sql.uow import SqlUnitOfWorkFactory
from persistence.sql.usage import SqlUsageStore

REDIS_PREFIX = "karpov:"
PLAN_CHANGES_CHANNEL = "karpov:billing:plan-changes"


class UnitOfWork(
    accounts.UnitOfWork,
    twofactor.UnitOfWork,
    oauth.UnitOfWork,
    apikeys.UnitOfWork,
    billing.UnitOfWork,
    pool.UnitOfWork,
    mail.UnitOfWork,  # worker (issue 17): the mail outbox
    Protocol,
):
    """Every context's repositories: what the one unit of work of a backend carries."""


@dataclass(frozen=True, kw_only=True)
class Outbound:
    """The adapters that reach outside the process (or stand in for ones that do)."""

    hasher: PasswordHasher
    breaches: BreachedPasswordChecker | None
    """``None``: no breach check at all (only where the policy is ``off``)."""
    mailer: Mailer | None
    """``None``: this server cannot send mail (e-mail flows answer EMAIL_NOT_CONFIGURED)."""
    qr: QrCodeRenderer
    oauth_providers: tuple[OAuthProvider, ...] = ()
    # -- credential pool (issue 13) --
    credential_lifecycles: tuple[CredentialLifecycle, ...] = ()
    """The providers whose pool credentials can be checked and refreshed."""
    # -- upstreams (issue 15) --
    music_providers: tuple[MusicProvider, ...] = ()
    """The upstream music clients (QQ Music, NetEase) the music service calls; the same
    client objects as ``credential_lifecycles``."""
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()
    """What closes the upstream clients' connection pools at shutdown."""
    qr_login: pool.QrLoginFlow | None = None
    netease_login: pool.NeteaseLoginPort | None = None
    """NetEase's login calls (the admin-only ``/v1/netease/auth/*``), on the NetEase client."""
    """The admin QR logins (QQ Music by QQ or WeChat scan), on the QQ Music client."""

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        hasher: PasswordHasher | None = None,
    ) -> Outbound:
        upstream = upstreams_from_settings(settings, clock).outbound_fields()  # upstreams
        wanted = set(settings.music_upstreams)  # KARPOV_MUSIC_UPSTREAMS: which answer music
        upstream["music_providers"] = tuple(
            p for p in upstream["music_providers"] if p.name.value in wanted
        )
        return cls(
            hasher=hasher
            or Argon2PasswordHasher(
                time_cost=settings.argon2_time_cost, memory_cost_kib=settings.argon2_memory_kib
            ),
            breaches=HibpClient(settings.hibp_url, http=http, timeout=settings.hibp_timeout),
            mailer=mailer_from_settings(settings),
            qr=SegnoQrRenderer(),
            oauth_providers=tuple(oauth_providers_from_settings(settings, clock)),
            **upstream,  # upstreams (issue 15)
        )


@dataclass(frozen=True, kw_only=True)
class Adapters:
    uow: uow.UnitOfWorkFactory[UnitOfWork]
    sessions: SessionStore
    throttle: ThrottleStore
    audit: AuditStore
    one_time_tokens: OneTimeTokenStore
    email_codes: EmailCodeStore
    challenges: ChallengeStore
    oauth_states: OAuthStateStore
    key_versions: KeyVersionStore
    api_keys: ApiKeyStore
    key_invalidations: KeyInvalidations
    """Across processes with Redis; in-process otherwise (a single process only)."""
    quota_gate: QuotaGate
    plans: PlanCatalog
    usage: UsageStore
    outbound: Outbound
    # issue 11: automatic persisted queries (Redis when given, else this process's LRU)
    persisted_queries: PersistedQueryStore = field(default_factory=LruPersistedQueryStore)
    # -- billing (issue 14) --
    plan_store: PlanStore
    plan_changes: KeyInvalidations
    """Plan and users' plan changes, to every process (Redis) or this one."""
    # -- music (issue 13) --
    catalog: CatalogStore
    music_cache: MusicCache
    """Redis across processes; an in-process LRU otherwise."""
    # -- credential pool (issue 13): one object is both (the lease script reads the lock) --
    pool_leases: LeaseRegistry
    """Across processes with Redis; in-process otherwise (a single process only)."""
    pool_refresh: RefreshLock
    # -- upstreams (issue 15) --
    qr_sessions: pool.QrSessionStore
    """Admin QR login sessions: Redis across processes; in-process otherwise."""
    # -- payments (issue 16) --
    payment_callbacks: CallbackStore
    # -- worker (issue 17) --
    jobs: JobStore
    tick_claims: TickClaims
    """Redis when given (every process shares it); the database otherwise."""
    expired: ExpiredPurger
    mail_outbox: OutboxStore

    @classmethod
    def sql(
        cls,
        engine: AsyncEngine,
        redis: Redis | None,
        *,
        quota_redis: GateClient | None,
        clock: Clock,
        outbound: Outbound,
        refund_late_charges: bool = True,
    ) -> Adapters:
        """The database for durable facts; Redis, when given, for the rest. ``quota_redis``
        is the quota gate's own client (short timeouts: every metered request waits on
        it); required when ``redis`` is given. ``refund_late_charges``: a reservation that
        timed out and was refused, but that Redis ran anyway, is given back (the ``deny``
        policy for an unavailable store; under ``allow`` the request was served)."""
        if redis is None:
            return cls(
                uow=SqlUnitOfWorkFactory(engine, clock),
                sessions=SqlSessionStore(engine),
                throttle=MemoryThrottleStore(),
                audit=SqlAuditStore(engine),
                one_time_tokens=SqlOneTimeTokenStore(engine),
                email_codes=SqlEmailCodeStore(engine),
                challenges=SqlChallengeStore(engine),
                oauth_states=SqlOAuthStateStore(engine),
                key_versions=SqlKeyVersionStore(engine, clock),
                api_keys=SqlApiKeyStore(engine),
                key_invalidations=MemoryKeyInvalidations(),
                quota_gate=MemoryQuotaGate(),
                plans=SqlPlanCatalog(engine),
                usage=SqlUsageStore(engine),
                outbound=outbound,
                plan_store=SqlPlanStore(engine),
                plan_changes=MemoryKeyInvalidations(),
                catalog=SqlCatalogStore(engine),  # music
                music_cache=MemoryMusicCache(clock),  # music
                **memory_pool_registry(),
                qr_sessions=MemoryQrSessionStore(clock),  # upstreams (issue 15)
                payment_callbacks=SqlCallbackStore(engine),  # payments (issue 16)
                **sql_worker_stores(engine, None),
            )
        if quota_redis is None:
            raise ValueError("a Redis deployment needs the quota gate's own client")
        return cls(
            uow=SqlUnitOfWorkFactory(engine, clock),
            # harden: sessions durable in the database, Redis only their cache
            sessions=CachedSessionStore(
                SqlSessionStore(engine), RedisSessionStore(redis, prefix=REDIS_PREFIX)
            ),
            throttle=RedisThrottleStore(redis, prefix=REDIS_PREFIX),
            audit=SqlAuditStore(engine),
            one_time_tokens=SqlOneTimeTokenStore(engine),
            email_codes=RedisEmailCodeStore(redis, prefix=REDIS_PREFIX),
            challenges=RedisChallengeStore(redis, prefix=REDIS_PREFIX),
            oauth_states=RedisOAuthStateStore(redis, prefix=REDIS_PREFIX),
            key_versions=SqlKeyVersionStore(engine, clock),
            api_keys=SqlApiKeyStore(engine),
            key_invalidations=RedisKeyInvalidations(redis),
            # harden: restored after a loss; perf (issue 18): one store call per tick and
            # set of limits; a RedisCluster client gets the cluster gate (issue 18)
            quota_gate=CoalescingGate(
                redis_quota_gate(
                    quota_redis, restorable=True, refund_late_charges=refund_late_charges
                )
            ),
            plans=SqlPlanCatalog(engine),
            usage=SqlUsageStore(engine),
            outbound=outbound,
            persisted_queries=RedisPersistedQueryStore(redis, prefix=REDIS_PREFIX),  # issue 11
            plan_store=SqlPlanStore(engine),
            plan_changes=RedisKeyInvalidations(redis, PLAN_CHANGES_CHANNEL),
            catalog=SqlCatalogStore(engine),  # music
            music_cache=RedisMusicCache(redis, prefix=REDIS_PREFIX),  # music
            **redis_pool_registry(redis),
            qr_sessions=RedisQrSessionStore(redis, prefix=REDIS_PREFIX),  # upstreams (issue 15)
            payment_callbacks=SqlCallbackStore(engine),  # payments (issue 16)
            **sql_worker_stores(engine, redis),
        )

    @classmethod
    def memory(cls, clock: Clock, *, outbound: Outbound) -> Adapters:
        """Everything in this process: no database, no Redis, no network."""
        uow = MemoryUnitOfWorkFactory(clock)
        plans = MemoryPlanCatalog()
        return cls(
            uow=uow,
            sessions=MemorySessionStore(),
            throttle=MemoryThrottleStore(),
            audit=MemoryAuditStore(),
            one_time_tokens=MemoryOneTimeTokenStore(),
            email_codes=MemoryEmailCodeStore(),
            challenges=MemoryChallengeStore(),
            oauth_states=MemoryOAuthStateStore(),
            key_versions=MemoryKeyVersionStore(),
            api_keys=MemoryApiKeyStore(uow.api_key_tables),
            key_invalidations=MemoryKeyInvalidations(),
            quota_gate=MemoryQuotaGate(),
            plans=plans,
            usage=MemoryUsageStore(),
            outbound=outbound,
            plan_store=MemoryPlanStore(plans),
            plan_changes=MemoryKeyInvalidations(),
            catalog=MemoryCatalogStore(),  # music
            music_cache=MemoryMusicCache(clock),  # music
            **memory_pool_registry(),
            qr_sessions=MemoryQrSessionStore(clock),  # upstreams (issue 15)
            payment_callbacks=MemoryCallbackStore(),  # payments (issue 16)
            **memory_worker_stores(uow),
        )


# -- worker (issue 17) ----------------------------------------------------------------------


def sql_worker_stores(engine: AsyncEngine, redis: Redis | None) -> dict[str, Any]:
    jobs = SqlJobStore(engine)
    claims: TickClaims = RedisTickClaims(redis, prefix=REDIS_PREFIX) if redis else jobs
    return {
        "jobs": jobs, "tick_claims": claims, "expired": SqlExpiredPurger(engine),
        "mail_outbox": SqlOutboxStore(engine),
    }  # fmt: skip


def memory_worker_stores(uow: MemoryUnitOfWorkFactory) -> dict[str, Any]:
    jobs = MemoryJobStore()
    return {
        "jobs": jobs, "tick_claims": jobs, "expired": MemoryExpiredPurger(),
        "mail_outbox": MemoryOutboxStore(uow.outbox_tables),
    }  # fmt: skip


# -- credential pool (issue 13) ----------------------------------------------------------


def memory_pool_registry() -> dict[str, Any]:
    registry = MemoryLeaseRegistry()
    return {"pool_leases": registry, "pool_refresh": registry}


def redis_pool_registry(redis: Redis) -> dict[str, Any]:
    registry = RedisLeaseRegistry(redis, prefix=REDIS_PREFIX)
    return {"pool_leases": registry, "pool_refresh": registry}


def credential_lifecycles_from_settings(
    settings: Settings, clock: Clock
) -> tuple[CredentialLifecycle, ...]:
    """QQ Music's and NetEase's login rules (on the clients of ``upstreams_from_settings``)."""
    return upstreams_from_settings(settings, clock).lifecycles


# -- end of credential pool ----------------------------------------------------------------


# -- upstreams (issue 15) ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upstreams:
    """QQ Music and NetEase, each wired once from the settings: one client (connection
    pool, concurrency cap, device identity) serving music calls, pool checks and refreshes,
    and logins alike."""

    qqmusic: QQMusicUpstream
    netease: Netease
    netease_http: httpx.AsyncClient

    @property
    def lifecycles(self) -> tuple[CredentialLifecycle, ...]:
        return (self.qqmusic.credentials, self.netease.credentials)

    @property
    def providers(self) -> tuple[MusicProvider, ...]:
        return (self.qqmusic.provider, self.netease.provider)

    async def aclose(self) -> None:
        await self.qqmusic.aclose()
        await self.netease_http.aclose()

    def outbound_fields(self) -> dict[str, Any]:
        return {
            "credential_lifecycles": self.lifecycles,
            "music_providers": self.providers,
            "closers": (self.aclose,),
            "qr_login": self.qqmusic.qr_flow,
            "netease_login": NeteaseLoginAdapter(self.netease.login),
        }


def qqmusic_config(settings: Settings) -> QQMusicConfig:
    return QQMusicConfig(
        api_url=settings.qqmusic_api_url,
        ptlogin_url=settings.qqmusic_ptlogin_url,
        graph_url=settings.qqmusic_graph_url,
        wechat_open_url=settings.wechat_open_url,
        wechat_long_poll_url=settings.wechat_long_poll_url,
        stream_url=settings.qqmusic_stream_url,
        image_url=settings.qqmusic_image_url,
        sign_requests=settings.qqmusic_sign,
        timeout_s=settings.qqmusic_timeout,
        login_timeout_s=settings.qqmusic_login_timeout,
        max_concurrency=settings.qqmusic_max_concurrency,
        qr_ttl_s=settings.qr_login_ttl,
    )


def netease_config(settings: Settings) -> NeteaseConfig:
    key = NETEASE_WEAPI_KEY
    if settings.netease_weapi_key:
        modulus, _, exponent = settings.netease_weapi_key.partition(":")
        key = RsaPublicKey(modulus=int(modulus, 16), exponent=int(exponent, 16))
    return NeteaseConfig(
        api_url=settings.netease_api_url,
        timeout=settings.netease_timeout,
        max_concurrency=settings.netease_max_concurrency,
        weapi_key=key,
        real_ip=settings.netease_real_ip,
    )


def upstreams_from_settings(settings: Settings, clock: Clock) -> Upstreams:
    qq = QQMusicUpstream(qqmusic_config(settings), clock=clock)
    http = httpx.AsyncClient(timeout=settings.netease_timeout, follow_redirects=False)
    return Upstreams(qq, build_netease(http, netease_config(settings), clock), http)


# -- end of upstreams ----------------------------------------------------------------------


def mailer_from_settings(settings: Settings) -> Mailer | None:
    """SMTP when a host is set; in dev without one, the log (logger ``karpov.mail.outbox``);
    otherwise none."""
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout,
        )
    return LogMailer() if settings.env == "dev" else None


def oauth_providers_from_settings(settings: Settings, clock: Clock) -> Sequence[OAuthProvider]:
    """Linux.do when its client credentials are set, then every OpenID Connect provider."""
    providers: list[OAuthProvider] = []
    if settings.oauth_linuxdo_client_id and settings.oauth_linuxdo_client_secret:
        config = LinuxDoConfig(
            client_id=settings.oauth_linuxdo_client_id,
            client_secret=settings.oauth_linuxdo_client_secret,
            redirect_uri=settings.oauth_linuxdo_redirect_url
            or settings.oauth_callback_url("linuxdo"),
            authorize_url=settings.oauth_linuxdo_authorize_url,
            token_url=settings.oauth_linuxdo_token_url,
            userinfo_url=settings.oauth_linuxdo_userinfo_url,
            min_trust_level=settings.oauth_linuxdo_min_trust_level,
            require_active=settings.oauth_linuxdo_require_active,
            reject_silenced=settings.oauth_linuxdo_reject_silenced,
            display_name=settings.oauth_linuxdo_display_name,
        )
        providers.append(LinuxDoProvider(config, clock=clock))
    for name, oidc in sorted(settings.oauth_oidc_providers.items()):
        providers.append(
            OidcProvider(
                OidcConfig(
                    name=name,
                    display_name=oidc.display_name or name.replace("_", " ").title(),
                    discovery_url=oidc.discovery_url,
                    client_id=oidc.client_id,
                    client_secret=oidc.client_secret,
                    redirect_uri=oidc.redirect_url or settings.oauth_callback_url(name),
                    scopes=tuple(oidc.scopes),
                ),
                clock=clock,
            )
        )
    return providers
