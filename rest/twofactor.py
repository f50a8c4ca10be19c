"""/v1/auth/totp routes: the original's paths and shapes, plus recovery codes and status."""

from __future__ import annotations

from typing import Annotated, TypedDict

from domain.twofactor.commands import CompleteChallenge
from domain.twofactor.model import Enrolment, TotpStatus
from resolvers import twofactor
from rest.accounts import Empty, SignedIn
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.schemas import Shape
from rest.views import UserProto, camel, user_proto


class ConfirmedUser(UserProto):
    recoveryCodes: list[str]
    """Shown once."""


class RecoveryCodes(TypedDict):
    recoveryCodes: list[str]


class CodeBody(TypedDict):
    code: str


class VerifyBody(TypedDict):
    challengeId: str
    code: str


def _code(req: RestRequest) -> str:
    return req.text("code") or ""


async def enable(req: RestRequest) -> Annotated[dict[str, object], Shape(Enrolment)]:
    return camel(await twofactor.totp_enable(req.ctx))


async def enable_confirm(req: RestRequest) -> ConfirmedUser:
    confirmed = await twofactor.totp_enable_confirm(req.ctx, _code(req))
    # The original answered the bare User; the recovery codes ride along, shown once.
    return {**user_proto(confirmed.user), "recoveryCodes": confirmed.recovery_codes}


async def verify(req: RestRequest) -> SignedIn:
    command = CompleteChallenge(challenge_id=req.text("challengeId") or "", code=_code(req))
    result = await twofactor.totp_verify(req.ctx, command)
    assert result.issued is not None
    return {"sid": result.issued.token, "expiresAt": rfc3339(result.issued.session.expires_at)}


async def disable(req: RestRequest) -> Empty:
    await twofactor.totp_disable(req.ctx, _code(req))
    return {}


async def regenerate_recovery_codes(req: RestRequest) -> RecoveryCodes:
    return {"recoveryCodes": await twofactor.totp_recovery_codes_regenerate(req.ctx, _code(req))}


async def status(req: RestRequest) -> Annotated[dict[str, object], Shape(TotpStatus)]:
    return camel(await twofactor.totp_status(req.ctx))
