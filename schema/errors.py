"""How domain errors appear in GraphQL. ``ErrorCode`` is derived from the error classes
(``domain.errors.all_error_classes``): declaring an error class is all it takes.

Mutations return them in their payload's ``errors`` list; queries raise them, and
``schema.extensions.map_error`` puts the code in ``extensions.code``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import strawberry

from domain.errors import DomainError, RateLimited, all_error_classes
from schema.describe import describe_values

REQUEST_CODES = {
    "BAD_REQUEST": "The HTTP request is not a GraphQL request (bad JSON, no query, a GET "
    "that would run a mutation).",
    "BATCHING_NOT_SUPPORTED": "A JSON array of operations was sent; send one at a time.",
    "METHOD_NOT_ALLOWED": "/graphql answers GET and POST only.",
    "NOT_ACCEPTABLE": "The Accept header allows neither application/json nor "
    "application/graphql-response+json.",
    "UNSUPPORTED_MEDIA_TYPE": "The POST body's Content-Type is not application/json.",
    "CSRF_FAILED": "A POST a browser could send cross-site without a preflight (text/plain, "
    "a form) carries no header that proves it is not one.",
    "CORS_ORIGIN_REFUSED": "The request's Origin is not in KARPOV_CORS_ORIGINS.",
    "PAYLOAD_TOO_LARGE": "The request body is larger than the server accepts.",
    "GRAPHQL_PARSE_FAILED": "The document is not valid GraphQL syntax (or has too many tokens).",
    "GRAPHQL_VALIDATION_FAILED": "The document does not validate against this schema.",
    "BAD_USER_INPUT": "A variable's value does not fit its declared type.",
    "QUERY_TOO_COMPLEX": "The document is deeper, wider or costlier than the limits allow; "
    "the message names the limit.",
}
"""issue 11: the codes of ``errors[].extensions.code`` that no domain error class has:
refusals by the HTTP transport and the edge, and GraphQL's own request errors."""

_CODE_TEXTS = {
    **{
        cls.code: f"{cls.default_message[:1].upper()}{cls.default_message[1:]} "
        f"(/v1: HTTP {cls.http_status})."
        for cls in all_error_classes()
    },
    **REQUEST_CODES,
}
_CODES = set(_CODE_TEXTS)


if TYPE_CHECKING:

    class ErrorCode(enum.Enum):
        """Its members are made at run time, from the error classes."""

else:
    # One member per DomainError code, derived from the classes (adding an error class
    # adds its code here); sorted, so the SDL does not depend on import order.
    ErrorCode = describe_values(
        strawberry.enum(
            enum.Enum("ErrorCode", {code: code for code in sorted(_CODES)}),
            description="Stable machine-readable error codes: in a payload's `errors` and in "
            "`errors[].extensions.code`.",
        ),
        _CODE_TEXTS,
    )


@strawberry.type(description="A failure a client can act on, returned in a payload.")
class UserError:
    code: ErrorCode = strawberry.field(description="What kind of failure it is.")
    message: str = strawberry.field(description="A sentence for people (not to be parsed).")
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
