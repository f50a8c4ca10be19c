"""How domain errors appear in GraphQL.

Mutations return them in their payload's ``errors`` list; queries raise them, and
:class:`schema.extensions.DomainErrorExtension` puts the code in ``extensions.code``.
"""

from __future__ import annotations

import enum

import strawberry

from domain.errors import DomainError, RateLimited


@strawberry.enum(description="Stable machine-readable error codes.")
class ErrorCode(enum.Enum):
    INTERNAL = "INTERNAL"
    INVALID_INPUT = "INVALID_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"
    PWNED_PASSWORD = "PWNED_PASSWORD"
    BREACH_CHECK_UNAVAILABLE = "BREACH_CHECK_UNAVAILABLE"
    ACCOUNT_NOT_ACTIVATED = "ACCOUNT_NOT_ACTIVATED"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    INSUFFICIENT_ROLE = "INSUFFICIENT_ROLE"
    LAST_SUPERADMIN = "LAST_SUPERADMIN"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    QUOTA_UNAVAILABLE = "QUOTA_UNAVAILABLE"
    API_KEY_NOT_FOUND = "API_KEY_NOT_FOUND"
    API_KEY_INVALID = "API_KEY_INVALID"
    API_KEY_IP_NOT_ALLOWED = "API_KEY_IP_NOT_ALLOWED"
    API_KEY_SCOPE_MISSING = "API_KEY_SCOPE_MISSING"
    INVALID_SCOPE = "INVALID_SCOPE"
    INVALID_IP_RULE = "INVALID_IP_RULE"
    TOTP_ALREADY_ENABLED = "TOTP_ALREADY_ENABLED"
    TOTP_NOT_ENABLED = "TOTP_NOT_ENABLED"
    TOTP_NO_PENDING_ENROLMENT = "TOTP_NO_PENDING_ENROLMENT"
    TOTP_INVALID_CODE = "TOTP_INVALID_CODE"
    TOTP_CHALLENGE_NOT_FOUND = "TOTP_CHALLENGE_NOT_FOUND"
    EMAIL_DOMAIN_NOT_ALLOWED = "EMAIL_DOMAIN_NOT_ALLOWED"
    REGISTER_IP_LIMIT = "REGISTER_IP_LIMIT"
    EMAIL_NOT_CONFIGURED = "EMAIL_NOT_CONFIGURED"
    EMAIL_CODE_REQUIRED = "EMAIL_CODE_REQUIRED"
    EMAIL_CODE_INVALID = "EMAIL_CODE_INVALID"
    ACTIVATION_TOKEN_INVALID = "ACTIVATION_TOKEN_INVALID"
    ACTIVATION_TOKEN_EXPIRED = "ACTIVATION_TOKEN_EXPIRED"
    ACTIVATION_TOKEN_USED = "ACTIVATION_TOKEN_USED"
    ACCOUNT_ALREADY_ACTIVE = "ACCOUNT_ALREADY_ACTIVE"
    RESET_TOKEN_INVALID = "RESET_TOKEN_INVALID"
    MAIL_DELIVERY_FAILED = "MAIL_DELIVERY_FAILED"
    PASSWORD_ALREADY_SET = "PASSWORD_ALREADY_SET"
    OAUTH_UNKNOWN_PROVIDER = "OAUTH_UNKNOWN_PROVIDER"
    OAUTH_IDENTITY_NOT_FOUND = "OAUTH_IDENTITY_NOT_FOUND"
    OAUTH_LAST_SIGN_IN_METHOD = "OAUTH_LAST_SIGN_IN_METHOD"
    OAUTH_ALREADY_BOUND = "OAUTH_ALREADY_BOUND"
    OAUTH_PROVIDER_UNAVAILABLE = "OAUTH_PROVIDER_UNAVAILABLE"


@strawberry.type(description="A failure a client can act on, returned in a payload.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, when there is one."
    )
    retry_after: int | None = strawberry.field(
        default=None, description="Seconds to wait before trying again (RATE_LIMITED)."
    )

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        return cls(
            code=ErrorCode(error.code),
            message=error.message,
            field=error.field,
            retry_after=retry_after,
        )
