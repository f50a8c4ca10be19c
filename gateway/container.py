"""The composition root: builds every engine, client, store and service once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.admin import AdminUserService
from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.passwords import Argon2PasswordHasher
from domain.accounts.policy import AccountPolicy
from domain.accounts.ports import PasswordHasher, SessionStore
from domain.accounts.service import AccountService, PasswordRules
from domain.accounts.sessions import SessionIssuer
from domain.clock import Clock, SystemClock
from domain.keyring import KeyEncryptionKey, derive_key
from domain.keyring_service import KeyRingProvider, KeyRotation
from domain.runtime import RuntimeConfig
from domain.twofactor.codes import RecoveryCodeHasher
from domain.twofactor.ports import ChallengeStore
from domain.twofactor.rotation import TotpSecretHolder
from domain.twofactor.service import TwoFactorService
from gateway.settings import Settings
from integrations.hibp import HibpClient
from integrations.qr import SegnoQrRenderer
from persistence.redis.challenges import RedisChallengeStore
from persistence.redis.sessions import RedisSessionStore
from persistence.sql.accounts import SqlUnitOfWorkFactory
from persistence.sql.challenges import SqlChallengeStore
from persistence.sql.engine import create_engine, ping
from persistence.sql.keyring import SqlKeyVersionStore
from persistence.sql.sessions import SqlSessionStore
from resolvers.context import Services

REDIS_PREFIX = "karpov:"


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    redis: Redis | None
    http: httpx.AsyncClient
    services: Services
    clock: Clock
    key_rotation: KeyRotation
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def readiness(self) -> dict[str, bool]:
        """Which dependencies answer right now."""
        checks = {"database": True}
        try:
            await ping(self.engine)
        except Exception:
            checks["database"] = False
        if self.redis is not None:
            try:
                checks["redis"] = bool(await self.redis.ping())
            except Exception:
                checks["redis"] = False
        return checks

    async def close(self) -> None:
        for closer in reversed(self._closers):
            await closer()


async def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    http: httpx.AsyncClient | None = None,
    hasher: PasswordHasher | None = None,
) -> Container:
    clock = clock or SystemClock()
    closers: list[Callable[[], Awaitable[None]]] = []
    engine = create_engine(settings.database_url)
    closers.append(engine.dispose)
    redis: Redis | None = None
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url, decode_responses=False)
        closers.append(redis.aclose)
    if http is None:
        http = httpx.AsyncClient(timeout=settings.hibp_timeout, follow_redirects=False)
        closers.append(http.aclose)

    sessions: SessionStore = (
        RedisSessionStore(redis, prefix=REDIS_PREFIX) if redis is not None
        else SqlSessionStore(engine)
    )  # fmt: skip
    uow = SqlUnitOfWorkFactory(engine, clock)
    hasher = hasher or Argon2PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost_kib=settings.argon2_memory_kib
    )
    policy = AccountPolicy(
        session_ttl=settings.session_ttl,
        min_password_strength=settings.min_password_strength,
        breach_check=settings.hibp_mode,
    )
    rules = PasswordRules(
        policy, HibpClient(settings.hibp_url, http=http, timeout=settings.hibp_timeout)
    )
    cache = AuthenticationCache(clock, ttl=settings.auth_cache_ttl)
    master_key = settings.master_key_bytes()
    keys = KeyRingProvider(SqlKeyVersionStore(engine, clock), KeyEncryptionKey(master_key))
    challenges: ChallengeStore = (
        RedisChallengeStore(redis, prefix=REDIS_PREFIX) if redis is not None
        else SqlChallengeStore(engine)
    )  # fmt: skip
    twofactor = TwoFactorService(
        uow=uow,
        challenges=challenges,
        sessions=sessions,
        issuer=SessionIssuer(sessions=sessions, uow=uow, clock=clock, policy=policy, cache=cache),
        keys=keys,
        recovery_hasher=RecoveryCodeHasher(derive_key(master_key, "karpov:recovery-codes:v1")),
        qr=SegnoQrRenderer(),
        clock=clock,
        cache=cache,
    )
    services = Services(
        accounts=AccountService(
            uow=uow, sessions=sessions, hasher=hasher, password_rules=rules, clock=clock,
            policy=policy, cache=cache, second_factor=twofactor,
        ),
        admin_users=AdminUserService(
            uow=uow, sessions=sessions, hasher=hasher, password_rules=rules, clock=clock,
            cache=cache,
        ),
        twofactor=twofactor,
        runtime=RuntimeConfig(timezone=settings.timezone),
    )  # fmt: skip
    return Container(
        settings=settings, engine=engine, redis=redis, http=http, services=services,
        clock=clock, key_rotation=KeyRotation(keys, [TotpSecretHolder(uow)]), _closers=closers,
    )  # fmt: skip
