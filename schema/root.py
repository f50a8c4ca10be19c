"""The root Query and Mutation types: thin bindings of GraphQL fields to resolvers.

Mutations catch ``DomainError`` into their payload's ``errors``; queries let it propagate
(``DomainErrorExtension`` turns it into ``extensions.code``)."""

from __future__ import annotations

import base64
from typing import TypeVar

import strawberry

from domain.errors import DomainError, InvalidInput
from resolvers import accounts, admin, oauth, runtime, twofactor
from schema.accounts import (
    AccountLoginInput,
    AccountLoginPayload,
    AccountLogoutInput,
    AccountLogoutPayload,
    AccountPasswordChangeInput,
    AccountPasswordChangePayload,
    AccountPasswordSetInput,
    AccountPasswordSetPayload,
    AccountRegisterInput,
    AccountRegisterPayload,
    AdminUserFilter,
    AdminUserPasswordSetInput,
    AdminUserPasswordSetPayload,
    AdminUserUpdateInput,
    AdminUserUpdatePayload,
    Node,
    PageInfo,
    Session,
    SessionRevokeInput,
    SessionRevokeOthersPayload,
    SessionRevokePayload,
    User,
    UserConnection,
    UserEdge,
)
from schema.apikeys_root import ApiKeyMutations, ApiKeyQueries
from schema.info import CtxInfo
from schema.oauth import (
    OAuthIdentity,
    OAuthIntent,
    OAuthProvider,
    OAuthUnlinkInput,
    OAuthUnlinkPayload,
)
from schema.payloads import payload
from schema.runtime import RuntimeConfig
from schema.security import (
    AdminUserUnlockInput,
    AdminUserUnlockPayload,
    AuditEvent,
    AuditEventConnection,
    AuditEventEdge,
    AuditEventFilter,
    EmailActivationResendPayload,
    EmailCodeSendInput,
    EmailCodeSendPayload,
    EmailInput,
    EmailVerifyInput,
    EmailVerifyPayload,
    PasswordResetInput,
    PasswordResetPayload,
    PasswordResetRequestPayload,
)
from schema.twofactor import (
    TotpCodeInput,
    TotpDisablePayload,
    TotpEnableConfirmPayload,
    TotpEnablePayload,
    TotpRecoveryCodesRegeneratePayload,
    TotpStatus,
    TotpVerifyInput,
    TotpVerifyPayload,
)

MAX_PAGE = 100
P = TypeVar("P")
R = TypeVar("R")


def _offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _page_window(first: int, after: str | None) -> int:
    """Validate ``first`` and return the offset that ``after`` points past."""
    if first < 1 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", field="first")
    return _cursor_offset(after)


def _page_info(offset: int, count: int, total: int) -> PageInfo:
    return PageInfo(
        has_next_page=offset + count < total,
        has_previous_page=offset > 0,
        start_cursor=_offset_cursor(offset) if count else None,
        end_cursor=_offset_cursor(offset + count - 1) if count else None,
    )


def _cursor_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit() and len(value) <= 9:
            return int(value) + 1
    except ValueError:
        pass
    raise InvalidInput("after is not a valid cursor", field="after")


@strawberry.type
class Query(ApiKeyQueries):
    @strawberry.field(description="The signed-in user. Fails with UNAUTHENTICATED if none.")
    async def viewer(self, info: CtxInfo) -> User:
        return User.from_domain(await accounts.viewer(info.context))

    @strawberry.field(description="The signed-in user's active sessions, newest first.")
    async def sessions(self, info: CtxInfo) -> list[Session]:
        ctx = info.context
        return [Session.from_domain(s, ctx) for s in await accounts.sessions(ctx)]

    @strawberry.field(description="The viewer's two-factor status.")
    async def totp_status(self, info: CtxInfo) -> TotpStatus:
        return TotpStatus.from_domain(await twofactor.totp_status(info.context))

    @strawberry.field(description="Public runtime configuration (no secrets).")
    async def runtime_config(self, info: CtxInfo) -> RuntimeConfig:
        return RuntimeConfig.from_domain(await runtime.runtime_config(info.context))

    @strawberry.field(description="Configured sign-in providers (Linux.do, OpenID Connect).")
    async def oauth_providers(self, info: CtxInfo) -> list[OAuthProvider]:
        return [OAuthProvider.from_domain(p) for p in await oauth.oauth_providers(info.context)]

    @strawberry.field(
        description="Start a provider sign-in: returns the provider URL to open in this "
        "browser, and sets the cookie that binds the flow to it (so call it with "
        "credentials). `bind` links the provider to the signed-in viewer; `next` is a "
        "same-site path or a URL on the frontend origin."
    )
    async def oauth_start_url(
        self,
        info: CtxInfo,
        provider: str,
        intent: OAuthIntent = OAuthIntent.LOGIN,
        next: str | None = None,
    ) -> str:
        return await oauth.oauth_start_url(info.context, provider, intent.value, next)

    @strawberry.field(description="The viewer's linked provider accounts (never their tokens).")
    async def oauth_identities(self, info: CtxInfo) -> list[OAuthIdentity]:
        identities = await oauth.oauth_identities(info.context)
        return [OAuthIdentity.from_domain(i) for i in identities]

    @strawberry.field(description="Fetch an object by its global id.")
    async def node(self, info: CtxInfo, id: strawberry.ID) -> Node | None:
        ctx = info.context
        if ctx.principal.user_id is not None:
            me = User.from_domain(await accounts.viewer(ctx))
            if me.id == id:
                return me
            for session in await accounts.sessions(ctx):
                node = Session.from_domain(session, ctx)
                if node.id == id:
                    return node
            for identity in await oauth.oauth_identities(ctx):
                found = OAuthIdentity.from_domain(identity)
                if found.id == id:
                    return found
        try:
            return User.from_domain(await admin.admin_user(ctx, id))
        except DomainError:
            return None

    @strawberry.field(description="Users, newest first (admin).")
    async def admin_users(
        self,
        info: CtxInfo,
        filter: AdminUserFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> UserConnection:
        offset = _page_window(first, after)
        flt = (filter or AdminUserFilter()).to_filter()
        page = await admin.admin_users(info.context, flt, limit=first, offset=offset)
        nodes = [User.from_domain(u) for u in page.items]
        edges = [UserEdge(cursor=_offset_cursor(offset + i), node=n) for i, n in enumerate(nodes)]
        return UserConnection(
            edges=edges,
            nodes=nodes,
            total_count=page.total,
            page_info=_page_info(offset, len(nodes), page.total),
        )

    @strawberry.field(description="The security audit log, newest first (admin).")
    async def admin_audit_events(
        self,
        info: CtxInfo,
        filter: AuditEventFilter | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> AuditEventConnection:
        offset = _page_window(first, after)
        flt = (filter or AuditEventFilter()).to_filter()
        page = await admin.admin_audit_events(info.context, flt, limit=first, offset=offset)
        nodes = [AuditEvent.from_domain(e) for e in page.items]
        edges = [
            AuditEventEdge(cursor=_offset_cursor(offset + i), node=n) for i, n in enumerate(nodes)
        ]
        return AuditEventConnection(
            edges=edges,
            nodes=nodes,
            total_count=page.total,
            page_info=_page_info(offset, len(nodes), page.total),
        )

    @strawberry.field(description="One user by id (admin).")
    async def admin_user(self, info: CtxInfo, id: strawberry.ID) -> User:
        return User.from_domain(await admin.admin_user(info.context, id))


@strawberry.type
class Mutation(ApiKeyMutations):
    @strawberry.mutation
    async def account_register(
        self, info: CtxInfo, input: AccountRegisterInput
    ) -> AccountRegisterPayload:
        ctx = info.context
        return await payload(
            AccountRegisterPayload, ctx, accounts.account_register(ctx, input.to_command())
        )

    @strawberry.mutation(description="Sign in; sets the `sid` cookie and returns the token.")
    async def account_login(self, info: CtxInfo, input: AccountLoginInput) -> AccountLoginPayload:
        ctx = info.context
        return await payload(
            AccountLoginPayload, ctx, accounts.account_login(ctx, input.to_command())
        )

    @strawberry.mutation
    async def account_logout(
        self, info: CtxInfo, input: AccountLogoutInput | None = None
    ) -> AccountLogoutPayload:
        ctx = info.context
        sid = input.sid if input is not None else None
        return await payload(AccountLogoutPayload, ctx, accounts.account_logout(ctx, sid))

    @strawberry.mutation(description="Change the password; ends every other session.")
    async def account_password_change(
        self, info: CtxInfo, input: AccountPasswordChangeInput
    ) -> AccountPasswordChangePayload:
        ctx = info.context
        call = accounts.account_password_change(ctx, input.to_command())
        return await payload(AccountPasswordChangePayload, ctx, call)

    @strawberry.mutation(
        description="Set a password on an account that has none (created by a provider sign-in)."
    )
    async def account_password_set(
        self, info: CtxInfo, input: AccountPasswordSetInput
    ) -> AccountPasswordSetPayload:
        ctx = info.context
        call = accounts.account_password_set(ctx, input.new_password)
        return await payload(AccountPasswordSetPayload, ctx, call)

    @strawberry.mutation(
        description="Unlink a provider; refused while it is the only way to sign in."
    )
    async def oauth_unlink(self, info: CtxInfo, input: OAuthUnlinkInput) -> OAuthUnlinkPayload:
        ctx = info.context
        return await payload(OAuthUnlinkPayload, ctx, oauth.oauth_unlink(ctx, input.provider))

    @strawberry.mutation
    async def session_revoke(
        self, info: CtxInfo, input: SessionRevokeInput
    ) -> SessionRevokePayload:
        ctx = info.context
        call = accounts.session_revoke(ctx, input.session_id)
        return await payload(SessionRevokePayload, ctx, call)

    @strawberry.mutation(description="End every session of the viewer except this one.")
    async def session_revoke_others(self, info: CtxInfo) -> SessionRevokeOthersPayload:
        ctx = info.context
        return await payload(SessionRevokeOthersPayload, ctx, accounts.session_revoke_others(ctx))

    @strawberry.mutation
    async def admin_user_update(
        self, info: CtxInfo, input: AdminUserUpdateInput
    ) -> AdminUserUpdatePayload:
        ctx = info.context
        call = admin.admin_user_update(ctx, input.to_command())
        return await payload(AdminUserUpdatePayload, ctx, call)

    @strawberry.mutation
    async def admin_user_password_set(
        self, info: CtxInfo, input: AdminUserPasswordSetInput
    ) -> AdminUserPasswordSetPayload:
        ctx = info.context
        call = admin.admin_user_password_set(ctx, input.to_command())
        return await payload(AdminUserPasswordSetPayload, ctx, call)

    @strawberry.mutation(description="Start enrolling an authenticator (pending for 10 min).")
    async def totp_enable(self, info: CtxInfo) -> TotpEnablePayload:
        ctx = info.context
        return await payload(TotpEnablePayload, ctx, twofactor.totp_enable(ctx))

    @strawberry.mutation(description="Confirm enrolment with a code; returns recovery codes.")
    async def totp_enable_confirm(
        self, info: CtxInfo, input: TotpCodeInput
    ) -> TotpEnableConfirmPayload:
        ctx = info.context
        call = twofactor.totp_enable_confirm(ctx, input.code)
        return await payload(TotpEnableConfirmPayload, ctx, call)

    @strawberry.mutation(description="Complete a password login that needs a second factor.")
    async def totp_verify(self, info: CtxInfo, input: TotpVerifyInput) -> TotpVerifyPayload:
        ctx = info.context
        return await payload(TotpVerifyPayload, ctx, twofactor.totp_verify(ctx, input.to_command()))

    @strawberry.mutation(description="Turn two-factor off (needs a TOTP or recovery code).")
    async def totp_disable(self, info: CtxInfo, input: TotpCodeInput) -> TotpDisablePayload:
        ctx = info.context
        return await payload(TotpDisablePayload, ctx, twofactor.totp_disable(ctx, input.code))

    @strawberry.mutation(description="Replace the recovery codes (needs a TOTP code).")
    async def totp_recovery_codes_regenerate(
        self, info: CtxInfo, input: TotpCodeInput
    ) -> TotpRecoveryCodesRegeneratePayload:
        ctx = info.context
        call = twofactor.totp_recovery_codes_regenerate(ctx, input.code)
        return await payload(TotpRecoveryCodesRegeneratePayload, ctx, call)

    @strawberry.mutation(description="Mail a registration code to an address.")
    async def email_code_send(
        self, info: CtxInfo, input: EmailCodeSendInput
    ) -> EmailCodeSendPayload:
        ctx = info.context
        call = accounts.email_code_send(ctx, input.to_command())
        return await payload(EmailCodeSendPayload, ctx, call)

    @strawberry.mutation(description="Activate an account with the token from its e-mail.")
    async def email_verify(self, info: CtxInfo, input: EmailVerifyInput) -> EmailVerifyPayload:
        ctx = info.context
        return await payload(EmailVerifyPayload, ctx, accounts.email_verify(ctx, input.token))

    @strawberry.mutation(description="Mail a new activation link.")
    async def email_activation_resend(
        self, info: CtxInfo, input: EmailInput
    ) -> EmailActivationResendPayload:
        ctx = info.context
        call = accounts.email_activation_resend(ctx, input.email)
        return await payload(EmailActivationResendPayload, ctx, call)

    @strawberry.mutation(description="Mail a password reset link (same answer for any address).")
    async def password_reset_request(
        self, info: CtxInfo, input: EmailInput
    ) -> PasswordResetRequestPayload:
        ctx = info.context
        call = accounts.password_reset_request(ctx, input.email)
        return await payload(PasswordResetRequestPayload, ctx, call)

    @strawberry.mutation(description="Set a new password from a reset link; ends all sessions.")
    async def password_reset(
        self, info: CtxInfo, input: PasswordResetInput
    ) -> PasswordResetPayload:
        ctx = info.context
        call = accounts.password_reset(ctx, input.to_command())
        return await payload(PasswordResetPayload, ctx, call)

    @strawberry.mutation(description="Lift a user's sign-in back-off (admin).")
    async def admin_user_unlock(
        self, info: CtxInfo, input: AdminUserUnlockInput
    ) -> AdminUserUnlockPayload:
        ctx = info.context
        call = admin.admin_user_unlock(ctx, input.user_id)
        return await payload(AdminUserUnlockPayload, ctx, call)
