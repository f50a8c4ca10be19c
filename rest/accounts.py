"""/v1/auth routes of the accounts context: the original's grpc-gateway paths and shapes
(registration, sign-in, the e-mail flows), plus session management and password set."""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from domain.accounts.commands import (
    ChangePassword,
    RegisterAccount,
    ResetPassword,
    SendEmailCode,
    SignIn,
)
from domain.accounts.email_codes import CodeSent
from resolvers import accounts
from rest.envelope import EncodedJson, rfc3339
from rest.router import RestRequest
from rest.schemas import Shape
from rest.views import Email, Id, SessionItem, Time, UserProto, camel, session_item, user_proto_json


class Empty(TypedDict):
    """No fields: the original's ``google.protobuf.Empty``."""


class Registered(TypedDict):
    userId: Id
    email: Email
    emailVerificationRequired: bool
    activationEmailSent: bool


class SignedIn(TypedDict):
    """The session token (also set as the ``sid`` cookie) and when it expires."""

    sid: str
    expiresAt: Time | None


class TotpChallenge(TypedDict):
    """Two-factor is on: complete the sign-in with ``POST /v1/auth/totp/verify``."""

    totpRequired: bool
    challengeId: str | None


class Sessions(TypedDict):
    items: list[SessionItem]


class Revoked(TypedDict):
    revoked: int


class Verified(TypedDict):
    userId: Id
    email: Email


class Cooldown(TypedDict):
    cooldownSeconds: int


class RegisterBody(TypedDict):
    email: Email
    password: str
    verificationCode: NotRequired[str | None]


class LoginBody(TypedDict):
    email: Email
    password: str
    totpCode: NotRequired[str | None]


class LogoutBody(TypedDict, total=False):
    sid: str | None


async def register(req: RestRequest) -> Registered:
    result = await accounts.account_register(
        req.ctx,
        RegisterAccount(
            email=req.text("email") or "",
            password=req.text("password") or "",
            verification_code=req.text("verificationCode"),
        ),
    )
    return {
        "userId": result.user.id,
        "email": result.user.email,
        "emailVerificationRequired": result.email_verification_required,
        "activationEmailSent": result.activation_email_sent,
    }


async def login(req: RestRequest) -> SignedIn | TotpChallenge:
    result = await accounts.account_login(
        req.ctx,
        SignIn(
            email=req.text("email") or "",
            password=req.text("password") or "",
            totp_code=req.text("totpCode"),
        ),
    )
    if result.issued is None:
        return {"totpRequired": True, "challengeId": result.challenge_id}
    return {"sid": result.issued.token, "expiresAt": rfc3339(result.issued.session.expires_at)}


async def logout(req: RestRequest) -> Empty:
    await accounts.account_logout(req.ctx, req.text("sid"))
    return {}


async def me(req: RestRequest) -> Annotated[EncodedJson, UserProto]:
    return user_proto_json(await accounts.viewer(req.ctx))


async def password_change(req: RestRequest) -> Empty:
    await accounts.account_password_change(
        req.ctx,
        ChangePassword(
            old_password=req.text("oldPassword") or "",
            new_password=req.text("newPassword") or "",
        ),
    )
    return {}


async def password_set(req: RestRequest) -> Empty:
    await accounts.account_password_set(req.ctx, req.text("newPassword") or "")
    return {}


async def list_sessions(req: RestRequest) -> Sessions:
    current = req.ctx.principal.session_id
    return {"items": [session_item(s, current) for s in await accounts.sessions(req.ctx)]}


async def revoke_session(req: RestRequest) -> None:
    await accounts.session_revoke(req.ctx, req.path("id"))


async def revoke_other_sessions(req: RestRequest) -> Revoked:
    return {"revoked": await accounts.session_revoke_others(req.ctx)}


# -- e-mail flows (grpc-gateway in the original) ---------------------------------------


async def send_code(req: RestRequest) -> Annotated[dict[str, object], Shape(CodeSent)]:
    command = SendEmailCode(email=req.text("email") or "", purpose=req.text("purpose"))
    return camel(await accounts.email_code_send(req.ctx, command))


async def verify_email(req: RestRequest) -> Verified:
    user = await accounts.email_verify(req.ctx, req.text("token") or "")
    return {"userId": user.id, "email": user.email}


async def resend_activation(req: RestRequest) -> Cooldown:
    cooldown = await accounts.email_activation_resend(req.ctx, req.text("email") or "")
    return {"cooldownSeconds": cooldown}


async def reset_request(req: RestRequest) -> Empty:
    await accounts.password_reset_request(req.ctx, req.text("email") or "")
    return {}


async def reset(req: RestRequest) -> Empty:
    command = ResetPassword(
        token=req.text("token") or "", new_password=req.text("newPassword") or ""
    )
    await accounts.password_reset(req.ctx, command)
    return {}
