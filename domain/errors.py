"""The base of every expected failure in Karpov.

A domain raises a subclass of :class:`DomainError` with a stable ``code``; each edge maps
that code exactly once (GraphQL: ``extensions.code`` or a payload error; ``/v1``: the
original envelope and HTTP status). Messages are safe to show to the caller: they never
contain secrets and never reveal more than the caller may know.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """An expected, typed failure with a stable machine-readable code."""

    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, field={self.field!r})"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"
    default_message = "invalid input"


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "authentication required"


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "forbidden"


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "not found"


class Conflict(DomainError):
    code = "CONFLICT"
    default_message = "conflict"


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    default_message = "a dependency is unavailable, try again later"


class UpstreamFailed(DomainError):
    """An upstream provider failed or answered nonsense; the caller may retry."""

    code = "UPSTREAM_FAILED"
    default_message = "the upstream provider failed, try again later"


def all_error_classes() -> list[type[DomainError]]:
    """Every DomainError subclass that has been imported, the base included."""
    seen: list[type[DomainError]] = []
    stack: list[type[DomainError]] = [DomainError]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one may succeed."""

    code = "RATE_LIMITED"
    default_message = "too many attempts, try again later"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int = 1,
        field: str | None = None,
        data: dict[str, Any] | None = None,
        states: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(message, field=field)
        self.retry_after = max(1, retry_after)
        self.data = data
        """The original's envelope ``data`` (quota refusals), if any."""
        self.states = states
        """The quota gate's limit states, for the rate-limit headers."""
