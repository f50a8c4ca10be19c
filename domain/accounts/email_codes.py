"""Six-digit e-mail verification codes for registration (reference §3.1), with the
original's cooldown and hourly limits, and at most five guesses per code."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from domain.accounts.email_policy import EmailFlowsPolicy
from domain.accounts.emails import normalize_email
from domain.accounts.errors import EmailCodeInvalid, EmailCodeRequired, EmailNotConfigured
from domain.accounts.model import CodeCheck, StoredEmailCode
from domain.accounts.ports import EmailCodeStore
from domain.clock import Clock
from domain.mail import templates
from domain.mail.ports import Mailer
from domain.security.audit import AuditLog
from domain.security.model import AuditAction
from domain.security.ports import ThrottleStore
from domain.security.throttle import enforce_windows

log = logging.getLogger("karpov.email_codes")


@dataclass(frozen=True, slots=True)
class CodeSent:
    cooldown_seconds: int
    expires_in_seconds: int


class EmailCodes:
    def __init__(
        self,
        *,
        store: EmailCodeStore,
        throttle: ThrottleStore,
        mailer: Mailer | None,
        policy: EmailFlowsPolicy,
        hash_key: bytes,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._store = store
        self._throttle = throttle
        self._mailer = mailer
        self._policy = policy
        self._key = hash_key
        self._clock = clock
        self._audit = audit

    def _hash(self, email: str, code: str) -> str:
        return hmac.new(self._key, f"{email}:{code}".encode(), hashlib.sha256).hexdigest()

    async def send(self, email: str, *, client_ip: str | None) -> CodeSent:
        email = normalize_email(email)
        self._policy.check_domain(email)
        if self._mailer is None or not self._policy.mail_enabled:
            raise EmailNotConfigured()
        p = self._policy
        per_address, per_ip = p.mail_limits("code", email, client_ip)
        await enforce_windows(
            self._throttle, per_address + per_ip, self._clock.now().timestamp(),
            "too many codes requested; try again later",
        )  # fmt: skip
        code = f"{secrets.randbelow(10**6):06d}"
        now = self._clock.now()
        await self._store.put(
            StoredEmailCode(
                email=email, code_hash=self._hash(email, code), expires_at=now + p.code_ttl
            )
        )
        ttl_minutes = int(p.code_ttl.total_seconds() // 60)
        # A delivery failure keeps the code and the cooldown, as the original did.
        await self._mailer.send(templates.verification_code(p.app_name, email, code, ttl_minutes))
        return CodeSent(p.code_cooldown_seconds, int(p.code_ttl.total_seconds()))

    async def consume(
        self,
        email: str,
        code: str | None,
        *,
        client_ip: str | None,
        user_agent: str | None = None,
    ) -> None:
        """Accept the e-mail's live code once, or raise; guesses are limited per code."""
        if not code:
            raise EmailCodeRequired(field="verificationCode")
        result = await self._store.check(
            email,
            self._hash(email, code.strip()),
            now=self._clock.now(),
            max_attempts=self._policy.code_max_attempts,
        )
        if result is CodeCheck.OK:
            return
        if result is CodeCheck.EXHAUSTED:
            await self._audit.record(
                AuditAction.CODE_GUESS_BLOCKED,
                client_ip=client_ip,
                user_agent=user_agent,
                kind="email_verification",
            )
        raise EmailCodeInvalid(field="verificationCode")
