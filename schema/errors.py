"""How domain errors appear in GraphQL. ``ErrorCode`` is derived from the error classes
(``domain.errors.all_error_classes``): declaring an error class is all it takes.

Mutations return them in their payload's ``errors`` list; queries raise them, and
:class:`schema.extensions.DomainErrorExtension` puts the code in ``extensions.code``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import strawberry

from domain.errors import DomainError, RateLimited, all_error_classes

REQUEST_CODES = (
    "BAD_REQUEST", "BATCHING_NOT_SUPPORTED", "METHOD_NOT_ALLOWED", "NOT_ACCEPTABLE",
    "UNSUPPORTED_MEDIA_TYPE", "CSRF_FAILED", "CORS_ORIGIN_REFUSED", "PAYLOAD_TOO_LARGE",
    "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT",
    "QUERY_TOO_COMPLEX",
)  # fmt: skip
"""issue 11: the codes of ``errors[].extensions.code`` that no domain error class has:
refusals by the HTTP transport and the edge, and GraphQL's own request errors."""

_CODES = {cls.code for cls in all_error_classes()} | set(REQUEST_CODES)


if TYPE_CHECKING:

    class ErrorCode(enum.Enum):
        """Its members are made at run time, from the error classes."""

else:
    # One member per DomainError code, derived from the classes (adding an error class
    # adds its code here); sorted, so the SDL does not depend on import order.
    ErrorCode = strawberry.enum(
        enum.Enum("ErrorCode", {code: code for code in sorted(_CODES)}),
        description="Stable machine-readable error codes.",
    )


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
