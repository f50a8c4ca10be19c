"""Resolvers of the e-mail flows (codes, activation, password reset) and the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import InvalidInput
from domain.paging import Page
from domain.security.model import AuditAction, AuditFilter
from domain.security.model import AuditEvent as DomainAuditEvent
from resolvers.context import Context
from schema.accounts import User
from schema.scalars import from_global_id
from schema.security import (
    AdminUserUnlockInput,
    AuditEventFilter,
    EmailCodeSendInput,
    EmailInput,
    EmailVerifyInput,
    PasswordResetInput,
)


@dataclass(frozen=True, slots=True)
class CodeSent:
    cooldown_seconds: int
    expires_in_seconds: int


async def email_code_send(ctx: Context, input: EmailCodeSendInput) -> CodeSent:
    sent = await ctx.services.email_codes.send(input.email, client_ip=ctx.principal.client_ip)
    return CodeSent(sent.cooldown_seconds, sent.expires_in_seconds)


async def email_verify(ctx: Context, input: EmailVerifyInput) -> User:
    user = await ctx.services.activation.activate(
        input.token, client_ip=ctx.principal.client_ip, user_agent=ctx.principal.user_agent
    )
    return User.from_domain(user)


async def email_activation_resend(ctx: Context, input: EmailInput) -> int:
    return await ctx.services.activation.resend(input.email, client_ip=ctx.principal.client_ip)


async def password_reset_request(ctx: Context, input: EmailInput) -> bool:
    await ctx.services.password_reset.request(
        input.email, client_ip=ctx.principal.client_ip, user_agent=ctx.principal.user_agent
    )
    return True


async def password_reset(ctx: Context, input: PasswordResetInput) -> bool:
    await ctx.services.password_reset.reset(
        input.token,
        input.new_password,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
    )
    return True


async def admin_user_unlock(ctx: Context, input: AdminUserUnlockInput) -> User:
    user_id = from_global_id(input.user_id, "User", field="userId")
    return User.from_domain(await ctx.services.admin_users.unlock(ctx.principal, user_id))


async def admin_audit_events(
    ctx: Context, flt: AuditEventFilter | None, *, limit: int, offset: int
) -> Page[DomainAuditEvent]:
    flt = flt or AuditEventFilter()
    action = None
    if flt.action:
        try:
            action = AuditAction(flt.action)
        except ValueError:
            raise InvalidInput("action is not a known audit action", field="action") from None
    return await ctx.services.admin_users.audit_events(
        ctx.principal,
        AuditFilter(
            action=action,
            subject_user_id=from_global_id(flt.user_id, "User", field="userId")
            if flt.user_id
            else None,
            actor=flt.actor or None,
            since=flt.since,
            until=flt.until,
        ),
        limit=limit,
        offset=offset,
    )
