"""Global object identification (GraphQL `Node` ids): opaque ids of the form
base64("Type:raw"). Both edges decode ids with these functions, so GraphQL and /v1 accept
the same ids (a global id, or the raw one)."""

from __future__ import annotations

import base64
import binascii

from domain.errors import InvalidInput


def to_global_id(type_name: str, raw_id: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


def from_global_id(global_id: str, expected_type: str, *, field: str = "id") -> str:
    """The raw id inside a global id of ``expected_type``; raw ids are accepted too, so
    /v1 callers and GraphQL callers can name the same object."""
    padded = global_id + "=" * (-len(global_id) % 4)
    try:
        decoded = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    type_name, sep, raw = decoded.partition(":")
    if sep and type_name == expected_type and raw:
        return raw
    if global_id and all(c in "0123456789abcdef" for c in global_id) and len(global_id) == 32:
        return global_id
    raise InvalidInput(f"{field} is not a valid {expected_type} id", field=field)


def user_id(value: str, field: str = "userId") -> str:
    return from_global_id(value, "User", field=field)


def session_id(value: str) -> str:
    return from_global_id(value, "Session", field="sessionId")


def api_key_id(value: str) -> str:
    return from_global_id(value, "ApiKey", field="apiKeyId")


def pool_credential_id(value: str, field: str = "id") -> str:
    return from_global_id(value, "PoolCredential", field=field)
