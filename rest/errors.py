"""How a domain error is answered on /v1, derived from the error's class.

``status`` is the class's ``http_status`` (inherited from its base unless declared). The
envelope codes follow from it: ``biz`` (the original gin envelope's business code) is the
status times 100, and ``grpc`` (the gRPC status code the original's grpc-gateway routes
answered with) is grpc-gateway's code for that status, or ``FAILED_PRECONDITION`` for an
error that declares ``failed_precondition``. The tables below list only the exceptions
to those rules, keyed by class and found by walking the error's class hierarchy (as
Starlette looks up exception handlers), so adding an error is one edit: its class.
Where the original was wrong we answer the correct status and say so in the OpenAPI
document (``correction``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from domain.accounts.errors import AccountNotActivated, ActivationTokenExpired
from domain.apikeys.errors import InvalidIpRule, InvalidScope
from domain.errors import DomainError, all_error_classes
from domain.music.errors import NoUsableCredential
from domain.quota.errors import QuotaExceeded

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class HttpError:
    status: int
    biz: int
    grpc: int
    correction: str | None = None


FAILED_PRECONDITION = 9
GRPC_BY_STATUS = {
    400: 3, 401: 16, 403: 7, 404: 5, 409: 6, 410: 9, 412: 9, 429: 8, 500: 13, 501: 12,
    502: 14, 503: 14,
}  # fmt: skip
"""grpc-gateway's mapping between gRPC codes and HTTP statuses, read backwards."""

BIZ_EXCEPTIONS: dict[type[DomainError], int] = {
    QuotaExceeded: 42901,  # the original told a used-up plan (42901) from a rate (42900)
}
CORRECTIONS: dict[type[DomainError], str] = {
    AccountNotActivated: "The original answered 400 (FailedPrecondition).",
    InvalidScope: "The original answered 500 for an invalid scope.",
    InvalidIpRule: "The original skipped invalid rules (or answered 500).",
    ActivationTokenExpired: "The original answered 504 (DeadlineExceeded).",
    NoUsableCredential: "The original's 'pool empty' branch was unreachable (502).",
}
"""Where we answer differently from the original, in the order the OpenAPI document
lists them."""


def _inherited(table: Mapping[type[DomainError], V], cls: type[DomainError]) -> V | None:
    """The entry of the nearest class in ``cls``'s hierarchy that has one."""
    for base in cls.__mro__:
        if base in table:
            return table[base]
    return None


def _derive(cls: type[DomainError]) -> HttpError:
    status = cls.http_status
    biz = _inherited(BIZ_EXCEPTIONS, cls)
    return HttpError(
        status=status,
        biz=status * 100 if biz is None else biz,
        grpc=FAILED_PRECONDITION if cls.failed_precondition else GRPC_BY_STATUS[status],
        correction=_inherited(CORRECTIONS, cls),
    )


_BY_CLASS: dict[type[DomainError], HttpError] = {cls: _derive(cls) for cls in all_error_classes()}

ERROR_TABLE: dict[str, HttpError] = {
    cls.code: _BY_CLASS[cls] for cls in sorted(_BY_CLASS, key=lambda cls: cls.code)
}
"""Every error code and its /v1 answer (the OpenAPI document and the parity tests)."""


def http_error(error: DomainError) -> HttpError:
    cls = type(error)
    mapped = _BY_CLASS.get(cls)
    if mapped is None:
        mapped = _BY_CLASS[cls] = _derive(cls)
    return mapped
