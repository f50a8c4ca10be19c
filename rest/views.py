"""JSON shapes of the original API, built from the GraphQL output types."""

from __future__ import annotations

from typing import Any

from rest.envelope import rfc3339
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
