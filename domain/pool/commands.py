"""What admins ask of the credential pool. Both edges build these (GraphQL inputs with
``to_command()``, /v1 handlers from the body); the service validates them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AddCredential:
    provider: str
    label: str
    payload_base64: str = field(repr=False)
    """The payload (cookies, tokens) as the admin pasted it: standard base64."""
    capabilities: Sequence[str] = ()
    """Empty: every capability."""
    max_concurrency: int | None = None
    requests_per_second: int | None = None


@dataclass(frozen=True, slots=True)
class SetCredentialStatus:
    credential_id: str
    status: str


@dataclass(frozen=True, slots=True)
class CheckCredential:
    credential_id: str
    capability: str | None = None
