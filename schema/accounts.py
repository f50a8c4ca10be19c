"""GraphQL fields of the accounts context: the viewer, sessions, sign-in, passwords and
the e-mail flows. Thin bindings: an input converts itself into a domain command, the
resolver (``resolvers/accounts.py``) runs it, and the domain result becomes a GraphQL
type (queries) or fills a payload (mutations, whose domain errors go into ``errors``)."""

from __future__ import annotations

import strawberry

from resolvers import accounts
from schema.info import CtxInfo
from schema.payloads import payload
from schema.types.accounts import (
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
    EmailActivationResendInput,
    EmailActivationResendPayload,
    EmailCodeSendInput,
    EmailCodeSendPayload,
    EmailVerifyInput,
    EmailVerifyPayload,
    PasswordResetInput,
    PasswordResetPayload,
    PasswordResetRequestInput,
    PasswordResetRequestPayload,
    Session,
    SessionRevokeInput,
    SessionRevokeOthersInput,
    SessionRevokeOthersPayload,
    SessionRevokePayload,
    User,
)


@strawberry.type
class AccountQueries:
    @strawberry.field(
        description="The signed-in user; null (with an UNAUTHENTICATED error) when signed out."
    )
    async def viewer(self, info: CtxInfo) -> User | None:
        return User.from_domain(await accounts.viewer(info.context))

    @strawberry.field(
        description="The signed-in user's active sessions, newest first.",
        deprecation_reason="Use `viewer { sessions(first: …) }`: a connection with cursors.",
    )
    async def sessions(self, info: CtxInfo) -> list[Session] | None:
        ctx = info.context
        return [Session.from_domain(s, ctx) for s in await accounts.sessions(ctx)]


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Register an account with an e-mail address and a password.")
    async def account_register(
        self, info: CtxInfo, input: AccountRegisterInput
    ) -> AccountRegisterPayload:
        ctx = info.context
        call = accounts.account_register(ctx, input.to_command())
        return await payload(AccountRegisterPayload, ctx, call)

    @strawberry.mutation(description="Sign in; sets the `sid` cookie and returns the token.")
    async def account_login(self, info: CtxInfo, input: AccountLoginInput) -> AccountLoginPayload:
        ctx = info.context
        call = accounts.account_login(ctx, input.to_command())
        return await payload(AccountLoginPayload, ctx, call)

    @strawberry.mutation(description="End a session (this request's by default).")
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

    @strawberry.mutation(description="End one of my sessions.")
    async def session_revoke(
        self, info: CtxInfo, input: SessionRevokeInput
    ) -> SessionRevokePayload:
        ctx = info.context
        call = accounts.session_revoke(ctx, input.session_id)
        return await payload(SessionRevokePayload, ctx, call)

    @strawberry.mutation(description="End every session of the viewer except this one.")
    async def session_revoke_others(
        self, info: CtxInfo, input: SessionRevokeOthersInput | None = None
    ) -> SessionRevokeOthersPayload:
        ctx = info.context
        done = await payload(SessionRevokeOthersPayload, ctx, accounts.session_revoke_others(ctx))
        done.client_mutation_id = input.client_mutation_id if input else None
        return done

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
        self, info: CtxInfo, input: EmailActivationResendInput
    ) -> EmailActivationResendPayload:
        ctx = info.context
        call = accounts.email_activation_resend(ctx, input.email)
        return await payload(EmailActivationResendPayload, ctx, call)

    @strawberry.mutation(description="Mail a password reset link (same answer for any address).")
    async def password_reset_request(
        self, info: CtxInfo, input: PasswordResetRequestInput
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
