"""RFC 6238 time steps and recovery codes (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp

PERIOD = 30
DIGITS = 6
SKEW_STEPS = 1
ISSUER = "Karpov"

RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: easy to read back from paper. 31 symbols, 10 per code ≈ 49.5 bits."""
RECOVERY_CODE_LENGTH = 10
RECOVERY_CODE_COUNT = 10


def time_step(at: datetime) -> int:
    return int(at.timestamp()) // PERIOD


def matching_step(secret_base32: str, code: str, at: datetime) -> int | None:
    """The time step within ±``SKEW_STEPS`` whose code equals ``code`` (compared in
    constant time), newest first; ``None`` when none does."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    hotp = pyotp.HOTP(secret_base32, digits=DIGITS)
    now = time_step(at)
    found: int | None = None
    for step in range(now + SKEW_STEPS, now - SKEW_STEPS - 1, -1):
        if hmac.compare_digest(hotp.at(step), code) and found is None:
            found = step
    return found


def new_secret() -> str:
    """160 random bits in base32 (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret_base32: str, account: str) -> str:
    return pyotp.TOTP(secret_base32, digits=DIGITS, interval=PERIOD).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def new_recovery_codes() -> list[str]:
    def one() -> str:
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        return f"{raw[:5]}-{raw[5:]}"

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def normalize_recovery_code(text: str) -> str | None:
    """Upper-case without separators; ``None`` if it cannot be a recovery code."""
    raw = "".join(ch for ch in text.upper() if ch not in " -")
    if len(raw) != RECOVERY_CODE_LENGTH or any(ch not in RECOVERY_ALPHABET for ch in raw):
        return None
    return raw


class RecoveryCodeHasher:
    """HMAC-SHA256 under a key derived from the master key: a stolen table alone does not
    allow an offline search of the ~2^50 code space."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def hash(self, user_id: str, normalized_code: str) -> str:
        message = f"{user_id}:{normalized_code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
