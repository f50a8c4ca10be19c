"""Error mapping and masking for every GraphQL answer (``schema.execution`` applies it).
The document limits (depth, aliases, fan-out, cost) live in ``schema.limits``."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql.error import GraphQLError

from domain.errors import DomainError, RateLimited, ServiceUnavailable, as_unavailable

MAX_TOKENS = 5000

log = logging.getLogger("karpov.graphql")


_COERCION = re.compile(
    r"^Variable '\$[^']+' (?:has invalid value|got invalid value|of non-null type .* must not "
    r"be null|of required type .* was not provided)"
)


_TOKEN_LIMIT = "Syntax Error: Document contains more than"


def request_error_code(error: GraphQLError) -> str:
    """The code of an error raised before execution (issue 11): ``GRAPHQL_PARSE_FAILED``
    for a document that does not parse, ``BAD_USER_INPUT`` for a variable that does not
    coerce, else ``GRAPHQL_VALIDATION_FAILED``."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if _COERCION.match(error.message):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def name_request_error(error: GraphQLError) -> GraphQLError:
    """Give an error raised before execution its code (unless it has one) and, for the
    token limit, a message and extensions that name the limit."""
    extensions: dict[str, Any] = {"code": request_error_code(error)}
    extensions.update(error.extensions or {})
    if error.message.startswith(_TOKEN_LIMIT):  # MaxTokensLimiter's refusal
        error.message = (
            f"the document has more than {MAX_TOKENS} tokens; at most {MAX_TOKENS} are "
            "allowed (send a smaller document)"
        )
        extensions.update(limit="tokens", maximum=MAX_TOKENS)
    error.extensions = extensions
    return error


def map_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """Domain errors keep their message and get ``extensions.code``; unexpected exceptions
    are logged with the request id and masked; syntax/validation errors pass through."""
    original = error.original_error
    if original is None:
        return name_request_error(error)
    if isinstance(original, GraphQLError):
        if not error.path and not (error.extensions or {}).get("code"):
            error.extensions = {**(error.extensions or {}), "code": request_error_code(error)}
        return error
    if not isinstance(original, DomainError):
        unavailable = as_unavailable(original)
        if unavailable is not None:
            log.warning("dependency unavailable in resolver (%r)", original,
                        extra={"request_id": request_id, "path": error.path})  # fmt: skip
            original = unavailable
    if isinstance(original, DomainError):
        extensions: dict[str, Any] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        if isinstance(original, RateLimited | ServiceUnavailable):
            extensions["retryAfter"] = original.retry_after
        elif isinstance(getattr(original, "retry_after", None), int):
            extensions["retryAfter"] = original.retry_after  # type: ignore[attr-defined]
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=extensions,
        )
    log.error(
        "unexpected error in resolver",
        exc_info=(type(original), original, original.__traceback__),
        extra={"request_id": request_id, "path": error.path},
    )
    return GraphQLError(
        "internal error",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": "INTERNAL", "requestId": request_id},
    )
