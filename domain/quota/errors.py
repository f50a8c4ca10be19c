"""Refusals of the quota gate. A rate (per-key RPM, plan QPS) or the per-key daily limit
raises ``RateLimited``; the plan's units raise ``QuotaExceeded``. Both answer 429 with
``Retry-After``; their ``data`` is the original's envelope data and ``states`` feed the
rate-limit headers."""

from __future__ import annotations

from domain.errors import Forbidden, RateLimited, ServiceUnavailable


class QuotaExceeded(RateLimited):
    """The plan's daily or monthly units are used up."""

    code = "QUOTA_EXCEEDED"
    default_message = "quota exceeded"


class QuotaUnavailable(ServiceUnavailable):
    """The limiter's store is unreachable and the configured policy is to deny."""

    code = "QUOTA_UNAVAILABLE"
    default_message = "the quota service is unavailable, try again later"


class MissingScope(Forbidden):
    code = "API_KEY_SCOPE_MISSING"

    def __init__(self, scope: str) -> None:
        super().__init__(f"api key missing required scope: {scope}")
        self.scope = scope


class ReservationExceeded(Forbidden):
    """A metered field resolved more often than the request's reservation allowed (the
    static bound of the document was wrong): refused rather than charged unreserved."""

    code = "COST_RESERVATION_EXCEEDED"
    default_message = "this request resolved more metered fields than it reserved"
