"""The base of every expected failure in Karpov, and the one place an error is declared.

A domain raises a subclass of :class:`DomainError`. The class declares everything the edges
need, once: a stable ``code`` (the GraphQL ``ErrorCode`` value), a ``default_message``, and
the HTTP status of its ``/v1`` answer (``http_status``). A subclass inherits what it does
not declare, so a new error usually states only its code and message: ``class
EmailTaken(Conflict)`` answers 409 because ``Conflict`` does. The GraphQL enum and the
``/v1`` table are derived from the classes (``schema/errors.py``, ``rest/errors.py``);
``all_error_classes`` finds them in the kernel and in every context's ``errors.py``.

Messages are safe to show to the caller: they never contain secrets and never reveal more
than the caller may know.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar


class DomainError(Exception):
    """An expected, typed failure with a stable machine-readable code."""

    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "internal error"
    http_status: ClassVar[int] = 500
    """The HTTP status of the ``/v1`` answer; inherited from the base unless declared."""
    failed_precondition: ClassVar[bool] = False
    """The request is well formed but the current state does not allow it (the original's
    grpc-gateway routes answered gRPC ``FAILED_PRECONDITION`` for these)."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, field={self.field!r})"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"
    default_message = "invalid input"
    http_status = 400


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"
    default_message = "authentication required"
    http_status = 401


class Forbidden(DomainError):
    code = "FORBIDDEN"
    default_message = "forbidden"
    http_status = 403


class NotFound(DomainError):
    code = "NOT_FOUND"
    default_message = "not found"
    http_status = 404


class Conflict(DomainError):
    code = "CONFLICT"
    default_message = "conflict"
    http_status = 409


class ServiceUnavailable(DomainError):
    code = "SERVICE_UNAVAILABLE"
    default_message = "a dependency is unavailable, try again later"
    http_status = 503
    retry_after: int = 1
    """Seconds the client should wait (the ``Retry-After`` of the answer)."""


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached, or did not answer in time."""

    code = "DATABASE_UNAVAILABLE"
    default_message = "the database is unavailable, try again later"


class RedisUnavailable(ServiceUnavailable):
    """Redis cannot be reached, or did not answer in time."""

    code = "REDIS_UNAVAILABLE"
    default_message = "the session and throttle store is unavailable, try again later"


class UpstreamFailed(DomainError):
    """An upstream provider failed or answered nonsense; the caller may retry."""

    code = "UPSTREAM_FAILED"
    default_message = "the upstream provider failed, try again later"
    http_status = 502


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one may succeed."""

    code = "RATE_LIMITED"
    default_message = "too many attempts, try again later"
    http_status = 429

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


_UNAVAILABLE: list[tuple[Callable[[BaseException], bool], type[ServiceUnavailable]]] = []


def register_unavailable(
    test: Callable[[BaseException], bool], error: type[ServiceUnavailable]
) -> None:
    """Declare that an exception ``test`` accepts (an adapter's connection error or
    timeout) means ``error``: the edges answer it (503 with ``Retry-After``) instead of a
    500. Adapters register their libraries' errors; the domain never imports them."""
    if (test, error) not in _UNAVAILABLE:
        _UNAVAILABLE.append((test, error))


def as_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The ``ServiceUnavailable`` an unexpected exception stands for (it, or what caused
    it, is a registered dependency failure), else ``None``."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, ServiceUnavailable):
            return current
        for test, error in _UNAVAILABLE:
            if test(current):
                return error()
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def all_error_classes() -> list[type[DomainError]]:
    """Every ``DomainError`` declared in ``domain`` (the base included): the kernel's and
    those of every context's ``errors.py``, which this imports. Errors live only there
    (``tests/unit/test_domain_structure.py`` checks it), so a new context's errors are
    found without being listed anywhere."""
    package = Path(__file__).parent
    for info in pkgutil.iter_modules([str(package)]):
        if info.ispkg and (package / info.name / "errors.py").exists():
            importlib.import_module(f"domain.{info.name}.errors")
    seen: list[type[DomainError]] = []
    stack: list[type[DomainError]] = [DomainError]
    while stack:
        cls = stack.pop()
        if cls not in seen and cls.__module__.startswith("domain."):
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen
