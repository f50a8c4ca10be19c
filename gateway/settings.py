"""Configuration, read once from the environment (prefix ``KARPOV_``) into ``Settings``.

Bad configuration stops start-up with one clear line naming the setting
(:class:`ConfigError`); nothing else in the code base reads the environment.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.accounts.email_policy import ActivationMode, VerificationMode
from domain.accounts.policy import BreachCheckMode
from domain.quota.service import OnStoreError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/karpov.db"
MASTER_KEY_FILE = Path("var/master.key")
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
"""issue 18: ``KARPOV_QUOTA_REDIS_URL`` schemes naming a Redis Cluster."""


def cluster_node_url(url: str) -> str:
    """``redis+cluster://…`` as the plain ``redis://…`` of the node redis-py starts from."""
    scheme, _, rest = url.partition("+cluster://")
    return f"{scheme}://{rest}"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _http_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


LINUXDO_AUTHORIZE_URL = "https://connect.linux.do/oauth2/authorize"
LINUXDO_TOKEN_URL = "https://connect.linux.do/oauth2/token"
LINUXDO_USERINFO_URL = "https://connect.linux.do/api/user"
OIDC_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_OIDC_VARIABLE = re.compile(
    r"^KARPOV_OAUTH_([A-Z0-9][A-Z0-9_]*?)_"
    r"(DISCOVERY_URL|CLIENT_ID|CLIENT_SECRET|DISPLAY_NAME|SCOPES|REDIRECT_URL)$"
)
_OIDC_REQUIRED = ("DISCOVERY_URL", "CLIENT_ID", "CLIENT_SECRET")
_RESERVED_PROVIDER_NAMES = frozenset({"linuxdo", "providers", "identities"})


class OidcProviderSettings(BaseModel):
    """One OpenID Connect provider, from ``KARPOV_OAUTH_<NAME>_*``."""

    model_config = {"frozen": True, "extra": "forbid"}

    discovery_url: str
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1, repr=False)
    display_name: str | None = None
    scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["openid", "email", "profile"]
    )
    redirect_url: str | None = None
    """Our callback URL; default ``{public base}/v1/auth/oauth/<name>/callback``."""

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scopes(cls, value: object) -> object:
        if isinstance(value, str):
            return [s for s in re.split(r"[\s,]+", value) if s]
        return value

    _urls = field_validator("discovery_url", "redirect_url")(_http_url)

    @field_validator("discovery_url")
    @classmethod
    def _required_url(cls, value: str | None) -> str:
        if not value:
            raise ValueError("a discovery URL is required")
        return value


def oidc_providers_from_environment(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``KARPOV_OAUTH_<NAME>_DISCOVERY_URL`` / ``_CLIENT_ID`` / ``_CLIENT_SECRET`` (and optional
    ``_DISPLAY_NAME``, ``_SCOPES``, ``_REDIRECT_URL``), grouped by ``<name>`` (lower-cased).
    ``LINUXDO`` is the built-in Linux.do provider, not an OpenID one. A provider with some but
    not all required variables is a ``ConfigError`` naming the missing one."""
    found: dict[str, dict[str, str]] = {}
    for key, value in environ.items():
        match = _OIDC_VARIABLE.match(key.upper())
        if match is None or match.group(1) == "LINUXDO":
            continue
        found.setdefault(match.group(1), {})[match.group(2)] = value
    providers: dict[str, dict[str, str]] = {}
    for name, values in sorted(found.items()):
        for required in _OIDC_REQUIRED:
            if not values.get(required, "").strip():
                raise ConfigError(
                    f"KARPOV_OAUTH_{name}_{required}: required for the OpenID Connect provider "
                    f"{name.lower()!r} (set it, or unset every KARPOV_OAUTH_{name}_* variable)"
                )
        providers[name.lower()] = {k.lower(): v for k, v in values.items()}
    return providers


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KARPOV_", extra="ignore", frozen=True)

    env: Literal["dev", "prod"] = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    quota_redis_url: str | None = None
    """issue 18: the quota gate's own Redis (default ``redis_url``): ``redis://`` /
    ``rediss://`` one node, ``redis+cluster://host:port`` / ``rediss+cluster://`` a Redis
    Cluster (any node of it). Needs ``redis_url`` (the rest of Redis's work stays there)."""
    master_key: str | None = Field(default=None, repr=False)
    admin_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    public_base_url: str = "http://localhost:8080"
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    hibp_url: str = "https://api.pwnedpasswords.com/range/"
    hibp_mode: BreachCheckMode = BreachCheckMode.FAIL_OPEN
    hibp_timeout: float = Field(default=5.0, gt=0, le=60)
    session_ttl: timedelta = timedelta(days=7)
    auth_cache_ttl: timedelta = timedelta(seconds=1)
    """How long a process may reuse a resolved session without asking the store again:
    the bound on how late a revocation made by another process takes effect."""
    min_password_strength: int = Field(default=3, ge=0, le=4)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    graphiql: bool = True
    introspection: bool = True
    timezone: str = "UTC"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    app_name: str = "Karpov"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_tls: Literal["auto", "starttls", "ssl", "none"] = "auto"
    smtp_from: str = "Karpov <no-reply@localhost>"
    smtp_timeout: float = Field(default=15.0, gt=0, le=120)
    email_verification: VerificationMode = VerificationMode.OFF
    account_activation: ActivationMode = ActivationMode.OFF
    email_allowed_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    email_blocked_domains: Annotated[list[str], NoDecode] = Field(default_factory=list)
    register_one_per_ip: bool = False
    register_per_ip_per_hour: int = Field(default=50, ge=0)
    register_ip_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)
    activation_url: str | None = None
    """Link base for activation mails; default ``{public_base_url}/activate?token=``."""
    password_reset_url: str | None = None
    """Link base for reset mails; default ``{public_base_url}/reset-password?token=``."""
    # argon2id cost; the defaults are the original gateway's (t=2, m=64 MiB, p=1).
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    quota_on_redis_error: OnStoreError = OnStoreError.DENY
    """What the quota gate does when Redis cannot be reached: refuse metered and API-key
    requests with 503 (``deny``) or let them through unlimited (``allow``)."""
    quota_gate_timeout: float = Field(default=0.25, gt=0, le=30)
    """Seconds the quota gate waits for Redis (to connect, for an answer, for a pooled
    connection) before the policy above applies: every metered request waits on it."""
    usage_event_retention: timedelta = timedelta(days=90)
    """How long raw usage events are kept (daily and monthly roll-ups are kept forever)."""
    api_key_cache_ttl: timedelta = timedelta(seconds=60)
    """The longest a process trusts a cached key without asking the database; changes
    reach every process at once through Redis pub/sub, this only bounds a lost message."""
    frontend_base_url: str | None = None
    """Where OAuth sends the browser back (``/``, ``/settings?bind=ok``, ``/oauth-error``,
    ``/oauth-totp``) and the only absolute ``next`` origin; default the public base URL."""
    oauth_linuxdo_client_id: str | None = None
    oauth_linuxdo_client_secret: str | None = Field(default=None, repr=False)
    oauth_linuxdo_authorize_url: str = LINUXDO_AUTHORIZE_URL
    oauth_linuxdo_token_url: str = LINUXDO_TOKEN_URL
    oauth_linuxdo_userinfo_url: str = LINUXDO_USERINFO_URL
    oauth_linuxdo_redirect_url: str | None = None
    """Default ``{public base}/v1/auth/oauth/linuxdo/callback``."""
    oauth_linuxdo_min_trust_level: int = Field(default=0, ge=0, le=4)
    oauth_linuxdo_require_active: bool = True
    oauth_linuxdo_reject_silenced: bool = False
    oauth_linuxdo_display_name: str = "Linux.do"
    oauth_oidc_providers: dict[str, OidcProviderSettings] = Field(default_factory=dict)
    """Filled by ``load_settings`` from ``KARPOV_OAUTH_<NAME>_*`` (see
    ``oidc_providers_from_environment``)."""
    # -- GraphQL and HTTP for stock clients and frontends (issue 11) --
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Exact origins (``https://app.example.com``, comma-separated) whose pages may call
    ``/graphql`` and ``/v1`` with cookies; empty: same-origin only."""
    graphql_trusted_documents: Path | None = None
    """A JSON file of the only documents that may run (``{"<sha256 hex>": "<document>"}``,
    Apollo's persisted query manifest, or a list of documents); unset: any document."""

    _split_cors = field_validator("cors_origins", mode="before")(_split_csv)

    @field_validator("cors_origins")
    @classmethod
    def _valid_origins(cls, value: list[str]) -> list[str]:
        from gateway.cors import normalise_origin

        return [normalise_origin(origin) for origin in value]

    @field_validator("graphql_trusted_documents", mode="before")
    @classmethod
    def _no_empty_path(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("graphql_trusted_documents")
    @classmethod
    def _readable_documents(cls, value: Path | None) -> Path | None:
        if value is not None:
            read_trusted_documents(value)  # a bad file stops start-up, naming the setting
        return value

    @property
    def trusted_documents(self) -> dict[str, str] | None:
        """The trusted documents by hash (the file is read once per process)."""
        if self.graphql_trusted_documents is None:
            return None
        return read_trusted_documents(self.graphql_trusted_documents)

    # -- end of issue 11 --
    # -- billing (issue 14) --
    billing_mock_payments: bool | None = None
    """The development-only ``mock`` payment provider (a Karpov page with pay and fail
    buttons): on by default in ``dev``, off in ``prod``, where turning it on is refused."""

    @property
    def mock_payments_enabled(self) -> bool:
        if self.billing_mock_payments is None:
            return self.env == "dev"
        return self.billing_mock_payments

    @model_validator(mode="after")
    def _no_mock_payments_in_prod(self) -> Settings:
        if self.env == "prod" and self.billing_mock_payments:
            raise ValueError("KARPOV_BILLING_MOCK_PAYMENTS cannot be enabled in prod")
        return self

    # -- end of billing --
    # -- music (issue 13) ---------------------------------------------------------------
    catalog_dir: Path = Path("var/music")
    """Where the local catalog's audio lives: ``karpov catalog demo`` writes its files here
    and ``karpov catalog import`` reads it when no directory is given. Imported files are
    streamed from where they were imported (their absolute path is stored)."""
    music_upstreams: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["qqmusic", "netease"]
    )
    """Upstream providers the music service answers from, beside the local catalog
    (``qqmusic``, ``netease``; comma list; default both, as the original; empty or ``none``:
    the local catalog only). Unlisted ones answer 503; play URLs and VIP content borrow
    accounts from the credential pool; an unreachable one answers 502."""
    graphql_max_cost: int = Field(default=1000, ge=1)
    """The most points a GraphQL document may cost (static upper bound, ``schema.cost``);
    a costlier one is refused before execution."""
    # -- end of music ----------------------------------------------------------------------
    # -- credential pool (issue 13) --
    pool_lease_ttl: float = Field(default=30.0, gt=0, le=600)
    """Seconds a leased credential's slot is held at most; an unreleased lease frees it."""
    pool_max_concurrency: int = Field(default=4, ge=1, le=64)
    """Default calls in flight per credential (each credential may set its own)."""
    pool_requests_per_second: int = Field(default=3, ge=1, le=1000)
    """Default request rate per credential (each credential may set its own)."""
    pool_refresh_lock_ttl: float = Field(default=60.0, gt=0, le=3600)
    """Seconds a refresh holds a credential at most (a crashed refresh frees it then)."""
    pool_refresh_interval: float = Field(default=1800.0, ge=0)
    """Seconds between runs of the ``pool_refresh`` job (the refresh queue, and QQ Music
    logins close to expiry; issue 17); 0: the job is not scheduled."""
    qqmusic_api_url: str = "https://u.y.qq.com/cgi-bin/musicu.fcg"
    """QQ Music's ``musicu.fcg`` endpoint (pool checks and refreshes use it)."""
    netease_api_url: str = "https://music.163.com"
    """NetEase's API origin (pool checks and refreshes use it)."""
    netease_timeout: float = Field(default=10.0, gt=0, le=120)
    # -- upstreams (issue 15) --
    qqmusic_ptlogin_url: str = "https://ssl.ptlogin2.qq.com"
    """Origin of QQ's ptlogin2 QR pages (``ptqrshow``, ``ptqrlogin``, ``check_sig``)."""
    qqmusic_graph_url: str = "https://graph.qq.com"
    """Origin of the QQ Connect ``/oauth2.0/authorize`` step of a QQ QR login."""
    wechat_open_url: str = "https://open.weixin.qq.com"
    """Origin of WeChat's ``/connect/qrconnect`` page and its QR image."""
    wechat_long_poll_url: str = "https://lp.open.weixin.qq.com"
    """Origin of WeChat's scan-status long poll."""
    qqmusic_stream_url: str = "https://ws.stream.qqmusic.qq.com/"
    """The audio host of QQ play URLs when the upstream offers none but ``dl.stream``."""
    qqmusic_image_url: str = "https://y.gtimg.cn/music/photo_new/"
    """Where QQ Music's album covers and artist photos are served (the URLs answers carry)."""
    qqmusic_sign: bool = False
    """Add the ``sign=`` query signature to every ``musicu.fcg`` call (off, as the original)."""
    qqmusic_timeout: float = Field(default=10.0, gt=0, le=120)
    """Seconds one ``musicu.fcg`` call may take."""
    qqmusic_login_timeout: float = Field(default=15.0, gt=0, le=120)
    """Seconds per request of the QR login pages (ptlogin2, graph, WeChat)."""
    qqmusic_max_concurrency: int = Field(default=10, ge=1, le=256)
    """``musicu.fcg`` calls in flight per process."""
    netease_max_concurrency: int = Field(default=8, ge=1, le=256)
    """NetEase calls in flight per process."""
    netease_weapi_key: str | None = None
    """The weapi RSA public key as ``<modulus hex>:<exponent hex>`` (default NetEase's own;
    a test fake or a private mirror gives its own)."""
    netease_real_ip: str | None = None
    """Sent as ``X-Real-IP`` to NetEase when set (hosts outside mainland China need one)."""
    qqmusic_requests_per_second: int | None = Field(default=None, ge=1, le=1000)
    """Request rate of a new QQ Music pool credential (default the pool's)."""
    netease_requests_per_second: int | None = Field(default=None, ge=1, le=1000)
    """Request rate of a new NetEase pool credential (default the pool's)."""
    qr_login_ttl: int = Field(default=180, ge=30, le=900)
    """Seconds an admin QR login session lives (in Redis when configured)."""

    @field_validator("netease_weapi_key")
    @classmethod
    def _valid_weapi_key(cls, value: str | None) -> str | None:
        if not value:
            return None
        modulus, sep, exponent = value.strip().partition(":")
        try:
            if not sep or int(modulus, 16) <= 0 or int(exponent, 16) <= 0:
                raise ValueError
        except ValueError:
            raise ValueError("must be <modulus hex>:<exponent hex>") from None
        return value.strip()

    # -- end of upstreams --
    # -- worker (issue 17) --
    jobs_in_process: bool = True
    """Without ``KARPOV_REDIS_URL``, run the scheduled jobs inside ``karpov serve`` (with
    Redis, ``karpov worker`` runs them); false: nowhere in this process."""
    job_intervals: dict[str, float] = Field(default_factory=dict)
    """Per-job tick length in seconds, e.g. ``{"pool_health": 120}`` (JSON)."""
    job_max_tries: int = Field(default=3, ge=1, le=20)
    job_backoff: float = Field(default=2.0, ge=0, le=600)
    """Seconds before a job's first retry; doubled for each further one."""
    job_jitter: float = Field(default=5.0, ge=0, le=600)
    """The most seconds a job's start is delayed (spreads N processes' load)."""
    shutdown_grace: float = Field(default=15.0, ge=0, le=600)
    """Seconds ``serve`` and ``worker`` give running work after SIGTERM."""
    mail_max_attempts: int = Field(default=8, ge=1, le=50)
    """Delivery attempts of an outbox mail before it is given up (kept, with its error)."""
    mail_retry_backoff: float = Field(default=30.0, gt=0, le=86400)
    """Seconds before an outbox mail's second attempt; doubled for each further one."""
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    """``karpov worker`` serves its Prometheus metrics (jobs, pool, payments, upstreams) on
    ``0.0.0.0:<port>/metrics``; 0: not served."""

    _split = field_validator(
        "admin_tokens", "trusted_proxies", "email_allowed_domains", "email_blocked_domains",
        "register_ip_allowlist", mode="before",
    )(_split_csv)  # fmt: skip
    _split_music = field_validator("music_upstreams", mode="before")(_split_csv)  # music

    @field_validator("music_upstreams")
    @classmethod
    def _known_upstreams(cls, value: list[str]) -> list[str]:  # music (issue 13)
        if value == ["none"]:  # upstreams (issue 15): the explicit "local catalog only"
            return []
        unknown = set(value) - {"qqmusic", "netease"}
        if unknown:
            raise ValueError(f"unknown music upstream(s) {sorted(unknown)}: qqmusic, netease")
        return value

    @field_validator("trusted_proxies", "register_ip_allowlist")
    @classmethod
    def _valid_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    _urls = field_validator(
        "frontend_base_url", "oauth_linuxdo_authorize_url", "oauth_linuxdo_token_url",
        "oauth_linuxdo_userinfo_url", "oauth_linuxdo_redirect_url",
        "qqmusic_api_url", "netease_api_url",
        "qqmusic_ptlogin_url", "qqmusic_graph_url", "wechat_open_url", "wechat_long_poll_url",
        "qqmusic_stream_url", "qqmusic_image_url",  # upstreams (issue 15)
    )(_http_url)  # fmt: skip

    @field_validator("public_base_url")
    @classmethod
    def _valid_public_base_url(cls, value: str) -> str:
        if not _http_url(value):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("oauth_oidc_providers")
    @classmethod
    def _valid_provider_names(
        cls, value: dict[str, OidcProviderSettings]
    ) -> dict[str, OidcProviderSettings]:
        for name in value:
            if not OIDC_PROVIDER_NAME.match(name) or name in _RESERVED_PROVIDER_NAMES:
                raise ValueError(
                    f"{name!r} is not a usable provider name (a-z, 0-9, _ and -; not "
                    "linuxdo, providers or identities)"
                )
        return value

    @field_validator("master_key")
    @classmethod
    def _valid_master_key(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
            raise ValueError("must be 64 hexadecimal characters (32 bytes)")
        return value.lower()

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _valid_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("quota_redis_url")
    @classmethod
    def _valid_quota_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://", *CLUSTER_SCHEMES)):
            raise ValueError(
                "must start with redis://, rediss://, unix:// (one Redis) or "
                "redis+cluster://, rediss+cluster:// (a Redis Cluster)"
            )
        if value.startswith(CLUSTER_SCHEMES) and urlsplit(value).path not in ("", "/"):
            raise ValueError("a Redis Cluster has no database number: redis+cluster://host:port")
        return value

    @model_validator(mode="after")
    def _quota_redis_needs_redis(self) -> Settings:
        if self.quota_redis_url and not self.redis_url:
            raise ValueError(
                "KARPOV_QUOTA_REDIS_URL needs KARPOV_REDIS_URL: the quota gate's own Redis "
                "is used beside the main one (set KARPOV_REDIS_URL too, or unset both for "
                "the in-process gate)"
            )
        return self

    @property
    def quota_gate_url(self) -> str:
        """The quota gate's Redis: ``quota_redis_url``, else ``redis_url``."""
        url = self.quota_redis_url or self.redis_url
        assert url is not None, "no Redis configured"
        return url

    @property
    def quota_gate_cluster(self) -> bool:
        return bool(self.redis_url) and self.quota_gate_url.startswith(CLUSTER_SCHEMES)

    @field_validator(
        "session_ttl",
        "auth_cache_ttl",
        "api_key_cache_ttl",
        "usage_event_retention",
        mode="before",
    )
    @classmethod
    def _seconds_as_text(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        return value

    @field_validator("session_ttl", "usage_event_retention")
    @classmethod
    def _positive_ttl(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive (seconds, or an ISO 8601 duration)")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _mail_when_required(self) -> Settings:
        # The original silently turned the requirement off; production refuses instead.
        needs_mail = (
            self.email_verification is not VerificationMode.OFF
            or self.account_activation is ActivationMode.REQUIRED
        )
        if self.env == "prod" and needs_mail and not self.smtp_host:
            raise ValueError(
                "KARPOV_SMTP_HOST is required in prod when KARPOV_EMAIL_VERIFICATION or "
                "KARPOV_ACCOUNT_ACTIVATION needs e-mail"
            )
        return self

    @model_validator(mode="after")
    def _linuxdo_credentials_together(self) -> Settings:
        if bool(self.oauth_linuxdo_client_id) != bool(self.oauth_linuxdo_client_secret):
            raise ValueError(
                "KARPOV_OAUTH_LINUXDO_CLIENT_ID and KARPOV_OAUTH_LINUXDO_CLIENT_SECRET must be "
                "set together (both unset: Linux.do login is off)"
            )
        return self

    @property
    def linuxdo_enabled(self) -> bool:
        return bool(self.oauth_linuxdo_client_id and self.oauth_linuxdo_client_secret)

    @property
    def frontend_url(self) -> str:
        return (self.frontend_base_url or self.public_base_url).rstrip("/")

    def oauth_callback_url(self, provider: str) -> str:
        """Our default redirect URI for ``provider`` (register it at the provider)."""
        return f"{self.public_base_url.rstrip('/')}/v1/auth/oauth/{provider}/callback"

    @property
    def mail_enabled(self) -> bool:
        """SMTP configured, or dev (mail goes to the log)."""
        return bool(self.smtp_host) or self.env == "dev"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")

    def with_master_key(self) -> Settings:
        """These settings with the master key resolved: the setting, else ``var/master.key``
        (read, or created once, here)."""
        if self.master_key:
            return self
        key = load_or_create_master_key(MASTER_KEY_FILE)
        return self.model_copy(update={"master_key": key.hex()})

    def master_key_bytes(self) -> bytes:
        """The 32-byte master key: the setting, else ``var/master.key`` (created once,
        mode 0600, then reused)."""
        if self.master_key:
            return bytes.fromhex(self.master_key)
        return load_or_create_master_key(MASTER_KEY_FILE)


@functools.lru_cache(maxsize=4)
def read_trusted_documents(path: Path) -> dict[str, str]:
    """``KARPOV_GRAPHQL_TRUSTED_DOCUMENTS`` (issue 11), read and checked once."""
    from domain.documents.service import load_trusted_documents

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise ValueError(f"{path} is not valid JSON") from None
    try:
        return load_trusted_documents(data)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def load_or_create_master_key(path: Path) -> bytes:
    if path.exists():
        text = path.read_text().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ConfigError(f"KARPOV_MASTER_KEY: {path} does not hold 64 hex characters")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # O_EXCL: never overwrite a key another process created a moment ago.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_master_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; raise ``ConfigError`` naming the first bad setting."""
    if "oauth_oidc_providers" not in overrides:
        overrides["oauth_oidc_providers"] = oidc_providers_from_environment(os.environ)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a rule across settings: its message names them
            raise ConfigError(str(error["msg"]).removeprefix("Value error, ")) from None
        loc = [str(part).upper() for part in error["loc"]]
        name = "KARPOV_" + loc[0]
        if loc[0] == "OAUTH_OIDC_PROVIDERS" and len(loc) >= 3:  # KARPOV_OAUTH_<NAME>_<FIELD>
            name = f"KARPOV_OAUTH_{loc[1]}_{loc[2]}"
        raise ConfigError(f"{name}: {error['msg']}") from None
