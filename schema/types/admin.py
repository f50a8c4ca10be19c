"""GraphQL types of account administration: user and audit-log connections, filters,
and the admin mutations' inputs and payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from domain.accounts import commands, model
from domain.security import model as audit
from resolvers import ids
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
class AdminUserUnlockInput:
    user_id: strawberry.ID


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
