"""Identifiers and secrets. Every random value comes from the OS CSPRNG (``secrets``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid


def new_id() -> str:
    """A new entity id: a UUID4 as 32 lowercase hex characters."""
    return uuid.uuid4().hex


def new_token(num_bytes: int = 32) -> str:
    """An opaque bearer secret: ``num_bytes`` random bytes, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(num_bytes)).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a high-entropy token is stored and looked up.

    Tokens carry 256 random bits, so a plain (unsalted, fast) hash is enough: nothing
    can be brute-forced, and the lookup must be cheap on every request.
    """
    return hashlib.sha256(token.encode()).hexdigest()
