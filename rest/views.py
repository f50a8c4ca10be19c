"""JSON shapes of the original API, built from the GraphQL output types."""

from __future__ import annotations

from typing import Any

from domain.accounts import model
from rest.envelope import EncodedJson, encode_json, rfc3339
from schema.accounts import Session, User


def user_proto(user: User) -> dict[str, Any]:
    """``User`` as the original's grpc-gateway routes rendered it (protojson)."""
    return {
        "id": user.raw_id,
        "email": user.email,
        "status": user.status.value,
        "role": user.role.value,
        "totpEnabled": user.totp_enabled,
        "createdAt": rfc3339(user.created_at),
        "lastLoginAt": rfc3339(user.last_login_at),
    }


_USER_JSON: dict[int, tuple[model.User, EncodedJson]] = {}
_USER_JSON_MAX = 1024


def user_proto_json(user: model.User) -> EncodedJson:
    """``user_proto`` of a domain user, encoded; memoised per user record. The session
    memo hands out the same (immutable) record for up to a second, so ``GET /v1/auth/me``
    builds and encodes the view about once a second instead of on every request. Each
    entry keeps its record alive, so an ``id`` cannot be reused while it is cached."""
    hit = _USER_JSON.get(id(user))
    if hit is not None and hit[0] is user:
        return hit[1]
    view = encode_json(user_proto(User.from_domain(user)))
    if len(_USER_JSON) >= _USER_JSON_MAX:
        _USER_JSON.clear()  # cheap and safe: the memo only saves work
    _USER_JSON[id(user)] = (user, view)
    return view


def admin_user_item(user: User) -> dict[str, Any]:
    """A user row of ``GET /v1/admin/users`` (gin)."""
    return {
        "id": user.raw_id,
        "email": user.email,
        "status": user.status.value,
        "role": user.role.value,
        "planId": user.plan_id,
        "totpEnabled": user.totp_enabled,
        "createdAt": rfc3339(user.created_at),
    }


def session_item(session: Session) -> dict[str, Any]:
    return {
        "id": session.raw_id,
        "createdAt": rfc3339(session.created_at),
        "lastSeenAt": rfc3339(session.last_seen_at),
        "expiresAt": rfc3339(session.expires_at),
        "ip": session.ip,
        "userAgent": session.user_agent,
        "current": session.current,
    }
