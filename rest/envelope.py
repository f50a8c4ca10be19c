"""Response shapes of the original /v1 API.

The original served routes in two styles (reference §2.1): hand-written gin handlers answer
``{"code":200,"message":"success","data":…}`` and ``{"code":<biz>,"message":…}``;
grpc-gateway routes answer bare camelCase JSON and ``{"code":<grpc>,"message":…,
"details":[]}``. Each route in the table declares its style."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from domain.errors import DomainError, RateLimited
from rest.errors import http_error


class Style(enum.Enum):
    GIN = "gin"
    GRPC = "grpc"


def rfc3339(value: datetime | None) -> str | None:
    """UTC, 'Z' suffix, fractional seconds only when non-zero (protojson style)."""
    if value is None:
        return None
    text = value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if value.microsecond:
        text = text.rstrip("0")
    return text + "Z"


def success(style: Style, data: Any, status: int = 200) -> JSONResponse:
    if style is Style.GIN:
        return JSONResponse({"code": 200, "message": "success", "data": data}, status)
    return JSONResponse(data if data is not None else {}, status)


def failure(style: Style, status: int, biz: int, grpc: int, message: str) -> JSONResponse:
    if style is Style.GIN:
        return JSONResponse({"code": biz, "message": message}, status)
    return JSONResponse({"code": grpc, "message": message, "details": []}, status)


def domain_failure(style: Style, error: DomainError) -> JSONResponse:
    mapped = http_error(error)
    if isinstance(error, RateLimited) and error.data is not None:
        # The original refused in gin middleware before any handler ran, so quota
        # refusals use the gin envelope, with its ``data``, whatever the route's style.
        response = JSONResponse(
            {"code": mapped.biz, "message": error.message, "data": error.data}, mapped.status
        )
    else:
        response = failure(style, mapped.status, mapped.biz, mapped.grpc, error.message)
    if mapped.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
