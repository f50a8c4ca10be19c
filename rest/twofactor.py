"""/v1/auth/totp routes: the original's paths and shapes, plus recovery codes and status."""

from __future__ import annotations

from typing import Any

from domain.twofactor.commands import CompleteChallenge
from resolvers import twofactor
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.views import camel, user_proto


def _code(req: RestRequest) -> str:
    return req.text("code") or ""


async def enable(req: RestRequest) -> dict[str, Any]:
    return camel(await twofactor.totp_enable(req.ctx))


async def enable_confirm(req: RestRequest) -> dict[str, Any]:
    confirmed = await twofactor.totp_enable_confirm(req.ctx, _code(req))
    # The original answered the bare User; the recovery codes ride along, shown once.
    return {**user_proto(confirmed.user), "recoveryCodes": confirmed.recovery_codes}


async def verify(req: RestRequest) -> dict[str, Any]:
    command = CompleteChallenge(challenge_id=req.text("challengeId") or "", code=_code(req))
    result = await twofactor.totp_verify(req.ctx, command)
    assert result.issued is not None
    return {"sid": result.issued.token, "expiresAt": rfc3339(result.issued.session.expires_at)}


async def disable(req: RestRequest) -> dict[str, Any]:
    await twofactor.totp_disable(req.ctx, _code(req))
    return {}


async def regenerate_recovery_codes(req: RestRequest) -> dict[str, Any]:
    return {"recoveryCodes": await twofactor.totp_recovery_codes_regenerate(req.ctx, _code(req))}


async def status(req: RestRequest) -> dict[str, Any]:
    return camel(await twofactor.totp_status(req.ctx))
