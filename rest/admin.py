"""/v1/admin routes (gin style): users, their sign-in back-off and the audit log, with the
original's query parameters and shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.accounts.admin import parse_role, parse_status
from domain.accounts.commands import SetUserPassword, UpdateUser
from domain.accounts.model import UserFilter
from domain.apikeys.model import ApiKey
from domain.security.model import AuditAction, AuditFilter
from resolvers import admin, billing
from rest.billing import balance_view
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.views import AdminUserItem, admin_user_item


async def list_users(req: RestRequest) -> dict[str, Any]:
    role, status = req.query("role"), req.query("status")
    page = await admin.admin_users(
        req.ctx,
        UserFilter(
            email_contains=(req.query("email") or "").strip() or None,
            role=parse_role(role) if role else None,
            status=parse_status(status) if status else None,
        ),
        limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )
    return {
        "items": [admin_user_item(u) for u in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


async def get_user(req: RestRequest) -> dict[str, Any]:
    # -- billing (issue 14): every key with its status, plan counts, the balance --
    view = await billing.admin_user_view(req.ctx, req.path("id"))
    now = req.ctx.services.clock.now()
    answer: dict[str, Any] = {
        "user": admin_user_item(view.user),
        "apiKeys": [admin_key_item(k, view.user.plan_id, now) for k in view.api_keys],
        "planCounts": view.plan_counts,
    }
    if view.balance is not None:
        answer["balance"] = balance_view(view.balance)
    return answer


def admin_key_item(key: ApiKey, plan_id: str, now: datetime) -> dict[str, Any]:
    """A key as the original's admin view listed it."""
    return {
        "id": key.id, "name": key.name, "prefix": key.prefix, "planId": plan_id,
        "status": key.status(now).value, "createdAt": rfc3339(key.created_at),
        "expiresAt": rfc3339(key.expires_at), "lastUsedAt": rfc3339(key.last_used_at),
    }  # fmt: skip


async def user_keys(req: RestRequest) -> dict[str, Any]:
    view = await billing.admin_user_view(req.ctx, req.path("id"))
    now = req.ctx.services.clock.now()
    items = [admin_key_item(k, view.user.plan_id, now) for k in view.api_keys]
    return {"items": items, "total": len(items)}


async def update_user(req: RestRequest) -> AdminUserItem:
    status, role = req.text("status"), req.text("role")
    new_status = parse_status(status) if status else None
    new_role = parse_role(role) if role else None
    command = UpdateUser(req.path("id"), status=new_status, role=new_role)
    return admin_user_item(await admin.admin_user_update(req.ctx, command))


async def set_password(req: RestRequest) -> dict[str, Any]:
    password = req.required_text("newPassword")
    command = SetUserPassword(user_id=req.path("id"), new_password=password)
    await admin.admin_user_password_set(req.ctx, command)
    return {"ok": True}


async def unlock_user(req: RestRequest) -> AdminUserItem:
    return admin_user_item(await admin.admin_user_unlock(req.ctx, req.path("id")))


async def audit(req: RestRequest) -> dict[str, Any]:
    # The first bad parameter is reported, in this order: times, paging, action, user.
    since, until = req.query_instant("since"), req.query_instant("until")
    limit, offset = req.query_int("limit", 50), req.query_int("offset", 0)
    action, user_id = req.query("action"), req.query("userId")
    flt = AuditFilter(
        action=AuditAction.parse(action) if action else None,
        subject_user_id=user_id or None,
        actor=req.query("actor") or None,
        since=since,
        until=until,
    )
    page = await admin.admin_audit_events(req.ctx, flt, limit=limit, offset=offset)
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
