"""/v1/auth/totp routes: the original's paths and shapes, plus recovery codes and status."""

from __future__ import annotations

from typing import Any

from resolvers import twofactor
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.views import user_proto
from schema.twofactor import TotpCodeInput, TotpVerifyInput


def _code(req: RestRequest) -> TotpCodeInput:
    return TotpCodeInput(code=req.text("code") or "")


async def enable(req: RestRequest) -> dict[str, Any]:
    enrolment = await twofactor.totp_enable(req.ctx)
    return {
        "secretBase32": enrolment.secret_base32,
        "otpauthUrl": enrolment.otpauth_url,
        "qrCodeSvg": enrolment.qr_code_svg,
    }


async def enable_confirm(req: RestRequest) -> dict[str, Any]:
    confirmed = await twofactor.totp_enable_confirm(req.ctx, _code(req))
    # The original answered the bare User; the recovery codes ride along, shown once.
    return {**user_proto(confirmed.user), "recoveryCodes": confirmed.recovery_codes}


async def verify(req: RestRequest) -> dict[str, Any]:
    result = await twofactor.totp_verify(
        req.ctx,
        TotpVerifyInput(challenge_id=req.text("challengeId") or "", code=req.text("code") or ""),
    )
    return {"sid": result.sid, "expiresAt": rfc3339(result.expires_at)}


async def disable(req: RestRequest) -> dict[str, Any]:
    await twofactor.totp_disable(req.ctx, _code(req))
    return {}


async def regenerate_recovery_codes(req: RestRequest) -> dict[str, Any]:
    return {"recoveryCodes": await twofactor.totp_recovery_codes_regenerate(req.ctx, _code(req))}


async def status(req: RestRequest) -> dict[str, Any]:
    result = await twofactor.totp_status(req.ctx)
    return {"enabled": result.enabled, "recoveryCodesRemaining": result.recovery_codes_remaining}
