"""The security audit log: an append-only record of who did what to which account.

Details carry only non-secret facts (never a password, token, code or secret): the
``AuditLog`` service drops any detail whose key looks secret, as a second line of defence.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.accounts.model import Page
from domain.clock import Clock
from domain.ids import new_id
from domain.principal import Principal

log = logging.getLogger("karpov.audit")


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


class AuditStore(Protocol):
    async def append(self, event: AuditEvent) -> None: ...

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        """Newest first (``created_at`` descending, then id)."""


_SECRET_HINTS = ("password", "token", "secret", "code", "sid", "key", "hash", "otp")


class AuditLog:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self,
        action: AuditAction,
        principal: Principal | None = None,
        *,
        subject_user_id: str | None = None,
        client_ip: str | None = None,
        user_agent: str | None = None,
        **details: str,
    ) -> None:
        """Append an event. Never raises: losing an audit line must not fail a login, so
        a store failure is logged (without the details) instead."""
        safe = {
            k: str(v) for k, v in details.items() if not any(h in k.lower() for h in _SECRET_HINTS)
        }
        event = AuditEvent(
            id=new_id(),
            action=action,
            created_at=self._clock.now(),
            actor=principal.actor if principal and principal.is_authenticated else None,
            subject_user_id=subject_user_id,
            client_ip=client_ip or (principal.client_ip if principal else None),
            user_agent=(user_agent or (principal.user_agent if principal else None) or "")[:512]
            or None,
            details=safe,
        )
        try:
            await self._store.append(event)
        except Exception:
            log.exception("audit event could not be stored", extra={"action": action.value})

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        return await self._store.list(flt, limit=limit, offset=offset)


class DiscardingAuditStore:
    """Keeps nothing: for services built without an audit store (unit tests)."""

    async def append(self, event: AuditEvent) -> None:
        return None

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        return Page(items=[], total=0, limit=limit, offset=offset)
