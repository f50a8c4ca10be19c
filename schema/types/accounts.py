"""GraphQL types of the accounts context: users, sessions, sign-in and the e-mail flows."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domain.accounts import commands, model
from resolvers import accounts as account_resolvers
from resolvers import apikeys as apikey_resolvers
from resolvers import ids
from resolvers import oauth as oauth_resolvers
from resolvers.context import Context
from schema.describe import describe_values
from schema.errors import UserError
from schema.pagination import After, Before, First, Last, keyset_connection, sort_key
from schema.types.apikeys import ApiKey, ApiKeyConnection, ApiKeyEdge
from schema.types.billing import ViewerBilling
from schema.types.node import Node, PageInfo
from schema.types.oauth import OAuthIdentity, OAuthIdentityConnection, OAuthIdentityEdge


@strawberry.enum(description="What an account may administer.")
class Role(enum.Enum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


describe_values(
    Role,
    {
        "USER": "An ordinary account.",
        "ADMIN": "May read and manage users, the audit log, orders and the pool.",
        "SUPERADMIN": "An admin that may also change plans, money and settings.",
    },
)


@strawberry.enum(description="Whether an account may sign in.")
class UserStatus(enum.Enum):
    ACTIVE = "active"
    PENDING_EMAIL = "pending_email"
    LOCKED = "locked"
    DISABLED = "disabled"
    BANNED = "banned"


describe_values(
    UserStatus,
    {
        "ACTIVE": "May sign in.",
        "PENDING_EMAIL": "Registered, waiting for its e-mail address to be verified.",
        "LOCKED": "Locked by an admin or by too many failed sign-ins.",
        "DISABLED": "Turned off by an admin.",
        "BANNED": "Banned by an admin for good.",
    },
)


@strawberry.type
class ViewerLists:
    """The viewer's own lists as connections (issue 11: every list is a connection, with
    keyset cursors); null for any other user. The root lists are their deprecated twins."""

    raw_id: strawberry.Private[str]

    @strawberry.field(description="My API keys, newest first (revoked ones included); "
                      "null unless this is the viewer.")  # fmt: skip
    async def api_keys(
        self, info: strawberry.Info, first: First = None, after: After = None,
        last: Last = None, before: Before = None,
    ) -> ApiKeyConnection | None:  # fmt: skip
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        return keyset_connection(
            ApiKeyConnection, ApiKeyEdge, await apikey_resolvers.api_keys(ctx),
            key=lambda k: sort_key(k.created_at, k.id), descending=(True, True),
            node=lambda k: ApiKey.from_domain(k, ctx),
            first=first, after=after, last=last, before=before,
        )  # fmt: skip

    @strawberry.field(description="My signed-in sessions, newest first; null unless this "
                      "is the viewer.")  # fmt: skip
    async def sessions(
        self, info: strawberry.Info, first: First = None, after: After = None,
        last: Last = None, before: Before = None,
    ) -> SessionConnection | None:  # fmt: skip
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        return keyset_connection(
            SessionConnection, SessionEdge, await account_resolvers.sessions(ctx),
            key=lambda s: sort_key(s.created_at, s.id), descending=(True, True),
            node=lambda s: Session.from_domain(s, ctx),
            first=first, after=after, last=last, before=before,
        )  # fmt: skip

    @strawberry.field(description="My linked provider accounts, in the order they were "
                      "linked (never their tokens); null unless this is the viewer.")  # fmt: skip
    async def oauth_identities(
        self, info: strawberry.Info, first: First = None, after: After = None,
        last: Last = None, before: Before = None,
    ) -> OAuthIdentityConnection | None:  # fmt: skip
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        return keyset_connection(
            OAuthIdentityConnection, OAuthIdentityEdge,
            await oauth_resolvers.oauth_identities(ctx),
            key=lambda o: sort_key(o.created_at, o.id), descending=(False, False),
            node=OAuthIdentity.from_domain,
            first=first, after=after, last=last, before=before,
        )  # fmt: skip


@strawberry.type(
    description=(
        "An account. Fields about money, keys and sessions are shown to the account itself only."
    )
)
class User(
    ViewerBilling, ViewerLists, Node
):  # ViewerBilling: billing's fields of the viewer (issue 14)
    id: strawberry.ID = strawberry.field(description="The user's global id.")
    raw_id: strawberry.Private[str]
    email: str = strawberry.field(description="The sign-in e-mail address.")
    status: UserStatus = strawberry.field(description="Whether the account may sign in.")
    role: Role = strawberry.field(description="What the account may administer.")
    plan_id: str = strawberry.field(
        description="The id of the account's plan (the viewer reads it whole as `plan`)."
    )
    totp_enabled: bool = strawberry.field(description="Whether sign-in needs a second factor.")
    has_password: bool = strawberry.field(
        description="False for an account created by a provider sign-in until it sets one."
    )
    created_at: datetime = strawberry.field(description="When the account was registered.")
    updated_at: datetime = strawberry.field(description="When the account last changed.")
    last_login_at: datetime | None = strawberry.field(
        description="When the account last signed in; null if never."
    )

    @strawberry.field(description="Unused recovery codes; null unless this is the viewer.")
    async def recovery_codes_remaining(self, info: strawberry.Info) -> int | None:
        ctx = info.context
        if ctx.principal.user_id != self.raw_id:
            return None
        if not self.totp_enabled:
            return 0
        return int(await ctx.services.twofactor.recovery_codes_remaining(self.raw_id))

    @classmethod
    def from_domain(cls, user: model.User, ctx: object = None) -> User:
        return cls(
            id=strawberry.ID(ids.to_global_id("User", user.id)),
            raw_id=user.id,
            email=user.email,
            status=UserStatus(user.status.value),
            role=Role(user.role.value),
            plan_id=user.plan_id,
            totp_enabled=user.totp_enabled,
            has_password=user.password_hash is not None,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
        )


@strawberry.type(description="A signed-in browser or client of the viewer.")
class Session(Node):
    id: strawberry.ID = strawberry.field(description="The session's global id.")
    raw_id: strawberry.Private[str]
    created_at: datetime = strawberry.field(description="When the session signed in.")
    last_seen_at: datetime = strawberry.field(description="When the session was last used.")
    expires_at: datetime = strawberry.field(description="When the session ends unless used again.")
    ip: str | None = strawberry.field(description="The client address that signed in, when known.")
    user_agent: str | None = strawberry.field(
        description="The client's User-Agent at sign-in, when known."
    )
    current: bool = strawberry.field(description="Whether this request uses this session.")

    @classmethod
    def from_domain(cls, session: model.Session, ctx: Context) -> Session:
        current_id = ctx.principal.session_id
        return cls(
            id=strawberry.ID(ids.to_global_id("Session", session.id)),
            raw_id=session.id,
            created_at=session.created_at,
            last_seen_at=session.last_seen_at,
            expires_at=session.expires_at,
            ip=session.ip,
            user_agent=session.user_agent,
            current=session.id == current_id,
        )


@strawberry.type
class SessionEdge:
    cursor: str
    node: Session


@strawberry.type
class SessionConnection:
    edges: list[SessionEdge]
    nodes: list[Session]
    page_info: PageInfo
    total_count: int


@strawberry.input
class AccountRegisterInput:
    email: str = strawberry.field(description="The e-mail address to sign in with.")
    password: str = strawberry.field(
        description="The password (checked for strength and known breaches)."
    )
    verification_code: str | None = strawberry.field(
        default=None,
        description="The code mailed by `emailCodeSend`, when the server requires one.",
    )

    def to_command(self) -> commands.RegisterAccount:
        return commands.RegisterAccount(self.email, self.password, self.verification_code)


@strawberry.input
class AccountLoginInput:
    email: str = strawberry.field(description="The account's e-mail address.")
    password: str = strawberry.field(description="The account's password.")
    totp_code: str | None = strawberry.field(
        default=None,
        description="A TOTP or recovery code, to sign in with a second factor in one step.",
    )

    def to_command(self) -> commands.SignIn:
        return commands.SignIn(self.email, self.password, self.totp_code)


@strawberry.input
class AccountLogoutInput:
    sid: str | None = strawberry.field(
        default=None, description="The session token to end; default: this request's."
    )


@strawberry.input
class AccountPasswordChangeInput:
    old_password: str = strawberry.field(description="The current password.")
    new_password: str = strawberry.field(description="The new password.")

    def to_command(self) -> commands.ChangePassword:
        return commands.ChangePassword(self.old_password, self.new_password)


@strawberry.input
class AccountPasswordSetInput:
    new_password: str = strawberry.field(
        description="The password to set (for an account that has none)."
    )


@strawberry.input
class SessionRevokeInput:
    session_id: strawberry.ID = strawberry.field(description="The session's id (`Session.id`).")


@strawberry.type(description="A new account, and whether it must verify its e-mail address first.")
class RegisterResult:
    user: User = strawberry.field(description="The account just registered.")
    email_verification_required: bool = strawberry.field(
        description="Whether the account must follow the activation link before signing in."
    )
    activation_email_sent: bool = strawberry.field(
        description="Whether an activation e-mail was sent."
    )

    @classmethod
    def from_domain(cls, result: model.RegisterResult, ctx: object = None) -> RegisterResult:
        return cls(
            user=User.from_domain(result.user),
            email_verification_required=result.email_verification_required,
            activation_email_sent=result.activation_email_sent,
        )


@strawberry.type(description="A signed-in session, or the challenge a second factor must answer.")
class LoginResult:
    sid: str | None = strawberry.field(description="The session token (also set as cookie).")
    expires_at: datetime | None = strawberry.field(
        description=("When the session ends unless used; null while a second factor is pending.")
    )
    user: User | None = strawberry.field(
        description="The signed-in user; null while a second factor is pending."
    )
    totp_required: bool = strawberry.field(
        description="Whether `totpVerify` must complete the sign-in (with `challengeId`)."
    )
    challenge_id: str | None = strawberry.field(
        description="The pending second-factor challenge, for `totpVerify`."
    )

    @classmethod
    def from_domain(cls, result: model.LoginResult, ctx: object = None) -> LoginResult:
        issued = result.issued
        if issued is None:
            return cls(sid=None, expires_at=None, user=None, totp_required=result.totp_required,
                       challenge_id=result.challenge_id)  # fmt: skip
        return cls(
            sid=issued.token, expires_at=issued.session.expires_at,
            user=User.from_domain(result.user), totp_required=False, challenge_id=None,
        )  # fmt: skip


@strawberry.type
class AccountRegisterPayload:
    result: RegisterResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountLoginPayload:
    result: LoginResult | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountLogoutPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountPasswordChangePayload:
    revoked_sessions: int | None = strawberry.field(
        default=None, description="How many other sessions were ended."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AccountPasswordSetPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SessionRevokePayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="The input of `sessionRevokeOthers` (it needs no arguments).")
class SessionRevokeOthersInput:
    client_mutation_id: str | None = strawberry.field(
        default=None,
        description="Any string of the client's choosing, echoed in the payload (as GitHub's "
        "clientMutationId) to match answers with requests.",
    )


@strawberry.type
class SessionRevokeOthersPayload:
    revoked_count: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
    client_mutation_id: str | None = strawberry.field(
        default=None, description="The input's clientMutationId, as the client sent it."
    )


@strawberry.input
class EmailCodeSendInput:
    email: str = strawberry.field(description="The address to send the code to.")
    purpose: str | None = strawberry.field(
        default="register",
        description="What the code is for; `register` (the default) is the one purpose today.",
    )

    def to_command(self) -> commands.SendEmailCode:
        return commands.SendEmailCode(self.email, self.purpose)


@strawberry.input
class EmailVerifyInput:
    token: str = strawberry.field(description="The token from the activation link.")


@strawberry.input
class EmailInput:
    email: str


# issue 11: one input per mutation; EmailInput was shared by two mutations.
@strawberry.input(description="The input of `emailActivationResend`.")
class EmailActivationResendInput(EmailInput):
    email: str = strawberry.field(description="The address of the account to activate.")


@strawberry.input(description="The input of `passwordResetRequest`.")
class PasswordResetRequestInput(EmailInput):
    email: str = strawberry.field(description="The address of the account whose password to reset.")


@strawberry.input
class PasswordResetInput:
    token: str = strawberry.field(description="The token from the reset link.")
    new_password: str = strawberry.field(description="The new password.")

    def to_command(self) -> commands.ResetPassword:
        return commands.ResetPassword(self.token, self.new_password)


@strawberry.type
class EmailCodeSendPayload:
    cooldown_seconds: int | None = None
    expires_in_seconds: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EmailVerifyPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class EmailActivationResendPayload:
    cooldown_seconds: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PasswordResetRequestPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PasswordResetPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)
