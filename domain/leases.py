"""What the music and pool contexts share: a leased upstream credential handed to a
provider client, and how the call made with it ended.

Both contexts use these (music calls providers with a leased credential and reports the
outcome; the pool leases credentials and applies the outcome), so they live in the
kernel: neither context imports the other for them. ``domain.music.model`` and
``domain.pool.model`` re-export them under their original names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


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
