"""Failures of the API-key context.

Each has its own stable code (mapped in rest/errors.py and schema/errors.py) and keeps
its base's meaning (status) for callers that only know the base.
"""

from __future__ import annotations

from domain.errors import Forbidden, InvalidInput, NotFound, Unauthenticated


class ApiKeyNotFound(NotFound):
    # The original's wording: an unknown key, another user's key and a revoked one look
    # the same to the caller.
    code = "API_KEY_NOT_FOUND"
    default_message = "api key not found or already revoked"


class InvalidScope(InvalidInput):
    """A scope outside the grammar ``*`` | ``module:*`` | ``module:action`` (a-z only)."""

    code = "INVALID_SCOPE"
    default_message = "invalid scope"

    def __init__(self, message: str | None = None, *, field: str | None = "scopes") -> None:
        super().__init__(message, field=field)


class InvalidIpRule(InvalidInput):
    """An IP allowlist entry that is neither an IPv4/IPv6 address nor a CIDR block."""

    code = "INVALID_IP_RULE"
    default_message = "invalid IP address or CIDR block"

    def __init__(self, message: str | None = None, *, field: str | None = "ipAllowlist") -> None:
        super().__init__(message, field=field)


class InvalidApiKey(Unauthenticated):
    code = "API_KEY_INVALID"
    default_message = "invalid api key"


class IpNotAllowed(Forbidden):
    code = "API_KEY_IP_NOT_ALLOWED"
    default_message = "client ip not in api key allowlist"
