"""GraphQL view of the public runtime configuration."""

from __future__ import annotations

import strawberry

from domain import runtime


@strawberry.type
class EmailVerificationConfig:
    enabled: bool
    required: bool
    cooldown_seconds: int
    code_ttl_seconds: int
    hourly_limit_per_email: int
    allowed_domains: list[str]
    blocked_domains: list[str]
    app_name: str


@strawberry.type
class AccountActivationConfig:
    enabled: bool
    required: bool
    ttl_seconds: int


@strawberry.type
class RuntimeConfig:
    timezone: str
    email_verification: EmailVerificationConfig
    account_activation: AccountActivationConfig

    @classmethod
    def from_domain(cls, cfg: runtime.RuntimeConfig) -> RuntimeConfig:
        ev, aa = cfg.email_verification, cfg.account_activation
        return cls(
            timezone=cfg.timezone,
            email_verification=EmailVerificationConfig(
                enabled=ev.enabled,
                required=ev.required,
                cooldown_seconds=ev.cooldown_seconds,
                code_ttl_seconds=ev.code_ttl_seconds,
                hourly_limit_per_email=ev.hourly_limit_per_email,
                allowed_domains=list(ev.allowed_domains),
                blocked_domains=list(ev.blocked_domains),
                app_name=ev.app_name,
            ),
            account_activation=AccountActivationConfig(
                enabled=aa.enabled, required=aa.required, ttl_seconds=aa.ttl_seconds
            ),
        )
