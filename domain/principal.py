"""Who is calling. Resolved once per request by the edge; authorisation lives in the
domain services, which receive the principal, so GraphQL and /v1 apply the same rules."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from domain.accounts.model import Role


class AuthMethod(enum.StrEnum):
    ANONYMOUS = "anonymous"
    SESSION = "session"
    ADMIN_TOKEN = "admin_token"
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Principal:
    method: AuthMethod
    user_id: str | None = None
    role: Role = Role.USER
    session_id: str | None = None
    api_key_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    client_ip: str | None = None
    user_agent: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.method is not AuthMethod.ANONYMOUS

    @property
    def is_admin(self) -> bool:
        return self.is_authenticated and self.role.is_admin

    @property
    def is_superadmin(self) -> bool:
        return self.is_authenticated and self.role is Role.SUPERADMIN

    @property
    def actor(self) -> str:
        """A short description for logs and audit: never contains a secret."""
        if self.method is AuthMethod.ADMIN_TOKEN:
            return "admin-token"
        return f"user:{self.user_id}" if self.user_id else "anonymous"


def anonymous(client_ip: str | None = None, user_agent: str | None = None) -> Principal:
    return Principal(AuthMethod.ANONYMOUS, client_ip=client_ip, user_agent=user_agent)
