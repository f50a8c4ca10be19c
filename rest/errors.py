"""The one table that maps a domain error code to the /v1 status and envelope codes.

``biz`` is the original gin envelope's business code; ``grpc`` is the gRPC status code the
original's grpc-gateway routes answered with. Where the original was wrong we answer the
correct status and say so in the OpenAPI document (``correction``)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class HttpError:
    status: int
    biz: int
    grpc: int
    correction: str | None = None


_BAD_REQUEST = HttpError(400, 40000, 3)
_UNAUTHORIZED = HttpError(401, 40100, 16)
_FORBIDDEN = HttpError(403, 40300, 7)
_NOT_FOUND = HttpError(404, 40400, 5)
_CONFLICT = HttpError(409, 40900, 6)
_UNAVAILABLE = HttpError(503, 50300, 14)

ERROR_TABLE: dict[str, HttpError] = {
    "INTERNAL": HttpError(500, 50000, 13),
    "INVALID_INPUT": _BAD_REQUEST,
    "UNAUTHENTICATED": _UNAUTHORIZED,
    "FORBIDDEN": _FORBIDDEN,
    "NOT_FOUND": _NOT_FOUND,
    "CONFLICT": _CONFLICT,
    "SERVICE_UNAVAILABLE": _UNAVAILABLE,
    "INVALID_CREDENTIALS": _UNAUTHORIZED,
    "EMAIL_TAKEN": _CONFLICT,
    "WEAK_PASSWORD": _BAD_REQUEST,
    "PWNED_PASSWORD": _BAD_REQUEST,
    "BREACH_CHECK_UNAVAILABLE": _UNAVAILABLE,
    "ACCOUNT_NOT_ACTIVATED": HttpError(
        412, 41200, 9, correction="The original answered 400 (FailedPrecondition)."
    ),
    "ACCOUNT_LOCKED": _FORBIDDEN,
    "INSUFFICIENT_ROLE": _FORBIDDEN,
    "LAST_SUPERADMIN": HttpError(409, 40900, 9),
    "USER_NOT_FOUND": _NOT_FOUND,
    "SESSION_NOT_FOUND": _NOT_FOUND,
    "RATE_LIMITED": HttpError(429, 42900, 8),
    "QUOTA_EXCEEDED": HttpError(429, 42901, 8),
    "UPSTREAM_FAILED": HttpError(502, 50200, 14),
    "QUOTA_UNAVAILABLE": _UNAVAILABLE,
    "API_KEY_NOT_FOUND": _NOT_FOUND,
    "API_KEY_INVALID": _UNAUTHORIZED,
    "API_KEY_IP_NOT_ALLOWED": _FORBIDDEN,
    "API_KEY_SCOPE_MISSING": _FORBIDDEN,
    "INVALID_SCOPE": HttpError(
        400, 40000, 3, correction="The original answered 500 for an invalid scope."
    ),
    "INVALID_IP_RULE": HttpError(
        400, 40000, 3, correction="The original skipped invalid rules (or answered 500)."
    ),
    "TOTP_ALREADY_ENABLED": _CONFLICT,
    "TOTP_NOT_ENABLED": HttpError(400, 40000, 9),
    "TOTP_NO_PENDING_ENROLMENT": HttpError(400, 40000, 9),
    "TOTP_INVALID_CODE": _UNAUTHORIZED,
    "TOTP_CHALLENGE_NOT_FOUND": _UNAUTHORIZED,
    "EMAIL_DOMAIN_NOT_ALLOWED": HttpError(400, 40000, 9),
    "REGISTER_IP_LIMIT": _FORBIDDEN,
    "EMAIL_NOT_CONFIGURED": HttpError(501, 50100, 12),
    "EMAIL_CODE_REQUIRED": _BAD_REQUEST,
    "EMAIL_CODE_INVALID": _BAD_REQUEST,
    "ACTIVATION_TOKEN_INVALID": _NOT_FOUND,
    "ACTIVATION_TOKEN_EXPIRED": HttpError(
        410, 41000, 9, correction="The original answered 504 (DeadlineExceeded)."
    ),
    "ACTIVATION_TOKEN_USED": _CONFLICT,
    "ACCOUNT_ALREADY_ACTIVE": _CONFLICT,
    "RESET_TOKEN_INVALID": _BAD_REQUEST,
    "MAIL_DELIVERY_FAILED": HttpError(502, 50200, 14),
    "PASSWORD_ALREADY_SET": _CONFLICT,
    "OAUTH_UNKNOWN_PROVIDER": _BAD_REQUEST,
    "OAUTH_IDENTITY_NOT_FOUND": _NOT_FOUND,
    "OAUTH_LAST_SIGN_IN_METHOD": HttpError(400, 40000, 9),
    "OAUTH_ALREADY_BOUND": _CONFLICT,
    "OAUTH_PROVIDER_UNAVAILABLE": HttpError(502, 50200, 14),
    "INVALID_MUSIC_ID": _BAD_REQUEST,
    "INVALID_CREDENTIAL_PAYLOAD": _BAD_REQUEST,
    "MUSIC_PROVIDER_UNKNOWN": _NOT_FOUND,
    "MUSIC_PROVIDER_UNAVAILABLE": _UNAVAILABLE,
    "MUSIC_NOT_FOUND": _NOT_FOUND,
    "MUSIC_NO_RIGHTS": _FORBIDDEN,
    "MUSIC_UPSTREAM_FAILED": HttpError(502, 50200, 14),
    "POOL_EXHAUSTED": HttpError(
        503, 50300, 14, correction="The original's 'pool empty' branch was unreachable (502)."
    ),
    "MUSIC_UPSTREAM_RATE_LIMITED": _UNAVAILABLE,
    "UNKNOWN_CURRENCY": _BAD_REQUEST,
    "PAYMENT_PROVIDER_FAILED": HttpError(502, 50200, 14),
}


def http_error(error: DomainError) -> HttpError:
    return ERROR_TABLE.get(error.code, ERROR_TABLE["INTERNAL"])
