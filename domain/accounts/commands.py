"""What callers ask of the accounts context, as both edges hand it over: a GraphQL input
converts itself (``to_command()``), a /v1 handler builds the same command from the body.
(An operation with a single value, such as a token or an e-mail, takes the plain value.)"""

from __future__ import annotations

from dataclasses import dataclass

from domain.accounts.model import Role, UserStatus


@dataclass(frozen=True, slots=True)
class RegisterAccount:
    email: str
    password: str
    verification_code: str | None = None


@dataclass(frozen=True, slots=True)
class SignIn:
    email: str
    password: str
    totp_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChangePassword:
    old_password: str
    new_password: str


@dataclass(frozen=True, slots=True)
class SendEmailCode:
    email: str
    purpose: str | None = "register"


@dataclass(frozen=True, slots=True)
class ResetPassword:
    token: str
    new_password: str


@dataclass(frozen=True, slots=True)
class UpdateUser:
    """An administrator's change of a user; ``None`` leaves the field as it is."""

    user_id: str
    status: UserStatus | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class SetUserPassword:
    user_id: str
    new_password: str
