"""Activation links: accounts registered while activation is required stay
``pending_email`` until the link is opened (reference §3.1, fixed statuses)."""

from __future__ import annotations

import logging

from domain.accounts.email_policy import ActivationMode, EmailFlowsPolicy
from domain.accounts.emails import normalize_email
from domain.accounts.errors import (
    AccountAlreadyActive,
    AccountLocked,
    ActivationTokenExpired,
    ActivationTokenInvalid,
    ActivationTokenUsed,
    EmailNotConfigured,
)
from domain.accounts.model import OneTimeToken, TokenPurpose, User, UserStatus
from domain.accounts.ports import OneTimeTokenStore, UnitOfWorkFactory
from domain.accounts.tokens import guard_token_guesses, token_guess_rule
from domain.clock import Clock
from domain.ids import new_token, token_hash
from domain.mail import templates
from domain.mail.outbox import MailOutbox
from domain.mail.ports import Mailer
from domain.security.audit import AuditLog
from domain.security.model import AuditAction
from domain.security.ports import ThrottleStore
from domain.security.throttle import enforce_windows

log = logging.getLogger("karpov.activation")


def token_link(base: str, token: str) -> str:
    """The original's rule: append to ``…?token=``, else add ``token=`` as a parameter."""
    if base.endswith("="):
        return base + token
    return f"{base}{'&' if '?' in base else '?'}token={token}"


class Activation:
    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        tokens: OneTimeTokenStore,
        throttle: ThrottleStore,
        mailer: Mailer | None,
        outbox: MailOutbox,
        policy: EmailFlowsPolicy,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._outbox = outbox  # worker (issue 17): links go through the mail outbox
        self._uow = uow
        self._tokens = tokens
        self._throttle = throttle
        self._mailer = mailer
        self._policy = policy
        self._clock = clock
        self._audit = audit

    @property
    def required(self) -> bool:
        return self._policy.activation is ActivationMode.REQUIRED

    async def send_link(self, user: User) -> bool:
        """Mail a fresh activation link through the outbox; ``False`` (logged) when it
        could not be sent at once (the outbox job retries it)."""
        if self._mailer is None:
            return False
        token = new_token()
        now = self._clock.now()
        await self._tokens.add(
            OneTimeToken(
                token_hash=token_hash(token),
                purpose=TokenPurpose.ACTIVATION,
                user_id=user.id,
                created_at=now,
                expires_at=now + self._policy.activation_ttl,
            )
        )
        hours = int(self._policy.activation_ttl.total_seconds() // 3600)
        message = templates.activation_link(
            self._policy.app_name, user.email, token_link(self._policy.activation_url, token), hours
        )
        if not await self._outbox.enqueue_and_send(message):
            log.warning("activation mail not sent yet", extra={"user_id": user.id})
            return False
        return True

    async def activate(
        self, token: str, *, client_ip: str | None, user_agent: str | None = None
    ) -> User:
        await self._guard(client_ip, user_agent)
        hashed = token_hash(token or "")
        record = await self._tokens.get(hashed, TokenPurpose.ACTIVATION) if token else None
        if record is None:
            raise ActivationTokenInvalid(field="token")
        await self._throttle.reset(token_guess_rule(client_ip).key)
        if record.used_at is not None:
            raise ActivationTokenUsed(field="token")
        now = self._clock.now()
        if record.expires_at <= now:
            raise ActivationTokenExpired(field="token")
        async with self._uow() as uow:
            user = await uow.users.get(record.user_id)
        if user is None:
            raise ActivationTokenInvalid(field="token")
        if user.status is UserStatus.ACTIVE:
            await self._tokens.use(hashed, TokenPurpose.ACTIVATION, now)
            raise AccountAlreadyActive()
        if user.status is not UserStatus.PENDING_EMAIL:
            raise AccountLocked()
        # Use the token before touching the user (its own short transaction: SQLite allows
        # one writer at a time, so it must not run inside the user's unit of work).
        if not await self._tokens.use(hashed, TokenPurpose.ACTIVATION, now):
            raise ActivationTokenUsed(field="token")
        async with self._uow() as uow:
            current = await uow.users.get_for_update(user.id)
            if current is None:
                raise ActivationTokenInvalid(field="token")
            if current.status is UserStatus.PENDING_EMAIL:
                user = current.with_changes(status=UserStatus.ACTIVE, updated_at=now)
                await uow.users.update(user)
                await uow.commit()
            else:
                user = current
        await self._audit.record(
            AuditAction.EMAIL_VERIFIED,
            subject_user_id=user.id,
            client_ip=client_ip,
            user_agent=user_agent,
        )
        return user

    async def resend(self, email: str, *, client_ip: str | None) -> int:
        """Answer the same cooldown whether or not the e-mail has a pending account."""
        email = normalize_email(email)
        self._policy.check_domain(email)
        if self._mailer is None or not self._policy.mail_enabled:
            raise EmailNotConfigured()
        p = self._policy
        per_address, per_ip = p.mail_limits("activation", email, client_ip)
        await enforce_windows(self._throttle, per_address + per_ip, self._clock.now().timestamp())
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
        if user is not None and user.status is UserStatus.PENDING_EMAIL:
            await self._tokens.revoke_for_user(user.id, TokenPurpose.ACTIVATION, self._clock.now())
            await self.send_link(user)
        return p.code_cooldown_seconds

    async def _guard(self, client_ip: str | None, user_agent: str | None) -> None:
        await guard_token_guesses(
            self._throttle, self._audit, client_ip=client_ip, user_agent=user_agent,
            now=self._clock.now().timestamp(),
        )  # fmt: skip
