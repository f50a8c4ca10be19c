"""/v1/admin/users routes (gin style), with the original's query parameters and shapes."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.accounts.admin import parse_role, parse_status
from resolvers import admin
from rest.router import RestRequest
from rest.views import admin_user_item
from schema.accounts import (
    AdminUserFilter,
    AdminUserPasswordSetInput,
    AdminUserUpdateInput,
    Role,
    User,
    UserStatus,
)


def _role(value: str | None) -> Role | None:
    return Role(parse_role(value).value) if value else None


def _status(value: str | None) -> UserStatus | None:
    return UserStatus(parse_status(value).value) if value else None


async def list_users(req: RestRequest) -> dict[str, Any]:
    page = await admin.admin_users(
        req.ctx,
        AdminUserFilter(
            email=req.query("email"),
            role=_role(req.query("role")),
            status=_status(req.query("status")),
        ),
        limit=req.query_int("limit", 50),
        offset=req.query_int("offset", 0),
    )
    return {
        "items": [admin_user_item(User.from_domain(u)) for u in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }


async def get_user(req: RestRequest) -> dict[str, Any]:
    user = await admin.admin_user(req.ctx, req.path("id"))
    # API keys, balances and plan counts join this view as their issues land.
    return {"user": admin_user_item(user), "apiKeys": [], "planCounts": {}}


async def update_user(req: RestRequest) -> dict[str, Any]:
    user = await admin.admin_user_update(
        req.ctx,
        AdminUserUpdateInput(
            user_id=strawberry.ID(req.path("id")),
            status=_status(req.text("status")),
            role=_role(req.text("role")),
        ),
    )
    return admin_user_item(user)


async def set_password(req: RestRequest) -> dict[str, Any]:
    await admin.admin_user_password_set(
        req.ctx,
        AdminUserPasswordSetInput(
            user_id=strawberry.ID(req.path("id")), new_password=req.required_text("newPassword")
        ),
    )
    return {"ok": True}
