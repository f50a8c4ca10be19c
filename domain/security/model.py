"""Value objects of the security context: audit events and throttling rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidInput


class AuditAction(enum.StrEnum):
    REGISTER = "register"
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password.changed"
    PASSWORD_RESET_REQUESTED = "password.reset_requested"
    PASSWORD_RESET = "password.reset"
    EMAIL_VERIFIED = "email.verified"
    SESSION_REVOKED = "session.revoked"
    TOTP_ENABLED = "totp.enabled"
    TOTP_DISABLED = "totp.disabled"
    TOTP_RECOVERY_REGENERATED = "totp.recovery_regenerated"
    TOTP_FAILED = "totp.failed"
    RECOVERY_CODE_USED = "totp.recovery_code_used"
    ADMIN_USER_UPDATED = "admin.user_updated"
    ADMIN_PASSWORD_SET = "admin.password_set"
    ADMIN_USER_UNLOCKED = "admin.user_unlocked"
    CODE_GUESS_BLOCKED = "code.guess_blocked"
    API_KEY_CREATED = "api_key.created"
    API_KEY_UPDATED = "api_key.updated"
    API_KEY_ROTATED = "api_key.rotated"
    API_KEY_REVOKED = "api_key.revoked"
    PASSWORD_SET = "password.set"
    OAUTH_LOGIN = "oauth.login"
    OAUTH_LOGIN_REFUSED = "oauth.login_refused"
    OAUTH_LINKED = "oauth.linked"
    OAUTH_UNLINKED = "oauth.unlinked"
    # -- billing (issue 14): every money movement or catalog change an admin makes --
    BILLING_BALANCE_ADJUSTED = "billing.balance_adjusted"
    BILLING_PLAN_SAVED = "billing.plan_saved"
    BILLING_PLAN_DELETED = "billing.plan_deleted"
    BILLING_PLAN_GRANTED = "billing.plan_granted"
    BILLING_CURRENCY_UPDATED = "billing.currency_updated"
    BILLING_ORDER_REFUNDED = "billing.order_refunded"
    # -- credential pool (issue 13) --
    POOL_CREDENTIAL_ADDED = "pool.credential_added"
    POOL_CREDENTIAL_REMOVED = "pool.credential_removed"
    POOL_CREDENTIAL_STATUS_SET = "pool.credential_status_set"
    POOL_CREDENTIAL_REFRESHED = "pool.credential_refreshed"
    POOL_CREDENTIAL_TESTED = "pool.credential_tested"

    @classmethod
    def parse(cls, text: str, *, field: str = "action") -> AuditAction:
        try:
            return cls(text)
        except ValueError:
            raise InvalidInput("action is not a known audit action", field=field) from None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    action: AuditAction
    created_at: datetime
    actor: str | None = None
    """``user:<id>``, ``admin-token`` or ``None`` (anonymous)."""
    subject_user_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: AuditAction | None = None
    subject_user_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class BackoffRule:
    """``free`` attempts without waiting; then each further attempt must wait
    ``base_seconds * 2**(n - free)`` seconds after the previous one (n = attempts so far),
    capped at ``max_seconds``. Counts are forgotten ``reset_after`` seconds after the last
    attempt (automatic unlock)."""

    key: str
    free: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 900.0
    reset_after: int = 24 * 3600

    def wait_after(self, attempts: int) -> float:
        if attempts < self.free:
            return 0.0
        return float(min(self.max_seconds, self.base_seconds * 2 ** (attempts - self.free)))


@dataclass(frozen=True, slots=True)
class WindowRule:
    """At most ``limit`` hits per ``window_seconds`` (window starts at the first hit)."""

    key: str
    limit: int
    window_seconds: int
