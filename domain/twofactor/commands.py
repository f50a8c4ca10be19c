"""What callers ask of two-factor authentication (both edges build these)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompleteChallenge:
    """Finish a sign-in that answered ``totpRequired``, with a TOTP or recovery code."""

    challenge_id: str
    code: str
