"""What OAuth login needs from the outside world: providers (integrations/oauth) and
stores (persistence). Every store port has one contract suite run against every
implementation."""

from __future__ import annotations

from typing import Protocol

from domain import uow
from domain.accounts.ports import UserRepository
from domain.keyring_service import StoredSecret
from domain.oauth.model import (
    AuthorizationRequest,
    OAuthIdentity,
    OAuthState,
    ProviderProfile,
    ProviderTokens,
)


class OAuthProvider(Protocol):
    """One configured identity provider (Linux.do, or any OpenID Connect provider).

    Adapters raise the ``OAuthFlowError`` subclasses of ``domain.oauth.errors`` for a
    failed exchange, ID token or profile fetch, and ``OAuthProviderUnavailable`` when the
    authorisation URL cannot be built (e.g. discovery is down)."""

    @property
    def name(self) -> str:
        """Stable lower-case key: the ``{provider}`` of the routes and of stored rows."""

    @property
    def display_name(self) -> str: ...

    @property
    def redirect_uri(self) -> str:
        """Our callback URL, registered at the provider (must match exactly)."""

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        """The provider's authorize URL with every parameter (client id, scope, state,
        PKCE S256 challenge, nonce where the protocol has one)."""

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> ProviderTokens:
        """Redeem the code with the PKCE verifier; OpenID providers also validate the ID
        token here (signature, issuer, audience, expiry, nonce)."""

    async def fetch_profile(self, tokens: ProviderTokens) -> ProviderProfile: ...

    def validate(self, profile: ProviderProfile) -> None:
        """Raise ``ProfileRejected`` when the account may not sign in (checked on every
        login, not only the first: e.g. Linux.do trust level and ``active``)."""


class OAuthStateStore(Protocol):
    """Started flows, shared by every API process (SQL or Redis; memory for tests)."""

    async def add(self, state: OAuthState) -> None:
        """Store a new flow. Stores may drop flows that expired before its
        ``created_at``."""

    async def take(self, state_hash: str) -> OAuthState | None:
        """Atomically remove and return the flow: of several concurrent callers exactly
        one gets it. It may be expired (the caller checks ``expires_at``)."""


class OAuthIdentityRepository(Protocol):
    """Part of the unit of work (``uow.identities``), so that creating a user and linking
    its first identity commit together."""

    async def get(self, provider: str, subject: str) -> OAuthIdentity | None: ...

    async def list_for_user(self, user_id: str) -> list[OAuthIdentity]:
        """Oldest first (``created_at``, then provider)."""

    async def add(self, identity: OAuthIdentity) -> None:
        """Insert. Raises ``OAuthAlreadyBound`` when (provider, subject) is linked already
        or the user already has an identity of this provider (the store decides races),
        ``UserNotFound`` for an unknown user."""

    async def update(self, identity: OAuthIdentity) -> None:
        """Replace the profile fields, tokens and times of an existing identity (matched
        by ``id``); raises ``OAuthIdentityNotFound`` when it is gone."""

    async def delete(self, user_id: str, provider: str) -> bool:
        """Remove the user's identity of this provider; ``False`` when there was none."""

    async def list_encrypted(self) -> list[StoredSecret]:
        """Every token blob (kinds ``oauth-access`` and ``oauth-refresh``, owner = the
        identity id), for key rotation."""

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        """Compare-and-set one blob (key rotation)."""


class UnitOfWork(uow.UnitOfWork, Protocol):
    """The repositories OAuth login changes together: a new user and its first identity."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def identities(self) -> OAuthIdentityRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]
