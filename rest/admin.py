"""/v1/admin routes (gin style): users, their sign-in back-off and the audit log, with the
original's query parameters and shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, NotRequired, TypedDict

from domain.accounts.admin import parse_role, parse_status
from domain.accounts.commands import SetUserPassword, UpdateUser
from domain.accounts.model import UserFilter
from domain.apikeys.model import ApiKey, ApiKeyStatus
from domain.security.model import AuditAction, AuditFilter
from resolvers import admin, billing
from rest.billing import BalanceView, balance_view
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.schemas import EnumOf
from rest.views import AdminUserItem, Id, Time, admin_user_item


class Users(TypedDict):
    items: list[AdminUserItem]
    total: int
    limit: int
    offset: int


class AdminKeyItem(TypedDict):
    id: Id
    name: str
    prefix: str
    planId: str
    status: Annotated[str, EnumOf(ApiKeyStatus)]
    createdAt: Time | None
    expiresAt: Time | None
    lastUsedAt: Time | None


class AdminUserView(TypedDict):
    user: AdminUserItem
    apiKeys: list[AdminKeyItem]
    planCounts: dict[str, int]
    balance: NotRequired[BalanceView]


class UserKeys(TypedDict):
    items: list[AdminKeyItem]
    total: int


class Done(TypedDict):
    ok: bool


class AuditEvent(TypedDict):
    id: Id
    action: Annotated[str, EnumOf(AuditAction)]
    createdAt: Time | None
    actor: str | None
    userId: str | None
    ip: str | None
    userAgent: str | None
    details: dict[str, str]


class AuditPage(TypedDict):
    items: list[AuditEvent]
    total: int
    limit: int
    offset: int


async def list_users(req: RestRequest) -> Users:
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


async def get_user(req: RestRequest) -> AdminUserView:
    # -- billing (issue 14): every key with its status, plan counts, the balance --
    view = await billing.admin_user_view(req.ctx, req.path("id"))
    now = req.ctx.services.clock.now()
    answer: AdminUserView = {
        "user": admin_user_item(view.user),
        "apiKeys": [admin_key_item(k, view.user.plan_id, now) for k in view.api_keys],
        "planCounts": view.plan_counts,
    }
    if view.balance is not None:
        answer["balance"] = balance_view(view.balance)
    return answer


def admin_key_item(key: ApiKey, plan_id: str, now: datetime) -> AdminKeyItem:
    """A key as the original's admin view listed it."""
    return {
        "id": key.id, "name": key.name, "prefix": key.prefix, "planId": plan_id,
        "status": key.status(now).value, "createdAt": rfc3339(key.created_at),
        "expiresAt": rfc3339(key.expires_at), "lastUsedAt": rfc3339(key.last_used_at),
    }  # fmt: skip


async def user_keys(req: RestRequest) -> UserKeys:
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


async def set_password(req: RestRequest) -> Done:
    password = req.required_text("newPassword")
    command = SetUserPassword(user_id=req.path("id"), new_password=password)
    await admin.admin_user_password_set(req.ctx, command)
    return {"ok": True}


async def unlock_user(req: RestRequest) -> AdminUserItem:
    return admin_user_item(await admin.admin_user_unlock(req.ctx, req.path("id")))


async def audit(req: RestRequest) -> AuditPage:
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
