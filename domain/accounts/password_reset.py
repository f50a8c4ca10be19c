"""Password reset by e-mail (the original answered 501): a single-use link valid for 30
minutes; setting the new password ends every session of the user."""

from __future__ import annotations

import logging

from domain.accounts.activation import token_link
from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.email_policy import EmailFlowsPolicy
from domain.accounts.emails import normalize_email
from domain.accounts.errors import ResetTokenInvalid
from domain.accounts.model import OneTimeToken, TokenPurpose, UserStatus
from domain.accounts.ports import OneTimeTokenStore, PasswordHasher, SessionStore, UnitOfWorkFactory
from domain.accounts.service import PasswordRules
from domain.accounts.tokens import guard_token_guesses, token_guess_rule
from domain.clock import Clock
from domain.errors import InvalidInput
from domain.ids import new_token, token_hash
from domain.mail import templates
from domain.mail.outbox import MailOutbox
from domain.mail.ports import Mailer
from domain.security.audit import AuditLog
from domain.security.model import AuditAction
from domain.security.ports import ThrottleStore
from domain.security.throttle import enforce_windows

log = logging.getLogger("karpov.password_reset")


class PasswordReset:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        tokens: OneTimeTokenStore,
        sessions: SessionStore,
        hasher: PasswordHasher,
        rules: PasswordRules,
        throttle: ThrottleStore,
        mailer: Mailer | None,
        outbox: MailOutbox,
        policy: EmailFlowsPolicy,
        clock: Clock,
        audit: AuditLog,
        cache: AuthenticationCache,
    ) -> None:
        self._uow = uow
        self._tokens = tokens
        self._sessions = sessions
        self._hasher = hasher
        self._rules = rules
        self._throttle = throttle
        self._mailer = mailer
        self._outbox = outbox  # worker (issue 17): links go through the mail outbox
        self._policy = policy
        self._clock = clock
        self._audit = audit
        self._cache = cache

    async def request(
        self, email: str, *, client_ip: str | None, user_agent: str | None = None
    ) -> None:
        """Always the same answer, whether or not the e-mail has an account. Limits per
        address are silent (they would reveal it); the per-IP limit answers 429."""
        try:
            email = normalize_email(email)
        except InvalidInput:
            return
        now = self._clock.now().timestamp()
        per_address, per_ip = self._policy.mail_limits("reset", email, client_ip)
        await enforce_windows(self._throttle, per_ip, now)  # per-IP limits reveal nothing
        email_wait = await self._throttle.hit(per_address, now)  # silent: it would reveal
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
        if email_wait > 0 or user is None or user.status.blocks_sign_in or self._mailer is None:
            return
        token = new_token()
        created = self._clock.now()
        await self._tokens.revoke_for_user(user.id, TokenPurpose.PASSWORD_RESET, created)
        await self._tokens.add(
            OneTimeToken(
                token_hash=token_hash(token),
                purpose=TokenPurpose.PASSWORD_RESET,
                user_id=user.id,
                created_at=created,
                expires_at=created + self._policy.reset_ttl,
            )
        )
        minutes = int(self._policy.reset_ttl.total_seconds() // 60)
        link = token_link(self._policy.reset_url, token)
        message = templates.password_reset_link(self._policy.app_name, user.email, link, minutes)
        if not await self._outbox.enqueue_and_send(message):
            log.warning("password reset mail not sent yet", extra={"user_id": user.id})
        await self._audit.record(
            AuditAction.PASSWORD_RESET_REQUESTED,
            subject_user_id=user.id,
            client_ip=client_ip,
            user_agent=user_agent,
        )

    async def reset(
        self,
        token: str,
        new_password: str,
        *,
        client_ip: str | None,
        user_agent: str | None = None,
    ) -> None:
        rule = token_guess_rule(client_ip)
        await guard_token_guesses(
            self._throttle, self._audit, client_ip=client_ip, user_agent=user_agent,
            now=self._clock.now().timestamp(),
        )  # fmt: skip
        hashed = token_hash(token or "")
        record = await self._tokens.get(hashed, TokenPurpose.PASSWORD_RESET) if token else None
        now = self._clock.now()
        if record is None or record.used_at is not None or record.expires_at <= now:
            raise ResetTokenInvalid(field="token")
        await self._throttle.reset(rule.key)
        await self._rules.check(new_password, field="newPassword")
        password_hash = await self._hasher.hash(new_password)
        # Spend the token first, in its own short transaction (SQLite has one writer).
        if not await self._tokens.use(hashed, TokenPurpose.PASSWORD_RESET, now):
            raise ResetTokenInvalid(field="token")
        async with self._uow() as uow:
            user = await uow.users.get_for_update(record.user_id)
            if user is None:
                raise ResetTokenInvalid(field="token")
            changes: dict[str, object] = {"password_hash": password_hash, "updated_at": now}
            if user.status is UserStatus.PENDING_EMAIL:
                changes["status"] = UserStatus.ACTIVE  # the link proves the address
            await uow.users.update(user.with_changes(**changes))
            await uow.commit()
        self._cache.forget_user(user.id)
        await self._sessions.delete_for_user(user.id)
        await self._audit.record(
            AuditAction.PASSWORD_RESET,
            subject_user_id=user.id,
            client_ip=client_ip,
            user_agent=user_agent,
        )
