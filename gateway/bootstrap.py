"""``build_services``: the one place every domain service is built, from an adapter bundle.

Pure: no I/O, no background task, nothing read from the environment (``Settings`` is
passed in, with its master key already resolved: ``Settings.with_master_key``). Every
collaborator is built exactly once and handed to whoever needs it, so two services never
disagree about, say, how a sign-in is audited: there is ONE ``SessionIssuer`` and ONE
``RegistrationRules``. The running application calls it through
``gateway.container.build_container`` (with ``Adapters.sql``); unit tests call it with
``Adapters.memory`` (cosmicpython's ``bootstrap.py`` is the model).

To add a service: build it here from the bundle's stores and the collaborators above it,
add it to ``resolvers.context.Services``, and pass it what it needs, never a default.
"""

from __future__ import annotations

# -- music (issue 13) ----------------------------------------------------------------------
from datetime import timedelta
from zoneinfo import ZoneInfo

from domain.accounts.activation import Activation
from domain.accounts.admin import AdminUserService
from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.email_codes import EmailCodes
from domain.accounts.email_policy import ActivationMode, EmailFlowsPolicy, VerificationMode
from domain.accounts.model import User
from domain.accounts.password_reset import PasswordReset
from domain.accounts.policy import AccountPolicy
from domain.accounts.ports import UnitOfWorkFactory
from domain.accounts.service import AccountService, EmailFlows, PasswordRules, RegistrationRules
from domain.accounts.sessions import SessionIssuer
from domain.apikeys.format import KeyHasher, api_key_hmac_secret
from domain.apikeys.ports import OwnerLookup
from domain.apikeys.service import ApiKeyService
from domain.apikeys.verifier import ApiKeyVerifier, InvalidateHereFirst
from domain.billing.admin_views import AdminUserViews
from domain.billing.callbacks import CallbackService  # payments (issue 16)
from domain.billing.catalog import PlanService
from domain.billing.channels import ChannelSecretHolder, PaymentChannelService  # payments
from domain.billing.invoices import InvoiceService
from domain.billing.model import DEFAULT_CURRENCY
from domain.billing.orders import OrderService
from domain.billing.overage import OverageService
from domain.billing.plan_changes import PlanChanges
from domain.billing.ports import PaymentProvider
from domain.billing.refunds import RefundService
from domain.billing.settings import CurrencyService
from domain.billing.subscriptions import SubscriptionService
from domain.billing.wallet import WalletService
from domain.clock import Clock
from domain.documents.service import PersistedDocuments
from domain.jobs.service import JobRunner
from domain.keyring import KeyEncryptionKey, derive_key
from domain.keyring_service import KeyRingProvider, KeyRotation
from domain.leases import CredentialLeaser
from domain.mail.outbox import MailOutbox
from domain.music.catalog import LocalCatalogProvider, LocalMedia, StreamTokens
from domain.music.model import ProviderName
from domain.music.ports import Capability, MusicProvider
from domain.music.service import LOCAL_TTL, MusicService
from domain.oauth.rotation import OAuthTokenHolder
from domain.oauth.service import OAuthService
from domain.observations import Observations
from domain.pool.netease_login import NeteaseLoginService  # upstreams (issue 15)
from domain.pool.qr_login import QrLoginService  # upstreams (issue 15)
from domain.pool.rotation import PoolPayloadHolder
from domain.pool.service import PoolPolicy, PoolService
from domain.quota.access import RequestGate
from domain.quota.plans import FALLBACK_PLAN_ID
from domain.quota.ports import PlanOfUser
from domain.quota.service import QuotaService
from domain.runtime import AccountActivationConfig, EmailVerificationConfig, RuntimeConfig
from domain.security.audit import AuditLog
from domain.singleflight import SingleFlight
from domain.twofactor.codes import RecoveryCodeHasher
from domain.twofactor.rotation import TotpSecretHolder
from domain.twofactor.service import TwoFactorService
from domain.usage.service import UsageRecorder, UsageReports
from gateway.adapters import Adapters
from gateway.jobs import JobDependencies, scheduled_jobs
from gateway.settings import Settings
from integrations.payments import MockConfig, MockProvider
from integrations.payments.factory import ProviderFactory  # payments (issue 16)
from resolvers.context import Services

UNWIRED_PROVIDERS = {
    ProviderName.QQMUSIC: "QQ Music is not enabled on this server (KARPOV_MUSIC_UPSTREAMS)",
    ProviderName.NETEASE: "NetEase Cloud Music is not enabled on this server "
    "(KARPOV_MUSIC_UPSTREAMS)",
}


def music_services(
    adapters: Adapters,
    settings: Settings,
    clock: Clock,
    master_key: bytes,
    *,
    leaser: CredentialLeaser,
    observations: Observations | None = None,  # worker (issue 17): upstream call metrics
) -> tuple[MusicService, LocalMedia]:
    """The music service over its providers (the local catalog, and the upstreams the
    outbound bundle carries; the others answer 503), borrowing upstream accounts from the
    credential pool (``leaser``)."""
    tokens = StreamTokens(derive_key(master_key, "karpov:local-stream:v1"), clock)
    local = LocalCatalogProvider(adapters.catalog, tokens, base_url=settings.public_base_url)
    # -- upstreams (issue 15): QQ Music and NetEase, when the outbound bundle has them --
    providers: dict[ProviderName, MusicProvider] = {ProviderName.LOCAL: local}
    providers.update({p.name: p for p in adapters.outbound.music_providers})
    unwired = {n: m for n, m in UNWIRED_PROVIDERS.items() if n not in providers}
    music = MusicService(
        providers, leaser=leaser,
        cache=adapters.music_cache, clock=clock, unavailable=unwired,
        local_ttl=LOCAL_TTL,  # perf (issue 18): decoded answers kept in-process briefly
        observations=observations,
    )  # fmt: skip
    return music, LocalMedia(adapters.catalog, tokens)


# -- end of music --------------------------------------------------------------------------


def build_services(adapters: Adapters, settings: Settings, clock: Clock) -> Services:
    if not settings.master_key:
        raise ValueError("build_services needs the master key resolved: settings.with_master_key()")
    a, out = adapters, adapters.outbound
    master_key = settings.master_key_bytes()
    timezone = ZoneInfo(settings.timezone)
    policy = account_policy(settings)
    flows_policy = email_flows_policy(settings)
    cache = AuthenticationCache(clock, ttl=settings.auth_cache_ttl)
    audit = AuditLog(a.audit, clock)
    rules = PasswordRules(policy, out.breaches)
    keys = KeyRingProvider(a.key_versions, KeyEncryptionKey(master_key))
    issuer = SessionIssuer(
        sessions=a.sessions, uow=a.uow, clock=clock, policy=policy, cache=cache, audit=audit
    )
    registration = RegistrationRules(flows_policy, uow=a.uow, clock=clock, throttle=a.throttle)

    observations = Observations()  # worker (issue 17): the edge adds its metrics
    # -- worker (issue 17): mails go through the outbox --
    outbox = MailOutbox(
        uow=a.uow, store=a.mail_outbox, mailer=out.mailer, keys=keys, clock=clock,
        max_attempts=settings.mail_max_attempts,
        backoff=timedelta(seconds=settings.mail_retry_backoff),
    )  # fmt: skip
    email_codes = EmailCodes(
        store=a.email_codes, throttle=a.throttle, mailer=out.mailer, policy=flows_policy,
        hash_key=derive_key(master_key, "karpov:email-codes:v1"), clock=clock, audit=audit,
    )  # fmt: skip
    activation = Activation(
        uow=a.uow, tokens=a.one_time_tokens, throttle=a.throttle, mailer=out.mailer,
        outbox=outbox, policy=flows_policy, clock=clock, audit=audit,
    )  # fmt: skip
    twofactor = TwoFactorService(
        uow=a.uow, challenges=a.challenges, sessions=a.sessions, issuer=issuer, keys=keys,
        recovery_hasher=RecoveryCodeHasher(derive_key(master_key, "karpov:recovery-codes:v1")),
        qr=out.qr, clock=clock, cache=cache, audit=audit,
    )  # fmt: skip
    accounts = AccountService(
        uow=a.uow, sessions=a.sessions, hasher=out.hasher, password_rules=rules, clock=clock,
        policy=policy, cache=cache, issuer=issuer, registration=registration,
        second_factor=twofactor, throttle=a.throttle, audit=audit,
        flows=EmailFlows(policy=flows_policy, codes=email_codes, activation=activation),
    )  # fmt: skip
    oauth = OAuthService(
        providers=out.oauth_providers, uow=a.uow, states=a.oauth_states, keys=keys,
        issuer=issuer, clock=clock, frontend_base_url=settings.frontend_url,
        second_factor=twofactor, audit=audit, registration=registration, throttle=a.throttle,
    )  # fmt: skip

    owners = cached_owners(cache, a.uow)
    hasher = KeyHasher(api_key_hmac_secret(master_key))
    verifier = ApiKeyVerifier(
        store=a.api_keys, owners=owners, hasher=hasher, clock=clock,
        cache_ttl=settings.api_key_cache_ttl.total_seconds(),
    )  # fmt: skip
    # billing (issue 14): pays metered calls beyond a pay-as-you-go plan from the wallet
    overage = OverageService(uow=a.uow, plans=a.plans, clock=clock, timezone=timezone)
    quota = QuotaService(
        a.quota_gate, a.plans, clock, timezone=timezone,
        on_store_error=settings.quota_on_redis_error, overage=overage,
        used=a.usage,  # harden: plan counters restored from the roll-ups
    )  # fmt: skip
    recorder = UsageRecorder(a.usage, clock, timezone=timezone)
    api_keys = ApiKeyService(
        uow=a.uow, hasher=hasher, clock=clock, audit=audit,
        invalidations=InvalidateHereFirst(verifier, a.key_invalidations),
    )  # fmt: skip
    admin_users = AdminUserService(
        uow=a.uow, sessions=a.sessions, hasher=out.hasher, password_rules=rules, clock=clock,
        cache=cache, throttle=a.throttle, audit=audit,
    )  # fmt: skip
    password_reset = PasswordReset(
        uow=a.uow, tokens=a.one_time_tokens, sessions=a.sessions, hasher=out.hasher,
        rules=rules, throttle=a.throttle, mailer=out.mailer, outbox=outbox,
        policy=flows_policy, clock=clock, audit=audit, cache=cache,
    )  # fmt: skip
    # -- billing (issue 14) --
    plan_changes = PlanChanges(
        forget_user=cache.forget_user, forget_plan=quota.forget_plan, broadcast=a.plan_changes
    )
    subscriptions = SubscriptionService(
        uow=a.uow, plans=a.plans, clock=clock, changes=plan_changes, audit=audit
    )
    orders = OrderService(
        uow=a.uow, plans=a.plans, providers=payment_providers(settings), clock=clock,
        public_base_url=settings.public_base_url, user_plan_changed=plan_changes.user_changed,
        fulfil_plan=subscriptions.fulfil,
    )  # fmt: skip
    plans = PlanService(
        store=a.plan_store, uow=a.uow, clock=clock, changes=plan_changes, audit=audit
    )
    wallet = WalletService(uow=a.uow, clock=clock, audit=audit, default_currency=DEFAULT_CURRENCY)
    currency = CurrencyService(uow=a.uow, clock=clock, audit=audit)
    # -- end of billing --
    # -- payments (issue 16) --
    channels = PaymentChannelService(
        uow=a.uow, keys=keys, factory=ProviderFactory(), orders=orders, clock=clock,
        audit=audit, mock_offered=settings.mock_payments_enabled,
    )  # fmt: skip
    # -- credential pool (issue 13) --
    pool = PoolService(
        uow=a.uow, leases=a.pool_leases, refresh_lock=a.pool_refresh, keys=keys, audit=audit,
        clock=clock, providers=pool_providers(), lifecycles=out.credential_lifecycles,
        policy=pool_policy(settings), observations=observations,
    )  # fmt: skip
    callbacks = CallbackService(  # payments (issue 16)
        orders=orders,
        store=a.payment_callbacks,
        clock=clock,
        audit=audit,
        guard=channels,
        observations=observations,
    )
    jobs = job_runner(  # worker (issue 17)
        a, settings, clock,
        JobDependencies(
            pool=pool, outbox=outbox, usage=recorder, expired=a.expired, clock=clock,
            orders=orders, subscriptions=subscriptions, callbacks=callbacks, channels=channels,
        ),
    )  # fmt: skip
    music, local_media = music_services(
        a, settings, clock, master_key, leaser=pool, observations=observations
    )  # music (issue 13)
    qr_logins = QrLoginService(
        flow=out.qr_login, sessions=a.qr_sessions, keys=keys, pool=pool, clock=clock,
        ttl_seconds=settings.qr_login_ttl,
    )  # upstreams (issue 15)  # fmt: skip
    netease_logins = NeteaseLoginService(login=out.netease_login, pool=pool)  # upstreams
    return Services(
        accounts=accounts,
        admin_users=admin_users,
        twofactor=twofactor,
        email_codes=email_codes,
        activation=activation,
        password_reset=password_reset,
        oauth=oauth,
        api_keys=api_keys,
        api_key_verifier=verifier,
        gate=RequestGate(quota, recorder, plan_of_user=plan_of(owners)),
        usage=UsageReports(a.usage, recorder, clock, timezone=timezone),
        usage_recorder=recorder,
        key_rotation=KeyRotation(
            keys,
            [
                TotpSecretHolder(a.uow),
                OAuthTokenHolder(a.uow),
                PoolPayloadHolder(a.uow),
                ChannelSecretHolder(a.uow),  # payments (issue 16)
            ],
        ),
        runtime=runtime_config(settings, flows_policy),
        clock=clock,
        documents=PersistedDocuments(a.persisted_queries, trusted=settings.trusted_documents),
        # -- billing (issue 14) --
        plans=plans,
        orders=orders,
        subscriptions=subscriptions,
        overage=overage,
        invoices=InvoiceService(uow=a.uow),
        refunds=RefundService(uow=a.uow, clock=clock, changes=plan_changes, audit=audit),
        wallet=wallet,
        currency=currency,
        plan_changes=plan_changes,
        admin_user_views=AdminUserViews(uow=a.uow, clock=clock),
        mock_payments=settings.mock_payments_enabled,
        music=music,  # music (issue 13)
        local_media=local_media,  # music (issue 13)
        pool=pool,
        qr_logins=qr_logins,  # upstreams (issue 15)
        netease_logins=netease_logins,  # upstreams (issue 15)
        # -- payments (issue 16) --
        payment_callbacks=callbacks,
        payment_channels=channels,
        jobs=jobs,  # worker (issue 17)
        mail_outbox=outbox,  # worker (issue 17)
        observations=observations,  # worker (issue 17): what the metrics count
    )


# -- worker (issue 17) ----------------------------------------------------------------------


def job_runner(
    adapters: Adapters, settings: Settings, clock: Clock, deps: JobDependencies
) -> JobRunner:
    """Every scheduled job over the services above; ``worker`` when Redis is configured
    (``karpov worker`` runs them), ``in-process`` otherwise (``karpov serve`` does)."""
    return JobRunner(
        jobs=scheduled_jobs(deps, settings), store=adapters.jobs, claims=adapters.tick_claims,
        clock=clock, runner="worker" if settings.redis_url else "in-process",
    )  # fmt: skip


# -- credential pool (issue 13) ----------------------------------------------------------


def pool_providers() -> dict[str, frozenset[str]]:
    """Every music provider, with every capability of the music port."""
    capabilities = frozenset(c.value for c in Capability)
    return {p.value: capabilities for p in ProviderName}


def pool_policy(settings: Settings) -> PoolPolicy:
    return PoolPolicy(
        lease_ttl_seconds=settings.pool_lease_ttl,
        refresh_lock_ttl_seconds=settings.pool_refresh_lock_ttl,
        default_max_concurrency=settings.pool_max_concurrency,
        default_requests_per_second=settings.pool_requests_per_second,
        provider_requests_per_second={  # upstreams (issue 15)
            name: rate
            for name, rate in (
                (ProviderName.QQMUSIC.value, settings.qqmusic_requests_per_second),
                (ProviderName.NETEASE.value, settings.netease_requests_per_second),
            )
            if rate is not None
        },
    )


def payment_providers(settings: Settings) -> dict[str, PaymentProvider]:
    """The providers orders may use. The real providers' wiring is issue 16's; here only
    the development-only mock, when enabled (never in prod)."""
    providers: dict[str, PaymentProvider] = {}
    if settings.mock_payments_enabled:
        providers["mock"] = MockProvider(MockConfig(base_url=settings.public_base_url))
    return providers


def cached_owners(cache: AuthenticationCache, uow: UnitOfWorkFactory) -> OwnerLookup:
    """The owner of a key or of a metered session call, through the sessions' 1 s memo
    (which this process's own changes to the user clear at once)."""

    async def read(user_id: str) -> User | None:
        async with uow() as work:
            found = await work.users.get(user_id)
        if found is not None:
            cache.remember_user(found)
        return found

    # perf (issue 18): concurrent misses for one user share one read. Without it every
    # request in flight when the memo lapses reads the same row (a stampede per second
    # under load, each read a database round trip).
    reads = SingleFlight()

    async def owner(user_id: str) -> User | None:
        found = cache.user(user_id)
        if found is not None:
            return found
        return await reads.run(user_id, lambda: read(user_id))

    return owner


def plan_of(owners: OwnerLookup) -> PlanOfUser:
    async def plan(user_id: str) -> str:
        found = await owners(user_id)
        return found.plan_id if found is not None else FALLBACK_PLAN_ID

    return plan


def account_policy(settings: Settings) -> AccountPolicy:
    return AccountPolicy(
        session_ttl=settings.session_ttl,
        min_password_strength=settings.min_password_strength,
        breach_check=settings.hibp_mode,
    )


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
