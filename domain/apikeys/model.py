"""API keys: the entity and its status."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime


class ApiKeyStatus(enum.StrEnum):
    """The original's precedence: revoked > disabled > expired > active."""

    ACTIVE = "active"
    DISABLED = "disabled"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    user_id: str
    key_hash: bytes
    """HMAC-SHA256 of the whole key under a key derived from the master key."""
    prefix: str
    """The first characters of the key (``mk_`` + 5), shown to the owner."""
    last4: str
    """The last four characters, shown to the owner to tell keys apart."""
    name: str
    description: str
    scopes: tuple[str, ...]
    """Normalised grantable scopes; empty means every scope (the original's rule)."""
    ip_allowlist: tuple[str, ...]
    """Normalised IPs and CIDRs; empty means any address."""
    rate_limit_rpm: int
    """Requests per minute for this key; 0 = no per-key limit."""
    rate_limit_daily: int
    """Requests per UTC day for this key; 0 = no per-key limit."""
    enabled: bool
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    total_requests: int = 0
    previous_hash: bytes | None = None
    """After a rotation: the old key's hash, accepted until ``previous_expires_at``."""
    previous_expires_at: datetime | None = None

    def status(self, now: datetime) -> ApiKeyStatus:
        if self.revoked_at is not None:
            return ApiKeyStatus.REVOKED
        if not self.enabled:
            return ApiKeyStatus.DISABLED
        if self.expires_at is not None and self.expires_at <= now:
            return ApiKeyStatus.EXPIRED
        return ApiKeyStatus.ACTIVE

    def previous_key_expires_at(self, now: datetime) -> datetime | None:
        """Until when the previous secret still works: the end of a rotation's grace
        period, while it runs; ``None`` otherwise."""
        grace = self.previous_expires_at
        return grace if grace is not None and grace > now else None

    def with_changes(self, **changes: object) -> ApiKey:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """Requests a process has seen for one key since its last flush."""

    requests: int
    last_used_at: datetime
