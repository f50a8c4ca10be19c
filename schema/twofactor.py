"""GraphQL types of two-factor authentication."""

from __future__ import annotations

import strawberry

from schema.accounts import LoginResult, User
from schema.errors import UserError


@strawberry.type(description="A pending authenticator enrolment: show it once, then confirm.")
class TotpEnrolment:
    secret_base32: str
    otpauth_url: str
    qr_code_svg: str = strawberry.field(description="A QR code of otpauthUrl (SVG data URI).")


@strawberry.type
class TotpStatus:
    enabled: bool
    recovery_codes_remaining: int


@strawberry.input
class TotpCodeInput:
    code: str = strawberry.field(description="A current TOTP code, or a recovery code.")


@strawberry.input
class TotpVerifyInput:
    challenge_id: str
    code: str = strawberry.field(description="A current TOTP code, or a recovery code.")


@strawberry.type
class TotpEnablePayload:
    enrolment: TotpEnrolment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TotpEnableConfirmPayload:
    user: User | None = None
    recovery_codes: list[str] | None = strawberry.field(
        default=None, description="Ten single-use recovery codes, shown only now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TotpVerifyPayload:
    result: LoginResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TotpDisablePayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TotpRecoveryCodesRegeneratePayload:
    recovery_codes: list[str] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
