"""/v1/auth routes of the accounts context: the original's grpc-gateway paths and shapes
(registration, sign-in, the e-mail flows), plus session management and password set."""

from __future__ import annotations

from typing import Any

from domain.accounts.commands import (
    ChangePassword,
    RegisterAccount,
    ResetPassword,
    SendEmailCode,
    SignIn,
)
from resolvers import accounts
from rest.envelope import EncodedJson, rfc3339
from rest.router import RestRequest
from rest.views import camel, session_item, user_proto_json


async def register(req: RestRequest) -> dict[str, Any]:
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


async def login(req: RestRequest) -> dict[str, Any]:
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


async def logout(req: RestRequest) -> dict[str, Any]:
    await accounts.account_logout(req.ctx, req.text("sid"))
    return {}


async def me(req: RestRequest) -> EncodedJson:
    return user_proto_json(await accounts.viewer(req.ctx))


async def password_change(req: RestRequest) -> dict[str, Any]:
    await accounts.account_password_change(
        req.ctx,
        ChangePassword(
            old_password=req.text("oldPassword") or "",
            new_password=req.text("newPassword") or "",
        ),
    )
    return {}


async def password_set(req: RestRequest) -> dict[str, Any]:
    await accounts.account_password_set(req.ctx, req.text("newPassword") or "")
    return {}


async def list_sessions(req: RestRequest) -> dict[str, Any]:
    current = req.ctx.principal.session_id
    return {"items": [session_item(s, current) for s in await accounts.sessions(req.ctx)]}


async def revoke_session(req: RestRequest) -> None:
    await accounts.session_revoke(req.ctx, req.path("id"))


async def revoke_other_sessions(req: RestRequest) -> dict[str, Any]:
    return {"revoked": await accounts.session_revoke_others(req.ctx)}


# -- e-mail flows (grpc-gateway in the original) ---------------------------------------


async def send_code(req: RestRequest) -> dict[str, Any]:
    command = SendEmailCode(email=req.text("email") or "", purpose=req.text("purpose"))
    return camel(await accounts.email_code_send(req.ctx, command))


async def verify_email(req: RestRequest) -> dict[str, Any]:
    user = await accounts.email_verify(req.ctx, req.text("token") or "")
    return {"userId": user.id, "email": user.email}


async def resend_activation(req: RestRequest) -> dict[str, Any]:
    cooldown = await accounts.email_activation_resend(req.ctx, req.text("email") or "")
    return {"cooldownSeconds": cooldown}


async def reset_request(req: RestRequest) -> dict[str, Any]:
    await accounts.password_reset_request(req.ctx, req.text("email") or "")
    return {}


async def reset(req: RestRequest) -> dict[str, Any]:
    command = ResetPassword(
        token=req.text("token") or "", new_password=req.text("newPassword") or ""
    )
    await accounts.password_reset(req.ctx, command)
    return {}
