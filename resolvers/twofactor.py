"""Resolvers of two-factor authentication (shared by GraphQL and /v1)."""

from __future__ import annotations

from domain.accounts.model import LoginResult
from domain.twofactor.commands import CompleteChallenge
from domain.twofactor.model import Enrolment, TotpStatus
from domain.twofactor.service import ConfirmedEnrolment
from resolvers.accounts import set_session_cookie
from resolvers.context import Context


async def totp_enable(ctx: Context) -> Enrolment:
    return await ctx.services.twofactor.begin_enrolment(ctx.principal)


async def totp_enable_confirm(ctx: Context, code: str) -> ConfirmedEnrolment:
    return await ctx.services.twofactor.confirm_enrolment(ctx.principal, code)


async def totp_verify(ctx: Context, command: CompleteChallenge) -> LoginResult:
    user, issued = await ctx.services.twofactor.complete_challenge(
        command.challenge_id,
        command.code,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
    )
    set_session_cookie(ctx, issued)
    return LoginResult(issued=issued, user=user)


async def totp_disable(ctx: Context, code: str) -> bool:
    await ctx.services.twofactor.disable(ctx.principal, code)
    return True


async def totp_recovery_codes_regenerate(ctx: Context, code: str) -> list[str]:
    return await ctx.services.twofactor.regenerate_recovery_codes(ctx.principal, code)


async def totp_status(ctx: Context) -> TotpStatus:
    return await ctx.services.twofactor.status(ctx.principal)
