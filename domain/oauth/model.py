"""Entities and value objects of OAuth login (reference karpov-gateway.md §3.5)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain.accounts.model import IssuedSession, User


class OAuthIntent(enum.StrEnum):
    LOGIN = "login"
    """Sign in (or create an account) with the provider."""
    BIND = "bind"
    """Link the provider account to the signed-in user."""


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    display_name: str


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One authorisation round trip: what the provider needs to build the authorize URL and,
    on the way back, to redeem the code (PKCE verifier, OIDC nonce)."""

    state: str
    code_verifier: str
    nonce: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class ProviderTokens:
    """What the token endpoint granted. Kept only in memory and, sealed, at rest."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    id_claims: dict[str, object] = field(default_factory=dict)
    """The validated ID token's claims (OpenID Connect), empty for plain OAuth 2.0."""


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """A provider account, mapped to the fields Karpov keeps (never the raw answer, which
    may carry things like a Discourse ``api_key``)."""

    subject: str
    login: str | None = None
    name: str | None = None
    email: str | None = None
    email_verified: bool = False
    """True only when the provider *asserts* the address is verified (OIDC
    ``email_verified``). Linux.do asserts nothing, so this is always False for it."""
    avatar_url: str | None = None
    trust_level: int | None = None
    active: bool | None = None
    silenced: bool | None = None


@dataclass(frozen=True, slots=True)
class OAuthIdentity:
    """A provider account linked to a user. Tokens are key-ring blobs, never plaintext."""

    id: str
    user_id: str
    provider: str
    subject: str
    created_at: datetime
    updated_at: datetime
    login: str | None = None
    email: str | None = None
    name: str | None = None
    avatar_url: str | None = None
    trust_level: int | None = None
    scopes: tuple[str, ...] = ()
    access_token_enc: bytes | None = field(default=None, repr=False)
    refresh_token_enc: bytes | None = field(default=None, repr=False)
    token_expires_at: datetime | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OAuthState:
    """A started authorisation, stored server-side under the SHA-256 of its ``state``.

    It is bound to the browser that started it (``binding_hash``: the SHA-256 of the random
    value in that browser's HttpOnly cookie) and to the intent, used once, and dies after
    15 minutes."""

    state_hash: str
    provider: str
    intent: OAuthIntent
    binding_hash: str
    nonce: str
    created_at: datetime
    expires_at: datetime
    next_url: str | None = None
    user_id: str | None = None
    """Who started a ``bind`` flow (the same user must finish it)."""


@dataclass(frozen=True, slots=True)
class StartedFlow:
    """``start``'s answer: where to send the browser, and the cookie that binds the flow
    to it (name, value, lifetime in seconds)."""

    authorization_url: str
    cookie_name: str
    cookie_value: str = field(repr=False)
    cookie_max_age: int


class CallbackKind(enum.StrEnum):
    SIGNED_IN = "signed_in"
    TOTP_REQUIRED = "totp_required"
    BOUND = "bound"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    """Where the browser goes after the provider sent it back, and the session to set
    (only for ``SIGNED_IN``)."""

    kind: CallbackKind
    location: str
    cookie_name: str | None = None
    """The flow's cookie, to clear (every callback clears it)."""
    user: User | None = None
    issued: IssuedSession | None = None
    error_code: str | None = None
