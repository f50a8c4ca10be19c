"""What the music and pool contexts share: a leased upstream credential handed to a
provider client, and how the call made with it ended.

Both contexts use these (music calls providers with a leased credential and reports the
outcome; the pool leases credentials and applies the outcome), so they live in the
kernel: neither context imports the other for them. ``domain.music.model`` and
``domain.pool.model`` re-export them under their original names.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CredentialSecret:
    """What a provider is handed for a call that needs an upstream account: the pool
    credential's id (for logs, never its payload) and its decrypted payload."""

    credential_id: str
    payload: bytes = field(repr=False)


class LeaseResult(enum.StrEnum):
    """How a call made with a leased credential ended (the release taxonomy).

    ``not_found`` and ``no_rights`` are the content's fault, not the account's: they cost
    the credential nothing (the original penalised them)."""

    OK = "ok"
    RATE_LIMITED = "rate_limited"
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    NO_RIGHTS = "no_rights"
    UPSTREAM_ERROR = "upstream_error"
    NETWORK_ERROR = "network_error"


@dataclass(frozen=True, slots=True)
class Lease:
    """One held slot of a pool credential: ``lease_id`` releases it, ``secret`` is what the
    provider client is handed. A lease not released within its TTL frees its slot."""

    lease_id: str
    secret: CredentialSecret


class CredentialLeaser(Protocol):
    """How the music service borrows upstream accounts (implemented by the pool).

    ``acquire`` chooses among the provider's usable credentials that serve ``capability``
    (active, not cooling down, a free concurrency slot and rate budget), skipping
    ``exclude`` (credentials already tried for this request); ``None`` when there is none.
    ``release`` applies the call's outcome (the taxonomy of ``LeaseResult``) and frees the
    slot; releasing twice, or after the TTL, is harmless."""

    async def acquire(
        self, provider: str, capability: str, *, exclude: Collection[str] = ()
    ) -> Lease | None: ...

    async def release(self, lease: Lease, result: LeaseResult) -> None: ...
