"""What callers ask of API-key management. Both edges build these (GraphQL inputs with
``to_command()``, /v1 handlers from the request body) and hand them to the same
resolver, which passes them on to ``ApiKeyService``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict


@dataclass(frozen=True, slots=True)
class CreateApiKey:
    name: str
    description: str = ""
    scopes: Sequence[str] = ()
    ip_allowlist: Sequence[str] = ()
    rate_limit_rpm: int = 0
    rate_limit_daily: int = 0
    expires_at: datetime | None = None


class KeyChanges(TypedDict, total=False):
    """A partial update: only the fields given are present. ``None`` clears a field (an
    empty name, description or list, no limit, no expiry); the service validates what
    the cleared value means (an empty name is refused)."""

    name: str | None
    description: str | None
    scopes: Sequence[str] | None
    ip_allowlist: Sequence[str] | None
    rate_limit_rpm: int | None
    rate_limit_daily: int | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class UpdateApiKey:
    key_id: str
    changes: KeyChanges


@dataclass(frozen=True, slots=True)
class SetApiKeyEnabled:
    key_id: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class RotateApiKey:
    key_id: str
    grace: timedelta
    """How long the old secret keeps working (0 ends it at once; at most 7 days)."""
