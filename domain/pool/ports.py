"""What the pool needs from each upstream provider: the credential lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from domain.leases import CredentialSecret


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
