"""Single-use e-mail tokens (activation links, password resets): 32 random bytes, only
the SHA-256 stored, an expiry, and an atomic "use once"."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.errors import RateLimited
from domain.security.audit import AuditAction, AuditLog
from domain.security.throttle import BackoffRule, ThrottleStore, enforce_backoff


def token_guess_rule(client_ip: str | None) -> BackoffRule:
    """Link tokens carry 256 random bits, but lookups are still limited per address (10
    free misses, then back-off): cheap insurance against a flood of guesses."""
    return BackoffRule(f"token:ip:{client_ip or '-'}", free=10, reset_after=3600)


async def guard_token_guesses(
    throttle: ThrottleStore,
    audit: AuditLog,
    *,
    client_ip: str | None,
    user_agent: str | None,
    now: float,
) -> None:
    """Count a link-token lookup from this address, or refuse (and audit) a flood."""
    try:
        await enforce_backoff(throttle, [token_guess_rule(client_ip)], now)
    except RateLimited:
        await audit.record(
            AuditAction.CODE_GUESS_BLOCKED, client_ip=client_ip, user_agent=user_agent,
            kind="link_token",
        )  # fmt: skip
        raise


class TokenPurpose(enum.StrEnum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    token_hash: str
    purpose: TokenPurpose
    user_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class OneTimeTokenStore(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...

    async def get(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None: ...

    async def use(self, token_hash: str, purpose: TokenPurpose, at: datetime) -> bool:
        """Atomically mark an unused token used; ``False`` if unknown or already used."""

    async def revoke_for_user(self, user_id: str, purpose: TokenPurpose, at: datetime) -> int:
        """Mark every unused token of the user and purpose used; returns how many."""


@dataclass(frozen=True, slots=True)
class StoredEmailCode:
    email: str
    code_hash: str
    expires_at: datetime
    attempts: int = 0


class CodeCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXHAUSTED = "exhausted"
    """Too many wrong guesses: the code is gone."""
    MISSING = "missing"
    """No live code (never sent, expired, used)."""


class EmailCodeStore(Protocol):
    async def put(self, code: StoredEmailCode) -> None:
        """Store the e-mail's one live code, replacing any previous one."""

    async def check(
        self, email: str, code_hash: str, *, now: datetime, max_attempts: int
    ) -> CodeCheck:
        """Atomically compare (constant time) and consume: OK deletes the code; WRONG
        counts a guess, and the guess that reaches ``max_attempts`` deletes the code and
        answers EXHAUSTED; an expired code is MISSING."""
