"""GraphQL fields of account administration (admin and superadmin): users, their sign-in
back-off and the audit log."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import admin
from schema.info import CtxInfo
from schema.pagination import connection, page_window
from schema.payloads import payload
from schema.types.accounts import User
from schema.types.admin import (
    AdminUserFilter,
    AdminUserPasswordSetInput,
    AdminUserPasswordSetPayload,
    AdminUserUnlockInput,
    AdminUserUnlockPayload,
    AdminUserUpdateInput,
    AdminUserUpdatePayload,
    AuditEvent,
    AuditEventConnection,
    AuditEventEdge,
    AuditEventFilter,
    UserConnection,
    UserEdge,
)


@strawberry.type
class AdminQueries:
    @strawberry.field(description="Users, newest first (admin).")
    async def admin_users(
        self,
        info: CtxInfo,
        filter: Annotated[
            AdminUserFilter | None,
            strawberry.argument(description="Which users; every user when null."),
        ] = None,
        first: int = 50,
        after: str | None = None,
    ) -> UserConnection | None:
        offset = page_window(first, after)
        flt = (filter or AdminUserFilter()).to_filter()
        page = await admin.admin_users(info.context, flt, limit=first, offset=offset)
        nodes = [User.from_domain(u) for u in page.items]
        return connection(UserConnection, UserEdge, nodes, page, offset)

    @strawberry.field(description="The security audit log, newest first (admin).")
    async def admin_audit_events(
        self,
        info: CtxInfo,
        filter: Annotated[
            AuditEventFilter | None,
            strawberry.argument(description="Which events; every event when null."),
        ] = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditEventConnection | None:
        offset = page_window(first, after)
        flt = (filter or AuditEventFilter()).to_filter()
        page = await admin.admin_audit_events(info.context, flt, limit=first, offset=offset)
        nodes = [AuditEvent.from_domain(e) for e in page.items]
        return connection(AuditEventConnection, AuditEventEdge, nodes, page, offset)

    @strawberry.field(description="One user by id (admin).")
    async def admin_user(self, info: CtxInfo, id: strawberry.ID) -> User | None:
        return User.from_domain(await admin.admin_user(info.context, id))


@strawberry.type
class AdminMutations:
    @strawberry.mutation(description="Change a user's status or role (admin; roles: superadmin).")
    async def admin_user_update(
        self, info: CtxInfo, input: AdminUserUpdateInput
    ) -> AdminUserUpdatePayload:
        ctx = info.context
        call = admin.admin_user_update(ctx, input.to_command())
        return await payload(AdminUserUpdatePayload, ctx, call)

    @strawberry.mutation(
        description="Set a user's password (superadmin); ends the user's sessions."
    )
    async def admin_user_password_set(
        self, info: CtxInfo, input: AdminUserPasswordSetInput
    ) -> AdminUserPasswordSetPayload:
        ctx = info.context
        call = admin.admin_user_password_set(ctx, input.to_command())
        return await payload(AdminUserPasswordSetPayload, ctx, call)

    @strawberry.mutation(description="Lift a user's sign-in back-off (admin).")
    async def admin_user_unlock(
        self, info: CtxInfo, input: AdminUserUnlockInput
    ) -> AdminUserUnlockPayload:
        ctx = info.context
        call = admin.admin_user_unlock(ctx, input.user_id)
        return await payload(AdminUserUnlockPayload, ctx, call)
