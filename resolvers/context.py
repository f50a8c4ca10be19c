"""The typed per-request context shared by GraphQL resolvers and /v1 handlers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.accounts.activation import Activation
from domain.accounts.admin import AdminUserService
from domain.accounts.email_codes import EmailCodes
from domain.accounts.password_reset import PasswordReset
from domain.accounts.service import AccountService
from domain.apikeys.service import ApiKeyService
from domain.apikeys.verifier import ApiKeyVerifier, VerifiedKey
from domain.billing.admin_views import AdminUserViews
from domain.billing.callbacks import CallbackService  # payments (issue 16)
from domain.billing.catalog import PlanService
from domain.billing.channels import PaymentChannelService  # payments (issue 16)
from domain.billing.invoices import InvoiceService
from domain.billing.orders import OrderService
from domain.billing.overage import OverageService
from domain.billing.plan_changes import PlanChanges
from domain.billing.refunds import RefundService
from domain.billing.settings import CurrencyService
from domain.billing.subscriptions import SubscriptionService
from domain.billing.wallet import WalletService
from domain.clock import Clock
from domain.documents.service import PersistedDocuments
from domain.jobs.service import JobRunner
from domain.keyring_service import KeyRotation
from domain.mail.outbox import MailOutbox

# -- music (issue 13) --
from domain.music.catalog import LocalMedia
from domain.music.service import MusicService
from domain.oauth.service import OAuthService
from domain.observations import Observations
from domain.pool.netease_login import NeteaseLoginService  # upstreams (issue 15)
from domain.pool.qr_login import QrLoginService  # upstreams (issue 15)
from domain.pool.service import PoolService
from domain.principal import Principal
from domain.quota.access import RequestGate
from domain.quota.metering import Meter
from domain.quota.service import Admission
from domain.runtime import RuntimeConfig
from domain.twofactor.service import TwoFactorService
from domain.usage.service import UsageRecorder, UsageReports

SESSION_COOKIE = "sid"


class HeaderSink(Protocol):
    """Where resolvers put response headers (a mutable headers mapping)."""

    def __setitem__(self, key: str, value: str) -> None: ...


class CookieJar(Protocol):
    """Where resolvers put cookies; each edge applies them to its own response."""

    def set(
        self, name: str, value: str, *, max_age: int, http_only: bool = True, path: str = "/"
    ) -> None: ...

    def delete(self, name: str, *, path: str = "/") -> None: ...


@dataclass(frozen=True, slots=True)
class Services:
    """Every domain service, each built exactly once by ``gateway.bootstrap.build_services``
    (from an adapter bundle, without I/O). Resolvers reach them through the context."""

    accounts: AccountService
    admin_users: AdminUserService
    twofactor: TwoFactorService
    email_codes: EmailCodes
    activation: Activation
    password_reset: PasswordReset
    oauth: OAuthService
    api_keys: ApiKeyService
    api_key_verifier: ApiKeyVerifier
    gate: RequestGate
    usage: UsageReports
    usage_recorder: UsageRecorder
    key_rotation: KeyRotation
    runtime: RuntimeConfig
    clock: Clock
    documents: PersistedDocuments
    """issue 11: persisted queries and trusted documents (the GraphQL transport's)."""
    # -- billing (issue 14) --
    plans: PlanService
    orders: OrderService
    subscriptions: SubscriptionService
    overage: OverageService
    invoices: InvoiceService
    refunds: RefundService
    wallet: WalletService
    currency: CurrencyService
    plan_changes: PlanChanges
    admin_user_views: AdminUserViews
    mock_payments: bool
    """The development-only mock provider (its pay page) is on."""
    # -- music (issue 13) --
    music: MusicService
    local_media: LocalMedia
    pool: PoolService  # credential pool (issue 13)
    qr_logins: QrLoginService  # upstreams (issue 15)
    netease_logins: NeteaseLoginService  # upstreams (issue 15)
    # -- payments (issue 16) --
    payment_callbacks: CallbackService
    payment_channels: PaymentChannelService
    # -- worker (issue 17) --
    jobs: JobRunner
    mail_outbox: MailOutbox
    observations: Observations


@dataclass(slots=True)
class Context:
    services: Services
    principal: Principal
    request_id: str
    cookies: CookieJar
    session_token: str | None = None
    """The bearer session token the request carried, if any (for logout)."""
    api_key: VerifiedKey | None = None
    """The verified key of an API-key caller."""
    admission: Admission | None = None
    """What the request gate admitted (limits' states for ``rateLimit`` and headers)."""
    response_headers: HeaderSink | None = None
    """Headers to add to the HTTP response (GraphQL: the rate-limit headers)."""
    request_headers: Sequence[tuple[bytes, bytes]] = ()
    """The request's raw headers (billing reads ``Idempotency-Key`` on both edges)."""

    def header(self, name: str) -> str | None:
        """A request header's value (``name`` in lower case), decoded as Latin-1."""
        wanted = name.encode("latin-1")
        for key, value in self.request_headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    # -- music (issue 13) --
    meter: Meter | None = None
    """Metered resolutions of this request (set by the edge's gate when it reserved)."""
    loaders: dict[str, Any] = field(default_factory=dict)
    """Per-request DataLoaders, by name (GraphQL)."""
