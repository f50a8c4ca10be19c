"""QQ Music's answer codes, mapped once onto the provider failures the pool understands."""

from __future__ import annotations

from domain.music.errors import (
    ProviderFailure,
    UpstreamAuthFailed,
    UpstreamBadAnswer,
    UpstreamNoRights,
    UpstreamRateLimit,
)

RATE_LIMITED = frozenset({2001, 104003})
"""Risk control / request rate too high."""
LOGIN_EXPIRED = frozenset({1000, 104400, 104401})
NO_RIGHTS = frozenset({104403})
"""The credential lacks the rights for this call."""
SIGN_REQUIRED = 2000

LOGIN_RATE_LIMITED = frozenset({104604, 100001})
_LOGIN_REASONS = {
    20261: "the login parameters were refused",
    20271: "the login code is wrong or used",
    20272: "the account binding is broken",
    20274: "the account is logged in on too many devices",
    20279: "the account is logged in on too many devices",
    20276: "the login needs a captcha",
    20254: "the login needs a captcha",
    20277: "the account is restricted",
    20278: "the account is restricted",
    20450: "the account is banned",
}


def failure_for(code: int, call: str) -> ProviderFailure:
    """The failure for a non-zero code of a music call (``call`` is ``module.method``)."""
    if code in RATE_LIMITED:
        return UpstreamRateLimit(f"QQ Music rate limited {call}", upstream_code=code)
    if code in LOGIN_EXPIRED:
        return UpstreamAuthFailed(f"QQ Music login expired ({call})", upstream_code=code)
    if code in NO_RIGHTS:
        return UpstreamNoRights(
            f"the QQ Music account has no rights for {call}", upstream_code=code
        )
    if code == SIGN_REQUIRED:
        return UpstreamBadAnswer(f"QQ Music wants a signed request ({call})", upstream_code=code)
    return UpstreamBadAnswer(f"QQ Music answered code {code} ({call})", upstream_code=code)


def login_failure_for(code: int, call: str) -> ProviderFailure:
    """The failure for a non-zero code of a login or refresh call: anything but a rate
    limit means this login cannot be obtained or renewed."""
    if code in RATE_LIMITED or code in LOGIN_RATE_LIMITED:
        return UpstreamRateLimit(f"QQ Music rate limited {call}", upstream_code=code)
    reason = _LOGIN_REASONS.get(code, "the login was refused")
    return UpstreamAuthFailed(f"{reason} (QQ Music code {code}, {call})", upstream_code=code)
