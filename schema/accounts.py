"""GraphQL types of the accounts context."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from domain.accounts import commands, model
from resolvers import ids
from resolvers.context import Context
from schema.errors import UserError


@strawberry.enum
class Role(enum.Enum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


@strawberry.enum
class UserStatus(enum.Enum):
    ACTIVE = "active"
    PENDING_EMAIL = "pending_email"
    LOCKED = "locked"
    DISABLED = "disabled"
    BANNED = "banned"


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID


@strawberry.type
class User(Node):
    raw_id: strawberry.Private[str]
    email: str
    status: UserStatus
    role: Role
    plan_id: str
    totp_enabled: bool
    has_password: bool = strawberry.field(
        description="False for an account created by a provider sign-in until it sets one."
    )
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None

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
    raw_id: strawberry.Private[str]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
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
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    nodes: list[User]
    page_info: PageInfo
    total_count: int


# -- inputs -------------------------------------------------------------------------


@strawberry.input
class AccountRegisterInput:
    email: str
    password: str
    verification_code: str | None = None

    def to_command(self) -> commands.RegisterAccount:
        return commands.RegisterAccount(self.email, self.password, self.verification_code)


@strawberry.input
class AccountLoginInput:
    email: str
    password: str
    totp_code: str | None = None

    def to_command(self) -> commands.SignIn:
        return commands.SignIn(self.email, self.password, self.totp_code)


@strawberry.input
class AccountLogoutInput:
    sid: str | None = strawberry.field(
        default=None, description="The session token to end; default: this request's."
    )


@strawberry.input
class AccountPasswordChangeInput:
    old_password: str
    new_password: str

    def to_command(self) -> commands.ChangePassword:
        return commands.ChangePassword(self.old_password, self.new_password)


@strawberry.input
class AccountPasswordSetInput:
    new_password: str


@strawberry.input
class SessionRevokeInput:
    session_id: strawberry.ID


@strawberry.input
class AdminUserUpdateInput:
    user_id: strawberry.ID
    status: UserStatus | None = None
    role: Role | None = None

    def to_command(self) -> commands.UpdateUser:
        return commands.UpdateUser(
            self.user_id,
            status=model.UserStatus(self.status.value) if self.status else None,
            role=model.Role(self.role.value) if self.role else None,
        )


@strawberry.input
class AdminUserPasswordSetInput:
    user_id: strawberry.ID
    new_password: str

    def to_command(self) -> commands.SetUserPassword:
        return commands.SetUserPassword(self.user_id, self.new_password)


@strawberry.input
class AdminUserFilter:
    email: str | None = strawberry.field(default=None, description="Substring of the e-mail.")
    role: Role | None = None
    status: UserStatus | None = None

    def to_filter(self) -> model.UserFilter:
        return model.UserFilter(
            email_contains=(self.email or "").strip() or None,
            role=model.Role(self.role.value) if self.role else None,
            status=model.UserStatus(self.status.value) if self.status else None,
        )


# -- results and payloads --------------------------------------------------------------


@strawberry.type
class RegisterResult:
    user: User
    email_verification_required: bool
    activation_email_sent: bool

    @classmethod
    def from_domain(cls, result: model.RegisterResult, ctx: object = None) -> RegisterResult:
        return cls(
            user=User.from_domain(result.user),
            email_verification_required=result.email_verification_required,
            activation_email_sent=result.activation_email_sent,
        )


@strawberry.type
class LoginResult:
    sid: str | None = strawberry.field(description="The session token (also set as cookie).")
    expires_at: datetime | None
    user: User | None
    totp_required: bool
    challenge_id: str | None

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


@strawberry.type
class SessionRevokeOthersPayload:
    revoked_count: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdminUserUpdatePayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdminUserPasswordSetPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)
