"""Schema extensions: error mapping and masking. The document limits (depth, aliases,
fan-out, cost) live in ``schema.limits``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, RateLimited, ServiceUnavailable, as_unavailable

MAX_TOKENS = 5000

log = logging.getLogger("karpov.graphql")


def map_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """Domain errors keep their message and get ``extensions.code``; unexpected exceptions
    are logged with the request id and masked; syntax/validation errors pass through."""
    original = error.original_error
    if original is None:
        extensions: dict[str, Any] = {"code": "GRAPHQL_VALIDATION_FAILED"}
        extensions.update(error.extensions or {})
        error.extensions = extensions
        return error
    if isinstance(original, GraphQLError):
        return error
    if not isinstance(original, DomainError):
        unavailable = as_unavailable(original)
        if unavailable is not None:
            log.warning("dependency unavailable in resolver (%r)", original,
                        extra={"request_id": request_id, "path": error.path})  # fmt: skip
            original = unavailable
    if isinstance(original, DomainError):
        extensions = {"code": original.code}
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


class DomainErrorExtension(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        result.errors = [map_error(e, request_id) for e in errors]  # type: ignore[union-attr]
