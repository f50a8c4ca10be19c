"""The upstream credential pool: accounts Karpov calls upstream providers with.

A credential's payload (cookies, tokens) is a secret: it is stored sealed by the key ring
and only ever handed, decrypted, to the provider client making a call. Nothing here holds
a payload; see ``domain.music.model.CredentialSecret`` for the one object that does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.leases import LeaseResult as LeaseResult


class CredentialStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    BANNED = "banned"
    EXPIRED = "expired"
    REFRESHING = "refreshing"


@dataclass(frozen=True, slots=True)
class Credential:
    id: str
    provider: str
    label: str
    capabilities: tuple[str, ...]
    """Empty means every capability."""
    status: CredentialStatus
    health_score: float
    fail_count: int
    created_at: datetime
    cooldown_until: datetime | None = None
    last_used_at: datetime | None = None
    last_failed_at: datetime | None = None
    expires_at: datetime | None = None
    max_concurrency: int = 4
