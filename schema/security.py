"""GraphQL types of the e-mail flows and the audit log."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from domain.accounts import commands
from domain.security import model as audit
from resolvers import ids
from schema.accounts import PageInfo, User
from schema.errors import UserError


@strawberry.type(description="One security event: who did what to which account.")
class AuditEvent:
    id: strawberry.ID
    action: str
    created_at: datetime
    actor: str | None
    subject_user_id: str | None
    client_ip: str | None
    user_agent: str | None
    details: JSON

    @classmethod
    def from_domain(cls, event: audit.AuditEvent, ctx: object = None) -> AuditEvent:
        return cls(
            id=strawberry.ID(ids.to_global_id("AuditEvent", event.id)),
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


@strawberry.input
class AuditEventFilter:
    action: str | None = None
    user_id: str | None = strawberry.field(default=None, description="The subject user.")
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def to_filter(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            action=audit.AuditAction.parse(self.action) if self.action else None,
            subject_user_id=self.user_id or None,
            actor=self.actor or None,
            since=self.since,
            until=self.until,
        )


@strawberry.input
class EmailCodeSendInput:
    email: str
    purpose: str | None = "register"

    def to_command(self) -> commands.SendEmailCode:
        return commands.SendEmailCode(self.email, self.purpose)


@strawberry.input
class EmailVerifyInput:
    token: str


@strawberry.input
class EmailInput:
    email: str


@strawberry.input
class PasswordResetInput:
    token: str
    new_password: str

    def to_command(self) -> commands.ResetPassword:
        return commands.ResetPassword(self.token, self.new_password)


@strawberry.input
class AdminUserUnlockInput:
    user_id: strawberry.ID


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


@strawberry.type
class AdminUserUnlockPayload:
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
