"""Guessing limits for single-use e-mail tokens (activation links, password resets). The
tokens themselves (32 random bytes, only the SHA-256 stored, an expiry, an atomic "use
once") are ``model.OneTimeToken`` behind ``ports.OneTimeTokenStore``."""

from __future__ import annotations

from domain.errors import RateLimited
from domain.security.audit import AuditLog
from domain.security.model import AuditAction, BackoffRule
from domain.security.ports import ThrottleStore
from domain.security.throttle import enforce_backoff


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
