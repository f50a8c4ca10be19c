"""Resolvers of the accounts context: registration, sign-in, sessions, passwords and the
e-mail flows. GraphQL fields (``schema/``) and /v1 handlers (``rest/accounts.py``) both
call these: (context, command or plain values) -> domain call -> domain result. Ids
arrive as the client sent them (a global or a raw id) and are decoded here, so both edges
accept the same ids. They raise ``DomainError``; each edge maps it."""

from __future__ import annotations

from domain.accounts.commands import (
    ChangePassword,
    RegisterAccount,
    ResetPassword,
    SendEmailCode,
    SignIn,
)
from domain.accounts.email_codes import CodeSent
from domain.accounts.model import IssuedSession, LoginResult, RegisterResult, Session, User
from resolvers import ids
from resolvers.context import SESSION_COOKIE, Context


async def account_register(ctx: Context, command: RegisterAccount) -> RegisterResult:
    return await ctx.services.accounts.register(
        command.email,
        command.password,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
        verification_code=command.verification_code,
    )


async def account_login(ctx: Context, command: SignIn) -> LoginResult:
    result = await ctx.services.accounts.login(
        command.email,
        command.password,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
        totp_code=command.totp_code,
    )
    if result.issued is not None:
        set_session_cookie(ctx, result.issued)
    return result


def set_session_cookie(ctx: Context, issued: IssuedSession) -> None:
    """A completed sign-in: the ``sid`` cookie carries the token (it is also returned)."""
    session = issued.session
    max_age = int((session.expires_at - session.created_at).total_seconds())
    ctx.cookies.set(SESSION_COOKIE, issued.token, max_age=max_age)


async def account_logout(ctx: Context, sid: str | None) -> bool:
    """End this request's session, or the session of ``sid`` when given."""
    await ctx.services.accounts.logout(ctx.principal, sid or None)
    if not sid or sid == ctx.session_token:
        ctx.cookies.delete(SESSION_COOKIE)
    return True


async def viewer(ctx: Context) -> User:
    return await ctx.services.accounts.me(ctx.principal)


async def account_password_change(ctx: Context, command: ChangePassword) -> int:
    return await ctx.services.accounts.change_password(
        ctx.principal, command.old_password, command.new_password
    )


async def account_password_set(ctx: Context, new_password: str) -> bool:
    await ctx.services.accounts.set_password(ctx.principal, new_password)
    return True


async def sessions(ctx: Context) -> list[Session]:
    return await ctx.services.accounts.list_sessions(ctx.principal)


async def session_revoke(ctx: Context, session_id: str) -> bool:
    raw = ids.session_id(session_id)
    await ctx.services.accounts.revoke_session(ctx.principal, raw)
    if raw == ctx.principal.session_id:
        ctx.cookies.delete(SESSION_COOKIE)
    return True


async def session_revoke_others(ctx: Context) -> int:
    return await ctx.services.accounts.revoke_other_sessions(ctx.principal)


# -- e-mail flows ---------------------------------------------------------------------


async def email_code_send(ctx: Context, command: SendEmailCode) -> CodeSent:
    return await ctx.services.email_codes.send(command.email, client_ip=ctx.principal.client_ip)


async def email_verify(ctx: Context, token: str) -> User:
    return await ctx.services.activation.activate(
        token, client_ip=ctx.principal.client_ip, user_agent=ctx.principal.user_agent
    )


async def email_activation_resend(ctx: Context, email: str) -> int:
    return await ctx.services.activation.resend(email, client_ip=ctx.principal.client_ip)


async def password_reset_request(ctx: Context, email: str) -> bool:
    await ctx.services.password_reset.request(
        email, client_ip=ctx.principal.client_ip, user_agent=ctx.principal.user_agent
    )
    return True


async def password_reset(ctx: Context, command: ResetPassword) -> bool:
    await ctx.services.password_reset.reset(
        command.token,
        command.new_password,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
    )
    return True
