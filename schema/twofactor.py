"""GraphQL fields of two-factor authentication."""

from __future__ import annotations

import strawberry

from resolvers import twofactor
from schema.info import CtxInfo
from schema.payloads import payload
from schema.types.twofactor import (
    TotpDisableInput,
    TotpDisablePayload,
    TotpEnableConfirmInput,
    TotpEnableConfirmPayload,
    TotpEnableInput,
    TotpEnablePayload,
    TotpRecoveryCodesRegenerateInput,
    TotpRecoveryCodesRegeneratePayload,
    TotpStatus,
    TotpVerifyInput,
    TotpVerifyPayload,
)


@strawberry.type
class TwoFactorQueries:
    @strawberry.field(description="The viewer's two-factor status.")
    async def totp_status(self, info: CtxInfo) -> TotpStatus | None:
        return TotpStatus.from_domain(await twofactor.totp_status(info.context))


@strawberry.type
class TwoFactorMutations:
    @strawberry.mutation(description="Start enrolling an authenticator (pending for 10 min).")
    async def totp_enable(
        self, info: CtxInfo, input: TotpEnableInput | None = None
    ) -> TotpEnablePayload:
        ctx = info.context
        done = await payload(TotpEnablePayload, ctx, twofactor.totp_enable(ctx))
        done.client_mutation_id = input.client_mutation_id if input else None
        return done

    @strawberry.mutation(description="Confirm enrolment with a code; returns recovery codes.")
    async def totp_enable_confirm(
        self, info: CtxInfo, input: TotpEnableConfirmInput
    ) -> TotpEnableConfirmPayload:
        ctx = info.context
        call = twofactor.totp_enable_confirm(ctx, input.code)
        return await payload(TotpEnableConfirmPayload, ctx, call)

    @strawberry.mutation(description="Complete a password login that needs a second factor.")
    async def totp_verify(self, info: CtxInfo, input: TotpVerifyInput) -> TotpVerifyPayload:
        ctx = info.context
        return await payload(TotpVerifyPayload, ctx, twofactor.totp_verify(ctx, input.to_command()))

    @strawberry.mutation(description="Turn two-factor off (needs a TOTP or recovery code).")
    async def totp_disable(self, info: CtxInfo, input: TotpDisableInput) -> TotpDisablePayload:
        ctx = info.context
        return await payload(TotpDisablePayload, ctx, twofactor.totp_disable(ctx, input.code))

    @strawberry.mutation(description="Replace the recovery codes (needs a TOTP code).")
    async def totp_recovery_codes_regenerate(
        self, info: CtxInfo, input: TotpRecoveryCodesRegenerateInput
    ) -> TotpRecoveryCodesRegeneratePayload:
        ctx = info.context
        call = twofactor.totp_recovery_codes_regenerate(ctx, input.code)
        return await payload(TotpRecoveryCodesRegeneratePayload, ctx, call)
