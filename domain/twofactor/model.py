"""Entities of two-factor authentication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TotpFactor:
    """A user's TOTP state. Secrets are key-ring blobs, never plaintext."""

    user_id: str
    secret_enc: bytes | None
    """The enabled secret; ``None`` while only an enrolment is pending."""
    last_step: int | None
    """The newest accepted time step: a code of this step or older is a replay."""
    pending_secret_enc: bytes | None
    pending_expires_at: datetime | None
    failed_attempts: int = 0
    locked_until: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.secret_enc is not None


@dataclass(frozen=True, slots=True)
class LoginChallenge:
    """A password login waiting for its second factor. Only the id's hash is stored."""

    id_hash: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    attempts: int = 0
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret_base32: str
    otpauth_url: str
    qr_code_svg: str
    """A QR code of ``otpauth_url`` (an SVG data URI)."""


@dataclass(frozen=True, slots=True)
class TotpStatus:
    enabled: bool
    recovery_codes_remaining: int
