"""/v1 routes of the e-mail flows (the original's grpc-gateway paths) and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.errors import InvalidInput
from resolvers import security
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.views import admin_user_item
from schema.security import (
    AdminUserUnlockInput,
    AuditEventFilter,
    EmailCodeSendInput,
    EmailInput,
    EmailVerifyInput,
    PasswordResetInput,
)


async def send_code(req: RestRequest) -> dict[str, Any]:
    sent = await security.email_code_send(
        req.ctx, EmailCodeSendInput(email=req.text("email") or "", purpose=req.text("purpose"))
    )
    return {"cooldownSeconds": sent.cooldown_seconds, "expiresInSeconds": sent.expires_in_seconds}


async def verify_email(req: RestRequest) -> dict[str, Any]:
    user = await security.email_verify(req.ctx, EmailVerifyInput(token=req.text("token") or ""))
    return {"userId": user.raw_id, "email": user.email}


async def resend_activation(req: RestRequest) -> dict[str, Any]:
    cooldown = await security.email_activation_resend(
        req.ctx, EmailInput(email=req.text("email") or "")
    )
    return {"cooldownSeconds": cooldown}


async def reset_request(req: RestRequest) -> dict[str, Any]:
    await security.password_reset_request(req.ctx, EmailInput(email=req.text("email") or ""))
    return {}


async def reset(req: RestRequest) -> dict[str, Any]:
    await security.password_reset(
        req.ctx,
        PasswordResetInput(
            token=req.text("token") or "", new_password=req.text("newPassword") or ""
        ),
    )
    return {}


async def unlock_user(req: RestRequest) -> dict[str, Any]:
    user = await security.admin_user_unlock(
        req.ctx, AdminUserUnlockInput(user_id=strawberry.ID(req.path("id")))
    )
    return admin_user_item(user)


def _time(req: RestRequest, name: str) -> datetime | None:
    raw = req.query(name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be an RFC 3339 time", field=name) from None


async def audit(req: RestRequest) -> dict[str, Any]:
    page = await security.admin_audit_events(
        req.ctx,
        AuditEventFilter(
            action=req.query("action"),
            user_id=req.query("userId"),
            actor=req.query("actor"),
            since=_time(req, "since"),
            until=_time(req, "until"),
        ),
        limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )
    return {
        "items": [
            {
                "id": e.id,
                "action": e.action.value,
                "createdAt": rfc3339(e.created_at),
                "actor": e.actor,
                "userId": e.subject_user_id,
                "ip": e.client_ip,
                "userAgent": e.user_agent,
                "details": e.details,
            }
            for e in page.items
        ],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }
