"""Entities and value objects of the accounts context."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.principal import Role as Role


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    PENDING_EMAIL = "pending_email"
    LOCKED = "locked"
    DISABLED = "disabled"
    BANNED = "banned"

    @property
    def blocks_sign_in(self) -> bool:
        return self in (UserStatus.LOCKED, UserStatus.DISABLED, UserStatus.BANNED)


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    password_hash: str | None
    status: UserStatus
    role: Role
    created_at: datetime
    updated_at: datetime
    plan_id: str = "free"
    totp_enabled: bool = False
    last_login_at: datetime | None = None
    register_ip: str | None = None
    ip_claim: str | None = None
    """Set only under the one-account-per-IP rule; unique across users."""

    def with_changes(self, **changes: object) -> User:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser or client. Only the SHA-256 of the bearer token is kept."""

    id: str
    user_id: str
    token_hash: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A session together with its bearer token, returned once at sign-in."""

    session: Session
    token: str


@dataclass(frozen=True, slots=True)
class UserFilter:
    email_contains: str | None = None
    role: Role | None = None
    status: UserStatus | None = None


@dataclass(frozen=True, slots=True)
class RegisterResult:
    user: User
    email_verification_required: bool = False
    activation_email_sent: bool = False


@dataclass(frozen=True, slots=True)
class LoginResult:
    """Either a session, or (later, with TOTP) a challenge to complete."""

    issued: IssuedSession | None
    user: User
    totp_required: bool = False
    challenge_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class TokenPurpose(enum.StrEnum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    token_hash: str
    purpose: TokenPurpose
    user_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredEmailCode:
    email: str
    code_hash: str
    expires_at: datetime
    attempts: int = 0


class CodeCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"
    """Too many wrong guesses: the code is gone."""
    MISSING = "missing"
    """No live code (never sent, expired, used)."""
