"""Who is calling. Resolved once per request by the edge; authorisation lives in the
domain services, which receive the principal, so GraphQL and /v1 apply the same rules.

``Role`` lives here (and is re-exported by ``domain.accounts.model``): every context
authorises by it, so it belongs to the kernel, not to accounts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    @property
    def is_admin(self) -> bool:
        return self.rank >= _ROLE_RANK[Role.ADMIN]


_ROLE_RANK = {Role.USER: 0, Role.ADMIN: 1, Role.SUPERADMIN: 2}


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
