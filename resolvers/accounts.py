"""Resolvers of the accounts context: (context, typed input) -> domain call -> output.

GraphQL fields (schema/root.py) and /v1 handlers (rest/) both call these functions, so the
two edges cannot drift apart. They raise ``DomainError``; each edge maps it."""

from __future__ import annotations

from domain.accounts.model import IssuedSession
from domain.accounts.model import User as DomainUser
from resolvers.context import SESSION_COOKIE, Context
from schema.accounts import (
    AccountLoginInput,
    AccountLogoutInput,
    AccountPasswordChangeInput,
    AccountPasswordSetInput,
    AccountRegisterInput,
    LoginResult,
    RegisterResult,
    Session,
    SessionRevokeInput,
    User,
)
from schema.scalars import from_global_id


async def account_register(ctx: Context, input: AccountRegisterInput) -> RegisterResult:
    result = await ctx.services.accounts.register(
        input.email,
        input.password,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
        verification_code=input.verification_code,
    )
    return RegisterResult(
        user=User.from_domain(result.user),
        email_verification_required=result.email_verification_required,
        activation_email_sent=result.activation_email_sent,
    )


async def account_login(ctx: Context, input: AccountLoginInput) -> LoginResult:
    result = await ctx.services.accounts.login(
        input.email,
        input.password,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
        totp_code=input.totp_code,
    )
    if result.issued is None:
        return LoginResult(
            sid=None,
            expires_at=None,
            user=None,
            totp_required=result.totp_required,
            challenge_id=result.challenge_id,
        )
    return session_login_result(ctx, result.user, result.issued)


def session_login_result(ctx: Context, user: DomainUser, issued: IssuedSession) -> LoginResult:
    """A completed sign-in: the ``sid`` cookie is set and the token returned."""
    session = issued.session
    max_age = int((session.expires_at - session.created_at).total_seconds())
    ctx.cookies.set(SESSION_COOKIE, issued.token, max_age=max_age)
    return LoginResult(
        sid=issued.token,
        expires_at=session.expires_at,
        user=User.from_domain(user),
        totp_required=False,
        challenge_id=None,
    )


async def account_logout(ctx: Context, input: AccountLogoutInput) -> bool:
    await ctx.services.accounts.logout(ctx.principal, input.sid or None)
    if not input.sid or input.sid == ctx.session_token:
        ctx.cookies.delete(SESSION_COOKIE)
    return True


async def viewer(ctx: Context) -> User:
    return User.from_domain(await viewer_record(ctx))


async def viewer_record(ctx: Context) -> DomainUser:
    """The signed-in user as the domain hands it out (for views memoised per record)."""
    return await ctx.services.accounts.me(ctx.principal)


async def account_password_change(ctx: Context, input: AccountPasswordChangeInput) -> int:
    return await ctx.services.accounts.change_password(
        ctx.principal, input.old_password, input.new_password
    )


async def account_password_set(ctx: Context, input: AccountPasswordSetInput) -> bool:
    await ctx.services.accounts.set_password(ctx.principal, input.new_password)
    return True


async def sessions(ctx: Context) -> list[Session]:
    items = await ctx.services.accounts.list_sessions(ctx.principal)
    return [Session.from_domain(s, current_id=ctx.principal.session_id) for s in items]


async def session_revoke(ctx: Context, input: SessionRevokeInput) -> bool:
    session_id = from_global_id(input.session_id, "Session", field="sessionId")
    await ctx.services.accounts.revoke_session(ctx.principal, session_id)
    if session_id == ctx.principal.session_id:
        ctx.cookies.delete(SESSION_COOKIE)
    return True


async def session_revoke_others(ctx: Context) -> int:
    return await ctx.services.accounts.revoke_other_sessions(ctx.principal)
