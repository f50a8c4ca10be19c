"""The composition root: builds every engine, client, store and service once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.activation import Activation
from domain.accounts.admin import AdminUserService
from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.email_codes import EmailCodes
from domain.accounts.email_policy import ActivationMode, EmailFlowsPolicy, VerificationMode
from domain.accounts.password_reset import PasswordReset
from domain.accounts.passwords import Argon2PasswordHasher
from domain.accounts.policy import AccountPolicy
from domain.accounts.ports import EmailCodeStore, PasswordHasher, SessionStore
from domain.accounts.service import (
    AccountService,
    EmailFlows,
    PasswordRules,
    RegistrationRules,
)
from domain.accounts.sessions import SessionIssuer
from domain.apikeys.verifier import ApiKeyVerifier
from domain.clock import Clock, SystemClock
from domain.keyring import KeyEncryptionKey, derive_key
from domain.keyring_service import KeyRingProvider, KeyRotation
from domain.mail.ports import Mailer
from domain.oauth.ports import OAuthProvider, OAuthStateStore
from domain.oauth.rotation import OAuthTokenHolder
from domain.oauth.service import OAuthService
from domain.runtime import AccountActivationConfig, EmailVerificationConfig, RuntimeConfig
from domain.security.audit import AuditLog
from domain.security.ports import ThrottleStore
from domain.twofactor.codes import RecoveryCodeHasher
from domain.twofactor.ports import ChallengeStore
from domain.twofactor.rotation import TotpSecretHolder
from domain.twofactor.service import TwoFactorService
from gateway.api_access import ApiAccess, build_api_access
from gateway.settings import Settings
from integrations.hibp import HibpClient
from integrations.mailer import LogMailer, SmtpMailer
from integrations.oauth.linuxdo import LinuxDoConfig, LinuxDoProvider
from integrations.oauth.oidc import OidcConfig, OidcProvider
from integrations.qr import SegnoQrRenderer
from persistence.memory.security import MemoryThrottleStore
from persistence.redis.challenges import RedisChallengeStore
from persistence.redis.email_codes import RedisEmailCodeStore
from persistence.redis.oauth import RedisOAuthStateStore
from persistence.redis.sessions import RedisSessionStore
from persistence.redis.throttle import RedisThrottleStore
from persistence.sql.accounts import SqlUnitOfWorkFactory
from persistence.sql.challenges import SqlChallengeStore
from persistence.sql.engine import create_engine, ping
from persistence.sql.keyring import SqlKeyVersionStore
from persistence.sql.oauth import SqlOAuthStateStore
from persistence.sql.security import SqlAuditStore, SqlEmailCodeStore, SqlOneTimeTokenStore
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
    api_access: ApiAccess
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

    @property
    def api_key_verifier(self) -> ApiKeyVerifier:
        return self.api_access.verifier

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
    throttle: ThrottleStore = (
        RedisThrottleStore(redis, prefix=REDIS_PREFIX) if redis is not None
        else MemoryThrottleStore()
    )  # fmt: skip
    audit = AuditLog(SqlAuditStore(engine), clock)
    flows_policy = email_flows_policy(settings)
    mailer = build_mailer(settings)
    one_time_tokens = SqlOneTimeTokenStore(engine)
    email_code_store: EmailCodeStore = (
        RedisEmailCodeStore(redis, prefix=REDIS_PREFIX) if redis is not None
        else SqlEmailCodeStore(engine)
    )  # fmt: skip
    email_codes = EmailCodes(
        store=email_code_store, throttle=throttle, mailer=mailer, policy=flows_policy,
        hash_key=derive_key(master_key, "karpov:email-codes:v1"), clock=clock, audit=audit,
    )  # fmt: skip
    activation = Activation(
        uow=uow, tokens=one_time_tokens, throttle=throttle, mailer=mailer, policy=flows_policy,
        clock=clock, audit=audit,
    )  # fmt: skip
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
        audit=audit,
    )
    access = build_api_access(
        settings, engine=engine, redis=redis, uow=uow, clock=clock, audit=audit,
        master_key=master_key, cache=cache,
    )  # fmt: skip
    access.start()
    closers.append(access.close)
    oauth_states: OAuthStateStore = (
        RedisOAuthStateStore(redis, prefix=REDIS_PREFIX) if redis is not None
        else SqlOAuthStateStore(engine)
    )  # fmt: skip
    oauth = OAuthService(
        providers=build_oauth_providers(settings, clock),
        uow=uow,
        states=oauth_states,
        keys=keys,
        issuer=SessionIssuer(
            sessions=sessions, uow=uow, clock=clock, policy=policy, cache=cache, audit=audit
        ),
        clock=clock,
        frontend_base_url=settings.frontend_url,
        second_factor=twofactor,
        audit=audit,
        registration=RegistrationRules(flows_policy, uow=uow, clock=clock, throttle=throttle),
        throttle=throttle,
    )
    services = Services(
        accounts=AccountService(
            uow=uow, sessions=sessions, hasher=hasher, password_rules=rules, clock=clock,
            policy=policy, cache=cache, second_factor=twofactor, throttle=throttle, audit=audit,
            flows=EmailFlows(policy=flows_policy, codes=email_codes, activation=activation),
        ),
        admin_users=AdminUserService(
            uow=uow, sessions=sessions, hasher=hasher, password_rules=rules, clock=clock,
            cache=cache, throttle=throttle, audit=audit,
        ),
        twofactor=twofactor,
        email_codes=email_codes,
        activation=activation,
        password_reset=PasswordReset(
            uow=uow, tokens=one_time_tokens, sessions=sessions, hasher=hasher, rules=rules,
            throttle=throttle, mailer=mailer, policy=flows_policy, clock=clock, audit=audit,
            cache=cache,
        ),
        runtime=runtime_config(settings, flows_policy),
        api_keys=access.api_keys, gate=access.gate, usage=access.usage, clock=clock,
        oauth=oauth,
    )  # fmt: skip
    rotation = KeyRotation(keys, [TotpSecretHolder(uow), OAuthTokenHolder(uow)])
    return Container(
        settings=settings, engine=engine, redis=redis, http=http, services=services,
        clock=clock, key_rotation=rotation, api_access=access, _closers=closers,
    )  # fmt: skip


def build_oauth_providers(settings: Settings, clock: Clock) -> list[OAuthProvider]:
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


def email_flows_policy(settings: Settings) -> EmailFlowsPolicy:
    base = settings.public_base_url.rstrip("/")
    return EmailFlowsPolicy(
        app_name=settings.app_name,
        verification=settings.email_verification,
        activation=settings.account_activation,
        activation_url=settings.activation_url or f"{base}/activate?token=",
        reset_url=settings.password_reset_url or f"{base}/reset-password?token=",
        allowed_domains=tuple(settings.email_allowed_domains),
        blocked_domains=tuple(settings.email_blocked_domains),
        one_account_per_ip=settings.register_one_per_ip,
        registrations_per_ip_per_hour=settings.register_per_ip_per_hour,
        ip_allowlist=tuple(settings.register_ip_allowlist),
        mail_enabled=settings.mail_enabled,
    )


def build_mailer(settings: Settings) -> Mailer | None:
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


def runtime_config(settings: Settings, flows: EmailFlowsPolicy) -> RuntimeConfig:
    return RuntimeConfig(
        timezone=settings.timezone,
        email_verification=EmailVerificationConfig(
            enabled=flows.verification is not VerificationMode.OFF and flows.mail_enabled,
            required=flows.verification is VerificationMode.REQUIRED,
            cooldown_seconds=flows.code_cooldown_seconds,
            code_ttl_seconds=int(flows.code_ttl.total_seconds()),
            hourly_limit_per_email=flows.codes_per_email_per_hour,
            allowed_domains=flows.allowed_domains,
            blocked_domains=flows.blocked_domains,
            app_name=flows.app_name,
        ),
        account_activation=AccountActivationConfig(
            enabled=flows.activation is ActivationMode.REQUIRED and flows.mail_enabled,
            required=flows.activation is ActivationMode.REQUIRED,
            ttl_seconds=int(flows.activation_ttl.total_seconds()),
        ),
    )
