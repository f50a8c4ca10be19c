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
from domain.clock import Clock
from domain.documents.service import PersistedDocuments
from domain.keyring import KeyEncryptionKey, derive_key
from domain.keyring_service import KeyRingProvider, KeyRotation
from domain.oauth.rotation import OAuthTokenHolder
from domain.oauth.service import OAuthService
from domain.quota.access import RequestGate
from domain.quota.plans import FALLBACK_PLAN_ID
from domain.quota.ports import PlanOfUser
from domain.quota.service import QuotaService
from domain.runtime import AccountActivationConfig, EmailVerificationConfig, RuntimeConfig
from domain.security.audit import AuditLog
from domain.twofactor.codes import RecoveryCodeHasher
from domain.twofactor.rotation import TotpSecretHolder
from domain.twofactor.service import TwoFactorService
from domain.usage.service import UsageRecorder, UsageReports
from gateway.adapters import Adapters
from gateway.settings import Settings
from resolvers.context import Services


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

    email_codes = EmailCodes(
        store=a.email_codes, throttle=a.throttle, mailer=out.mailer, policy=flows_policy,
        hash_key=derive_key(master_key, "karpov:email-codes:v1"), clock=clock, audit=audit,
    )  # fmt: skip
    activation = Activation(
        uow=a.uow, tokens=a.one_time_tokens, throttle=a.throttle, mailer=out.mailer,
        policy=flows_policy, clock=clock, audit=audit,
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
    quota = QuotaService(
        a.quota_gate, a.plans, clock, timezone=timezone,
        on_store_error=settings.quota_on_redis_error,
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
        rules=rules, throttle=a.throttle, mailer=out.mailer, policy=flows_policy, clock=clock,
        audit=audit, cache=cache,
    )  # fmt: skip
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
        key_rotation=KeyRotation(keys, [TotpSecretHolder(a.uow), OAuthTokenHolder(a.uow)]),
        runtime=runtime_config(settings, flows_policy),
        clock=clock,
        documents=PersistedDocuments(a.persisted_queries, trusted=settings.trusted_documents),
    )


def cached_owners(cache: AuthenticationCache, uow: UnitOfWorkFactory) -> OwnerLookup:
    """The owner of a key or of a metered session call, through the sessions' 1 s memo
    (which this process's own changes to the user clear at once)."""

    async def owner(user_id: str) -> User | None:
        found = cache.user(user_id)
        if found is not None:
            return found
        async with uow() as work:
            found = await work.users.get(user_id)
        if found is not None:
            cache.remember_user(found)
        return found

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
