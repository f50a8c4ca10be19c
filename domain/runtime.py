"""Public, non-secret configuration that clients may read (``/v1/config/runtime``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class EmailVerificationConfig:
    enabled: bool = False
    required: bool = False
    cooldown_seconds: int = 60
    code_ttl_seconds: int = 600
    hourly_limit_per_email: int = 5
    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()
    app_name: str = "Karpov"


@dataclass(frozen=True, slots=True)
class AccountActivationConfig:
    enabled: bool = False
    required: bool = False
    ttl_seconds: int = 86400


@dataclass(frozen=True, slots=True)
class RuntimeConfig:
    timezone: str = "UTC"
    email_verification: EmailVerificationConfig = field(default_factory=EmailVerificationConfig)
    account_activation: AccountActivationConfig = field(default_factory=AccountActivationConfig)
