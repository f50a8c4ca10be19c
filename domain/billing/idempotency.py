"""Idempotency keys of billing's mutations (the ``Idempotency-Key`` header or the body's
``idempotencyKey``): the original's rule, 1-128 printable ASCII characters (0x21-0x7E)
once trimmed. A key is the caller's own: two users may use the same one. The same key with
the same parameters returns what the first request made; with other parameters it is
refused (422), as Stripe does."""

from __future__ import annotations

import hashlib
import json
import secrets

from domain.billing.errors import InvalidIdempotencyKey

MAX_KEY_LENGTH = 128


def normalise_key(key: str | None, *, field: str = "idempotencyKey") -> str | None:
    """The trimmed key, ``None`` when none was given (or only spaces); raises
    ``InvalidIdempotencyKey`` for anything else that breaks the rule."""
    if key is None:
        return None
    trimmed = key.strip()
    if not trimmed:
        return None
    if len(trimmed) > MAX_KEY_LENGTH or not all(0x21 <= ord(c) <= 0x7E for c in trimmed):
        raise InvalidIdempotencyKey(field=field)
    return trimmed


def choose_key(header: str | None, body: str | None) -> str | None:
    """The header wins over the body field; both are checked."""
    from_body = normalise_key(body)
    from_header = normalise_key(header, field="Idempotency-Key")
    return from_header or from_body


def generated_key(*parts: str) -> str:
    """A fresh key for a request that brought none (each such request is new)."""
    return ":".join((*parts, secrets.token_hex(8)))


def fingerprint(**params: object) -> str:
    """A digest of a request's parameters, to tell a retry from a different request."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
