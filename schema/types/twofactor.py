"""GraphQL types of two-factor authentication."""

from __future__ import annotations

import strawberry

from domain.twofactor import model
from domain.twofactor.commands import CompleteChallenge
from schema.errors import UserError
from schema.mirror import Mirrored, mirror
from schema.types.accounts import LoginResult, User


@mirror(
    model.Enrolment,
    name="TotpEnrolment",
    description="A pending authenticator enrolment: show it once, then confirm.",
    descriptions={
        "qr_code_svg": "A QR code of otpauthUrl (SVG data URI).",
        "secret_base32": "The shared secret, for typing into an authenticator.",
        "otpauth_url": "The `otpauth://` URL an authenticator app reads.",
    },
)
class TotpEnrolment(Mirrored):
    pass


@mirror(
    model.TotpStatus,
    descriptions={
        "enabled": "Whether two-factor authentication is on.",
        "recovery_codes_remaining": "Unused recovery codes.",
    },
    description="Whether the viewer's sign-in needs a second factor.",
)
class TotpStatus(Mirrored):
    pass


@strawberry.input
class TotpCodeInput:
    code: str = strawberry.field(description="A current TOTP code, or a recovery code.")


# issue 11: one input per mutation; TotpCodeInput was shared by three mutations.
@strawberry.input(description="The input of `totpEnableConfirm`.")
class TotpEnableConfirmInput(TotpCodeInput):
    pass


@strawberry.input(description="The input of `totpDisable`.")
class TotpDisableInput(TotpCodeInput):
    pass


@strawberry.input(description="The input of `totpRecoveryCodesRegenerate`.")
class TotpRecoveryCodesRegenerateInput(TotpCodeInput):
    pass


@strawberry.input(description="The input of `totpEnable` (it needs no arguments).")
class TotpEnableInput:
    client_mutation_id: str | None = strawberry.field(
        default=None,
        description="Any string of the client's choosing, echoed in the payload (as GitHub's "
        "clientMutationId) to match answers with requests.",
    )


@strawberry.input
class TotpVerifyInput:
    challenge_id: str = strawberry.field(
        description="The `challengeId` of the login that needs a second factor."
    )
    code: str = strawberry.field(description="A current TOTP code, or a recovery code.")

    def to_command(self) -> CompleteChallenge:
        return CompleteChallenge(self.challenge_id, self.code)


@strawberry.type
class TotpEnablePayload:
    enrolment: TotpEnrolment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's clientMutationId, as the client sent it."
    )


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
