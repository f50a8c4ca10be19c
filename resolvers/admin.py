"""Resolvers of account administration (admin and superadmin): users, their sign-in
back-off, and the audit log. User ids are the client's (global or raw): decoded here."""

from __future__ import annotations

from dataclasses import replace

from domain.accounts.commands import SetUserPassword, UpdateUser
from domain.accounts.model import User, UserFilter
from domain.paging import Page
from domain.security.model import AuditEvent, AuditFilter
from resolvers import ids
from resolvers.context import Context


async def admin_users(ctx: Context, flt: UserFilter, *, limit: int, offset: int) -> Page[User]:
    return await ctx.services.admin_users.list_users(ctx.principal, flt, limit=limit, offset=offset)


async def admin_user(ctx: Context, user_id: str) -> User:
    return await ctx.services.admin_users.get_user(ctx.principal, ids.user_id(user_id))


async def admin_user_update(ctx: Context, command: UpdateUser) -> User:
    return await ctx.services.admin_users.update_user(
        ctx.principal, ids.user_id(command.user_id), status=command.status, role=command.role
    )


async def admin_user_password_set(ctx: Context, command: SetUserPassword) -> bool:
    await ctx.services.admin_users.set_password(
        ctx.principal, ids.user_id(command.user_id), command.new_password
    )
    return True


async def admin_user_unlock(ctx: Context, user_id: str) -> User:
    return await ctx.services.admin_users.unlock(ctx.principal, ids.user_id(user_id))


async def admin_audit_events(
    ctx: Context, flt: AuditFilter, *, limit: int, offset: int
) -> Page[AuditEvent]:
    if flt.subject_user_id:
        flt = replace(flt, subject_user_id=ids.user_id(flt.subject_user_id))
    return await ctx.services.admin_users.audit_events(
        ctx.principal, flt, limit=limit, offset=offset
    )
