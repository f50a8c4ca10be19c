"""Ed25519 keys for Linux Credit, in every encoding the original gateway accepted.

Private (the merchant's signing key): PEM PKCS#8 (``-----BEGIN PRIVATE KEY-----``), the
bare DER PKCS#8 body in base64 (what is between those lines, 48 bytes), a base64 32-byte
seed, or a base64 64-byte key (seed followed by its public key, Go's ``ed25519.PrivateKey``).
Public (the platform's key): PEM SPKI (``-----BEGIN PUBLIC KEY-----``), the bare DER SPKI
body in base64 (44 bytes), or the base64 32 raw bytes.

Base64 may be standard or URL-safe, padded or not, and may contain whitespace (a PEM body
pasted across lines). Errors name the field and the accepted formats, never the key.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import InvalidInput

SEED_SIZE = 32
FULL_PRIVATE_SIZE = 64
PUBLIC_SIZE = 32

_WHITESPACE = re.compile(r"\s+")
_PRIVATE_FORMATS = "PEM PKCS#8, base64 DER PKCS#8, a base64 32-byte seed or 64-byte key"
_PUBLIC_FORMATS = "PEM SPKI, base64 DER SPKI or base64 32 raw bytes"


def decode_base64_lenient(text: str) -> bytes | None:
    """Standard or URL-safe alphabet, with or without padding, whitespace ignored;
    ``None`` when it is none of these."""
    cleaned = _WHITESPACE.sub("", text).encode("ascii", "replace")
    unpadded = cleaned.rstrip(b"=")
    padded = unpadded + b"=" * (-len(unpadded) % 4)
    for candidate in (cleaned, padded):
        for altchars in (None, b"-_"):
            try:
                return base64.b64decode(candidate, altchars=altchars, validate=True)
            except (binascii.Error, ValueError):
                continue
    return None


def parse_private_key(text: str, *, field: str) -> Ed25519PrivateKey:
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"{field} is empty", field=field)
    if stripped.startswith("-----BEGIN"):
        return _private_from_der(_pem_body(stripped, field), field)
    raw = decode_base64_lenient(stripped)
    if raw is None:
        raise InvalidInput(f"{field} is not base64 or PEM ({_PRIVATE_FORMATS})", field=field)
    if len(raw) == SEED_SIZE:
        return Ed25519PrivateKey.from_private_bytes(raw)
    if len(raw) == FULL_PRIVATE_SIZE:
        key = Ed25519PrivateKey.from_private_bytes(raw[:SEED_SIZE])
        # A 64-byte key carries its public half; a mismatch would sign with the wrong key.
        if _raw_public(key.public_key()) != raw[SEED_SIZE:]:
            raise InvalidInput(
                f"{field}: the public half of the 64-byte key does not match its seed",
                field=field,
            )
        return key
    return _private_from_der(raw, field)


def parse_public_key(text: str, *, field: str) -> Ed25519PublicKey:
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"{field} is empty", field=field)
    if stripped.startswith("-----BEGIN"):
        return _public_from_der(_pem_body(stripped, field), field)
    raw = decode_base64_lenient(stripped)
    if raw is None:
        raise InvalidInput(f"{field} is not base64 or PEM ({_PUBLIC_FORMATS})", field=field)
    if len(raw) == PUBLIC_SIZE:
        return Ed25519PublicKey.from_public_bytes(raw)
    return _public_from_der(raw, field)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _pem_body(text: str, field: str) -> bytes:
    lines = [line.strip() for line in text.strip().splitlines()]
    if (
        len(lines) < 3
        or not lines[0].startswith("-----BEGIN")
        or not lines[-1].startswith("-----END")
    ):
        raise InvalidInput(f"{field} is not a complete PEM block", field=field)
    body = decode_base64_lenient("".join(lines[1:-1]))
    if body is None:
        raise InvalidInput(f"{field} is not a valid PEM block", field=field)
    return body


def _private_from_der(der: bytes, field: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidInput(
            f"{field} is not an Ed25519 private key ({_PRIVATE_FORMATS})", field=field
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{field} is a private key, but not an Ed25519 one", field=field)
    return key


def _public_from_der(der: bytes, field: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidInput(
            f"{field} is not an Ed25519 public key ({_PUBLIC_FORMATS})", field=field
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{field} is a public key, but not an Ed25519 one", field=field)
    return key
