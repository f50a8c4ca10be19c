"""The upstream credential pool: accounts Karpov calls upstream providers with.

A credential's payload (cookies, tokens) is a secret: it is stored sealed by the key ring
and only ever handed, decrypted, to the provider client making a call. Nothing here holds
a payload; see ``domain.leases.CredentialSecret`` for the one object that does.

``refreshing`` is never stored: a credential shows it while a refresh holds its refresh
lock (which has a TTL), so a process that dies mid-refresh cannot leave it stuck.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.leases import LeaseResult as LeaseResult

DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_REQUESTS_PER_SECOND = 3


class CredentialStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"
    BANNED = "banned"
    EXPIRED = "expired"
    REFRESHING = "refreshing"


SETTABLE_STATUSES = (CredentialStatus.ACTIVE, CredentialStatus.DISABLED)
"""What an admin may set by hand (the original's rule: banned is the pool's verdict)."""


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
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    requests_per_second: int = DEFAULT_REQUESTS_PER_SECOND
    refresh_queued_at: datetime | None = None
    """Set when a call found the login dead (``auth_failed``): the refresh queue."""
    check_failures: int = 0
    """worker (issue 17): scheduled health checks failed in a row; the third disables it."""

    def serves(self, capability: str) -> bool:
        return not self.capabilities or capability in self.capabilities

    def cooling_down(self, now: datetime) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > now

    @property
    def weight(self) -> float:
        """The original's weighted choice: healthy, rarely failing credentials first."""
        return max(self.health_score, 0.01) / (self.fail_count + 1)


@dataclass(frozen=True, slots=True)
class CredentialFilter:
    provider: str | None = None
    status: CredentialStatus | None = None


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """Every count of one provider's credentials (the original filled only three)."""

    provider: str
    total: int
    active: int
    disabled: int
    banned: int
    expired: int
    refreshing: int
    in_cooldown: int
    """Active credentials that are cooling down (rate limited or failing)."""
    avg_health_score: float
    """Over the active credentials (0 when there are none), as the original."""


@dataclass(frozen=True, slots=True)
class CredentialTestResult:
    success: bool
    capability: str
    latency_ms: int
    error: str | None = None
