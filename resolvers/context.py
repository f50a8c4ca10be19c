"""The typed per-request context shared by GraphQL resolvers and /v1 handlers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.accounts.activation import Activation
from domain.accounts.admin import AdminUserService
from domain.accounts.email_codes import EmailCodes
from domain.accounts.password_reset import PasswordReset
from domain.accounts.service import AccountService
from domain.oauth.service import OAuthService
from domain.principal import Principal
from domain.runtime import RuntimeConfig
from domain.twofactor.service import TwoFactorService

SESSION_COOKIE = "sid"


class CookieJar(Protocol):
    """Where resolvers put cookies; each edge applies them to its own response."""

    def set(
        self, name: str, value: str, *, max_age: int, http_only: bool = True, path: str = "/"
    ) -> None: ...

    def delete(self, name: str, *, path: str = "/") -> None: ...


@dataclass(frozen=True, slots=True)
class Services:
    """Every domain service, built once by the composition root."""

    accounts: AccountService
    admin_users: AdminUserService
    twofactor: TwoFactorService
    email_codes: EmailCodes
    activation: Activation
    password_reset: PasswordReset
    runtime: RuntimeConfig
    oauth: OAuthService


@dataclass(slots=True)
class Context:
    services: Services
    principal: Principal
    request_id: str
    cookies: CookieJar
    session_token: str | None = None
    """The bearer session token the request carried, if any (for logout)."""
