"""GraphQL types of account administration: user and audit-log connections, filters,
and the admin mutations' inputs and payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from domain.accounts import commands, model
from domain.security import model as audit
from resolvers import ids
from schema.describe import describe_values
from schema.errors import UserError
from schema.types.accounts import Role, User, UserStatus
from schema.types.node import PageInfo


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


@strawberry.input(description="Which users to list (every given condition must hold).")
class AdminUserFilter:
    email: str | None = strawberry.field(default=None, description="Substring of the e-mail.")
    role: Role | None = strawberry.field(default=None, description="Only users with this role.")
    status: UserStatus | None = strawberry.field(
        default=None, description="Only users with this status."
    )

    def to_filter(self) -> model.UserFilter:
        return model.UserFilter(
            email_contains=(self.email or "").strip() or None,
            role=model.Role(self.role.value) if self.role else None,
            status=model.UserStatus(self.status.value) if self.status else None,
        )


@strawberry.input
class AdminUserUpdateInput:
    user_id: strawberry.ID = strawberry.field(description="The user's id.")
    status: UserStatus | None = strawberry.field(
        default=None, description="The new status; unchanged when null."
    )
    role: Role | None = strawberry.field(
        default=None, description="The new role (superadmin only); unchanged when null."
    )

    def to_command(self) -> commands.UpdateUser:
        return commands.UpdateUser(
            self.user_id,
            status=model.UserStatus(self.status.value) if self.status else None,
            role=model.Role(self.role.value) if self.role else None,
        )


@strawberry.input
class AdminUserPasswordSetInput:
    user_id: strawberry.ID = strawberry.field(description="The user's id.")
    new_password: str = strawberry.field(description="The password to set.")

    def to_command(self) -> commands.SetUserPassword:
        return commands.SetUserPassword(self.user_id, self.new_password)


@strawberry.input
class AdminUserUnlockInput:
    user_id: strawberry.ID = strawberry.field(
        description="The user whose sign-in throttling to clear."
    )


@strawberry.type
class AdminUserUpdatePayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdminUserPasswordSetPayload:
    ok: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AdminUserUnlockPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


# issue 11: the audit log's actions are a closed set, so an enum (the domain's values).
AuditAction = describe_values(
    strawberry.enum(
        audit.AuditAction, name="AuditAction", description="What an audit event records."
    ),
    {
        "REGISTER": "An account was registered.",
        "LOGIN_SUCCEEDED": "A sign-in succeeded (password, provider or second factor).",
        "LOGIN_FAILED": "A sign-in was refused (wrong e-mail or password).",
        "LOGIN_THROTTLED": "A sign-in was refused because of too many failures.",
        "LOGOUT": "A session was ended by its owner.",
        "PASSWORD_CHANGED": "The owner changed the password.",
        "PASSWORD_RESET_REQUESTED": "A password reset link was asked for.",
        "PASSWORD_RESET": "The password was reset with a link.",
        "EMAIL_VERIFIED": "The account's e-mail address was verified (account activated).",
        "SESSION_REVOKED": "A session was revoked.",
        "TOTP_ENABLED": "Two-factor authentication was turned on.",
        "TOTP_DISABLED": "Two-factor authentication was turned off.",
        "TOTP_RECOVERY_REGENERATED": "New recovery codes replaced the old ones.",
        "TOTP_FAILED": "A wrong two-factor code was given.",
        "RECOVERY_CODE_USED": "A recovery code was used instead of a TOTP code.",
        "ADMIN_USER_UPDATED": "An admin changed a user's status or role.",
        "ADMIN_PASSWORD_SET": "An admin set a user's password.",
        "ADMIN_USER_UNLOCKED": "An admin cleared a user's sign-in throttling.",
        "CODE_GUESS_BLOCKED": "Too many wrong codes: further guesses are blocked for a while.",
        "API_KEY_CREATED": "An API key was created.",
        "API_KEY_UPDATED": "An API key's settings changed (or it was turned off or on).",
        "API_KEY_ROTATED": "An API key got a new secret.",
        "API_KEY_REVOKED": "An API key was revoked.",
        "PASSWORD_SET": "A password was set on an account that had none.",
        "OAUTH_LOGIN": "A sign-in through an OAuth provider.",
        "OAUTH_LOGIN_REFUSED": "A provider sign-in was refused (e.g. an unverified e-mail).",
        "OAUTH_LINKED": "A provider account was linked.",
        "OAUTH_UNLINKED": "A provider account was unlinked.",
        "BILLING_BALANCE_ADJUSTED": "An admin credited, debited or set a wallet.",
        "BILLING_PLAN_SAVED": "A plan was created or changed.",
        "BILLING_PLAN_DELETED": "A plan stopped being offered.",
        "BILLING_PLAN_GRANTED": "An admin put a user on a plan.",
        "BILLING_CURRENCY_UPDATED": "The currency settings changed.",
        "BILLING_ORDER_REFUNDED": "An order's refund was recorded.",
        "BILLING_LATE_PAYMENT_HONOURED": "A payment that arrived after its order expired "
        "was credited.",
        "BILLING_PAYMENT_CHANNELS_UPDATED": "The payment channel settings changed.",
        "BILLING_ORDER_RECONCILED": "An admin asked the provider about an order.",
        "POOL_CREDENTIAL_ADDED": "An upstream account was added to the pool.",
        "POOL_CREDENTIAL_REMOVED": "A pool credential was removed.",
        "POOL_CREDENTIAL_STATUS_SET": "A pool credential was turned on or off.",
        "POOL_CREDENTIAL_REFRESHED": "A pool credential's login was renewed.",
        "POOL_CREDENTIAL_TESTED": "A pool credential's login was checked upstream.",
    },
)


@strawberry.type(description="One security event: who did what to which account.")
class AuditEvent:
    id: strawberry.ID = strawberry.field(description="The event's id.")
    action_kind: AuditAction = strawberry.field(description="What happened.")  # type: ignore[valid-type]
    action: str = strawberry.field(
        description="What happened, as the action's string (`login.succeeded`).",
        deprecation_reason="Use `actionKind`, an enum.",
    )
    created_at: datetime = strawberry.field(description="When it happened.")
    actor: str | None = strawberry.field(
        description="Who did it: `user:<id>`, `admin-token`, or null (anonymous)."
    )
    subject_user_id: str | None = strawberry.field(
        description="The account it concerns, when there is one."
    )
    client_ip: str | None = strawberry.field(description="The client address of the request.")
    user_agent: str | None = strawberry.field(description="The client's User-Agent.")
    details: JSON = strawberry.field(
        description="What else was recorded (an object of strings; never a secret)."
    )

    @classmethod
    def from_domain(cls, event: audit.AuditEvent, ctx: object = None) -> AuditEvent:
        return cls(
            id=strawberry.ID(ids.to_global_id("AuditEvent", event.id)),
            action_kind=event.action,
            action=event.action.value,
            created_at=event.created_at,
            actor=event.actor,
            subject_user_id=event.subject_user_id,
            client_ip=event.client_ip,
            user_agent=event.user_agent,
            details=JSON(dict(event.details)),
        )


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEvent


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    nodes: list[AuditEvent]
    page_info: PageInfo
    total_count: int


@strawberry.input(description="Which audit events to list (every given condition must hold).")
class AuditEventFilter:
    action_kind: AuditAction | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only events of this action."
    )
    action: str | None = strawberry.field(
        default=None,
        description="Only events of this action, as its string (`login.succeeded`).",
        deprecation_reason="Use `actionKind`, an enum.",
    )
    user_id: str | None = strawberry.field(default=None, description="The subject user.")
    actor: str | None = strawberry.field(
        default=None, description="Only events by this actor (`user:<id>` or `admin-token`)."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only events at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only events before this time."
    )

    def to_filter(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            action=self.action_kind
            or (audit.AuditAction.parse(self.action) if self.action else None),
            subject_user_id=self.user_id or None,
            actor=self.actor or None,
            since=self.since,
            until=self.until,
        )
