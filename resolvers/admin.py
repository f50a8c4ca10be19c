"""Resolvers of user administration (admin and superadmin)."""

from __future__ import annotations

from domain.accounts.admin import parse_role, parse_status
from domain.accounts.model import User as DomainUser
from domain.accounts.model import UserFilter
from domain.paging import Page
from resolvers.context import Context
from schema.accounts import (
    AdminUserFilter,
    AdminUserPasswordSetInput,
    AdminUserUpdateInput,
    User,
)
from schema.scalars import from_global_id


def _user_id(raw: str) -> str:
    return from_global_id(raw, "User", field="userId")


async def admin_users(
    ctx: Context, flt: AdminUserFilter | None, *, limit: int, offset: int
) -> Page[DomainUser]:
    flt = flt or AdminUserFilter()
    domain_filter = UserFilter(
        email_contains=(flt.email or "").strip() or None,
        role=parse_role(flt.role.value) if flt.role else None,
        status=parse_status(flt.status.value) if flt.status else None,
    )
    return await ctx.services.admin_users.list_users(
        ctx.principal, domain_filter, limit=limit, offset=offset
    )


async def admin_user(ctx: Context, user_id: str) -> User:
    user = await ctx.services.admin_users.get_user(ctx.principal, _user_id(user_id))
    return User.from_domain(user)


async def admin_user_update(ctx: Context, input: AdminUserUpdateInput) -> User:
    user = await ctx.services.admin_users.update_user(
        ctx.principal,
        _user_id(input.user_id),
        status=parse_status(input.status.value) if input.status else None,
        role=parse_role(input.role.value) if input.role else None,
    )
    return User.from_domain(user)


async def admin_user_password_set(ctx: Context, input: AdminUserPasswordSetInput) -> bool:
    await ctx.services.admin_users.set_password(
        ctx.principal, _user_id(input.user_id), input.new_password
    )
    return True
