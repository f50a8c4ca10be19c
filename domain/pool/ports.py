"""Every port of the credential pool: its repository in the unit of work, the lease
registry and refresh lock (across processes with Redis), and what the pool needs from
each upstream provider (the credential lifecycle)."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain import uow
from domain.keyring_service import StoredSecret
from domain.leases import CredentialSecret
from domain.paging import Page
from domain.pool.model import Credential, CredentialFilter


@dataclass(frozen=True, slots=True)
class RefreshedPayload:
    payload: bytes = field(repr=False)
    expires_at: datetime | None


class CredentialLifecycle(Protocol):
    """One upstream's rules for its accounts (implemented by each provider client).

    ``check`` and ``refresh`` raise ``domain.music.errors.ProviderFailure`` subclasses
    (``UpstreamAuthFailed`` for a dead login, ``UpstreamUnreachable`` …) so the pool can
    apply the same release taxonomy as for music calls."""

    provider: str

    def validate_payload(self, payload: bytes) -> datetime | None:
        """Parse an admin-supplied payload; return its expiry when it states one. Raises
        ``domain.music.errors.InvalidCredentialPayload`` when it is not usable."""

    async def check(self, secret: CredentialSecret) -> None:
        """A health check with a call that needs the credential (a dead login fails)."""

    async def refresh(self, secret: CredentialSecret) -> RefreshedPayload:
        """Renew the login (new cookies/keys), or raise ``UpstreamAuthFailed``."""


@dataclass(frozen=True, slots=True)
class SealedCredential:
    """A credential with its payload as stored: a key-ring blob (associated data
    ``pool:<id>``), never plaintext."""

    credential: Credential
    payload_enc: bytes = field(repr=False)


class CredentialRepository(Protocol):
    """``uow.pool_credentials``: the pool's credentials, in the unit of work."""

    async def add(self, credential: Credential, payload_enc: bytes) -> None: ...

    async def get(self, credential_id: str) -> Credential | None: ...

    async def get_for_update(self, credential_id: str) -> Credential | None:
        """The credential, locked until the unit of work ends (releases and admin changes
        of one credential are serialised, so no outcome is lost)."""

    async def sealed(self, credential_id: str) -> SealedCredential | None: ...

    async def leasable(self, provider: str) -> list[SealedCredential]:
        """The provider's credentials whose stored status is ``active`` (cooldown and
        capability are the service's to check), with their sealed payloads."""

    async def update(self, credential: Credential) -> None:
        """Store every field but the payload and ``created_at``."""

    async def replace_payload(
        self, credential_id: str, payload_enc: bytes, expires_at: datetime | None
    ) -> None: ...

    async def delete(self, credential_id: str) -> bool: ...

    async def page(self, flt: CredentialFilter, *, limit: int, offset: int) -> Page[Credential]:
        """Ordered by id (the original's order)."""

    async def of_provider(self, provider: str) -> list[Credential]: ...

    async def refresh_queue(self, *, limit: int) -> list[Credential]:
        """Credentials with ``refresh_queued_at`` set, oldest first."""

    async def list_encrypted(self) -> list[StoredSecret]: ...

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool: ...


class UnitOfWork(uow.UnitOfWork, Protocol):
    @property
    def pool_credentials(self) -> CredentialRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]


class LeaseVerdict(enum.StrEnum):
    GRANTED = "granted"
    BUSY = "busy"
    """Every concurrency slot of the credential is held."""
    RATE = "rate"
    """The credential's request budget for this second is spent."""
    REFRESHING = "refreshing"
    """A refresh holds the credential."""


@dataclass(frozen=True, slots=True)
class SlotRequest:
    credential_id: str
    lease_id: str
    max_concurrency: int
    requests_per_second: int
    ttl_seconds: float
    now: datetime
    """The pool's clock: slots and budgets are measured in its time, so tests drive them."""


class LeaseRegistry(Protocol):
    """Held slots of credentials, exclusive up to each one's ``max_concurrency`` and
    within its request rate, across every process sharing the registry. A slot not given
    back within its TTL is free again."""

    async def take(self, request: SlotRequest) -> LeaseVerdict:
        """Atomically: refuse a credential under refresh, drop expired slots, check the
        concurrency and the rate budget, then hold a slot and spend one request."""

    async def give_back(self, credential_id: str, lease_id: str, now: datetime) -> bool:
        """Free the slot; ``False`` when it was not held (released twice, or expired)."""

    async def held(self, credential_id: str, now: datetime) -> int:
        """Slots of the credential held now."""


class RefreshLock(Protocol):
    """One refresh of a credential at a time, across processes; the lock expires by
    itself (``ttl_seconds``), so a process that dies mid-refresh frees it."""

    async def hold(
        self, credential_id: str, token: str, *, ttl_seconds: float, now: datetime
    ) -> bool: ...

    async def let_go(self, credential_id: str, token: str) -> None:
        """Free the lock if ``token`` still holds it."""

    async def refreshing(self, credential_ids: Collection[str], now: datetime) -> set[str]:
        """Those of ``credential_ids`` whose lock is held now."""


# -- upstreams (issue 15): admin QR logins --------------------------------------------------


@dataclass(frozen=True, slots=True)
class QrLoginStarted:
    state: str = field(repr=False)
    """The flow's own session state (opaque text; it can finish the login: a secret)."""
    image: str
    """The QR code as a ``data:`` URL."""
    expires_in: int


@dataclass(frozen=True, slots=True)
class QrLoginPolled:
    event: str
    """``init``, ``waiting``, ``scanned``, ``done``, ``timeout``, ``refuse`` or ``other``."""
    state: str = field(repr=False)
    payload: bytes | None = field(default=None, repr=False)
    """On ``done``: the new login, as the pool stores it."""

    @property
    def terminal(self) -> bool:
        return self.event in ("done", "timeout", "refuse")


class QrLoginFlow(Protocol):
    """One upstream's QR login (QQ Music by QQ or WeChat scan). ``start`` and ``poll``
    raise ``domain.music.errors.ProviderFailure`` subclasses when the upstream fails."""

    provider: str
    """The pool provider a finished login is added to."""
    platforms: tuple[str, ...]

    async def start(self, platform: str) -> QrLoginStarted: ...

    async def poll(self, platform: str, state: str) -> QrLoginPolled:
        """One status check; raises ``ValueError`` for a state it did not write."""


class QrSessionStore(Protocol):
    """Admin QR login sessions between polls (Redis across processes; in-process
    without); each expires by itself."""

    async def put(self, session_id: str, record: bytes, *, ttl_seconds: float) -> None: ...

    async def get(self, session_id: str) -> bytes | None: ...

    async def take(self, session_id: str) -> bytes | None:
        """Remove and return the record (``None`` when another caller took it first)."""


# -- upstreams (issue 15): NetEase logins for admins ----------------------------------------


class NeteaseLoginOperation(enum.StrEnum):
    """The original's ``/v1/netease/auth/*`` operations."""

    LOGIN_CELLPHONE = "login_cellphone"
    LOGIN_EMAIL = "login_email"
    QR_KEY = "qr_key"
    QR_CREATE = "qr_create"
    QR_CHECK = "qr_check"
    REFRESH = "refresh"
    STATUS = "status"
    REGISTER_ANONYMOUS = "register_anonymous"
    CAPTCHA_SENT = "captcha_sent"
    CAPTCHA_VERIFY = "captcha_verify"


@dataclass(frozen=True, slots=True)
class LoginReply:
    body: dict[str, object] = field(repr=False)
    """The upstream's answer as the original passed it on (it can carry a login cookie:
    never logged)."""
    payload: bytes | None = field(default=None, repr=False)
    """A pool payload, when the answer logged a real account in."""


class NeteaseLoginPort(Protocol):
    """NetEase's login calls. ``fields`` are the original's request fields (``phone``,
    ``password``, ``md5Password``, ``captcha``, ``countryCode``, ``email``, ``key``,
    ``qrimg``, ``cookie``, ``ctcode``). Raises ``ValueError("<field>: <why>")`` for bad
    input, ``ProviderFailure`` subclasses when NetEase cannot be reached or answers
    nonsense."""

    provider: str

    async def call(
        self, operation: NeteaseLoginOperation, fields: dict[str, str | None]
    ) -> LoginReply: ...
