"""Resolvers of two-factor authentication (shared by GraphQL and /v1)."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.accounts import session_login_result
from resolvers.context import Context
from schema.accounts import LoginResult, User
from schema.twofactor import TotpCodeInput, TotpEnrolment, TotpStatus, TotpVerifyInput


@dataclass(frozen=True, slots=True)
class ConfirmedTotp:
    user: User
    recovery_codes: list[str]


async def totp_enable(ctx: Context) -> TotpEnrolment:
    enrolment = await ctx.services.twofactor.begin_enrolment(ctx.principal)
    return TotpEnrolment(
        secret_base32=enrolment.secret_base32,
        otpauth_url=enrolment.otpauth_url,
        qr_code_svg=enrolment.qr_svg_data_uri,
    )


async def totp_enable_confirm(ctx: Context, input: TotpCodeInput) -> ConfirmedTotp:
    confirmed = await ctx.services.twofactor.confirm_enrolment(ctx.principal, input.code)
    return ConfirmedTotp(User.from_domain(confirmed.user), confirmed.recovery_codes)


async def totp_verify(ctx: Context, input: TotpVerifyInput) -> LoginResult:
    user, issued = await ctx.services.twofactor.complete_challenge(
        input.challenge_id,
        input.code,
        client_ip=ctx.principal.client_ip,
        user_agent=ctx.principal.user_agent,
    )
    return session_login_result(ctx, user, issued)


async def totp_disable(ctx: Context, input: TotpCodeInput) -> bool:
    await ctx.services.twofactor.disable(ctx.principal, input.code)
    return True


async def totp_recovery_codes_regenerate(ctx: Context, input: TotpCodeInput) -> list[str]:
    return await ctx.services.twofactor.regenerate_recovery_codes(ctx.principal, input.code)


async def totp_status(ctx: Context) -> TotpStatus:
    status = await ctx.services.twofactor.status(ctx.principal)
    return TotpStatus(
        enabled=status.enabled, recovery_codes_remaining=status.recovery_codes_remaining
    )
