"""/v1/auth routes: the original's grpc-gateway paths and shapes, plus session management."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers import accounts
from rest.envelope import EncodedJson, rfc3339
from rest.router import RestRequest
from rest.views import session_item, user_proto_json
from schema.accounts import (
    AccountLoginInput,
    AccountLogoutInput,
    AccountPasswordChangeInput,
    AccountRegisterInput,
    SessionRevokeInput,
)


async def register(req: RestRequest) -> dict[str, Any]:
    result = await accounts.account_register(
        req.ctx,
        AccountRegisterInput(
            email=req.text("email") or "",
            password=req.text("password") or "",
            verification_code=req.text("verificationCode"),
        ),
    )
    return {
        "userId": result.user.raw_id,
        "email": result.user.email,
        "emailVerificationRequired": result.email_verification_required,
        "activationEmailSent": result.activation_email_sent,
    }


async def login(req: RestRequest) -> dict[str, Any]:
    result = await accounts.account_login(
        req.ctx,
        AccountLoginInput(
            email=req.text("email") or "",
            password=req.text("password") or "",
            totp_code=req.text("totpCode"),
        ),
    )
    if result.totp_required:
        return {"totpRequired": True, "challengeId": result.challenge_id}
    return {"sid": result.sid, "expiresAt": rfc3339(result.expires_at)}


async def logout(req: RestRequest) -> dict[str, Any]:
    await accounts.account_logout(req.ctx, AccountLogoutInput(sid=req.text("sid")))
    return {}


async def me(req: RestRequest) -> EncodedJson:
    return user_proto_json(await accounts.viewer_record(req.ctx))


async def password_change(req: RestRequest) -> dict[str, Any]:
    await accounts.account_password_change(
        req.ctx,
        AccountPasswordChangeInput(
            old_password=req.text("oldPassword") or "",
            new_password=req.text("newPassword") or "",
        ),
    )
    return {}


async def list_sessions(req: RestRequest) -> dict[str, Any]:
    return {"items": [session_item(s) for s in await accounts.sessions(req.ctx)]}


async def revoke_session(req: RestRequest) -> None:
    await accounts.session_revoke(
        req.ctx, SessionRevokeInput(session_id=strawberry.ID(req.path("id")))
    )


async def revoke_other_sessions(req: RestRequest) -> dict[str, Any]:
    return {"revoked": await accounts.session_revoke_others(req.ctx)}
