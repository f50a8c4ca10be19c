"""Response shapes of the original /v1 API.

The original served routes in two styles (reference §2.1): hand-written gin handlers answer
``{"code":200,"message":"success","data":…}`` and ``{"code":<biz>,"message":…}``;
grpc-gateway routes answer bare camelCase JSON and ``{"code":<grpc>,"message":…,
"details":[]}``. Each route in the table declares its style."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import JSONResponse

from domain.errors import DomainError, RateLimited, ServiceUnavailable
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


# Exactly the encoder ``JSONResponse.render`` uses, built once: ``json.dumps`` with
# non-default options builds a new encoder on every call.
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
).encode
_JSON = (b"content-type", b"application/json")


_STRICT = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)  # fmt: skip


def _to_bytes(data: Any) -> bytes:
    """perf (issue 18): ``orjson`` where it gives ``_encode``'s bytes (compact, UTF-8 as
    is), else ``_encode`` itself: for what orjson does not take (integers past 64 bits,
    non-string keys, subclasses, dates, dataclasses: passed through to refuse) and for any
    body with a ``null`` (orjson writes NaN and infinities as null where ``_encode``
    refuses them)."""
    try:
        body = orjson.dumps(data, option=_STRICT)
    except (TypeError, orjson.JSONEncodeError):
        return _encode(data).encode("utf-8")
    if b"null" not in body:
        return body
    return _encode(data).encode("utf-8")


@dataclass(frozen=True, slots=True)
class EncodedJson:
    """A handler result that is already JSON, encoded as ``JSONResponse`` would encode it
    (so that a view can be memoised encoded; see ``rest.views``)."""

    text: bytes


def encode_json(data: Any) -> EncodedJson:
    return EncodedJson(_to_bytes(data))


class JsonReply(JSONResponse):
    """A ``JSONResponse`` with the same body, headers and messages, made without the
    general-purpose path (media-type and header-mapping handling) a /v1 answer never
    needs: that path is a visible share of a cheap request."""

    def __init__(self, content: Any, status_code: int = 200) -> None:
        self._init(_to_bytes(content), status_code)

    @classmethod
    def encoded(cls, body: bytes, status_code: int = 200) -> JsonReply:
        reply = cls.__new__(cls)
        reply._init(body, status_code)
        return reply

    def _init(self, body: bytes, status_code: int) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        if status_code < 200 or status_code in (204, 304):
            self.raw_headers = [_JSON]
        else:
            self.raw_headers = [(b"content-length", str(len(body)).encode()), _JSON]


_GIN_SUCCESS = b'{"code":200,"message":"success","data":'


def success(style: Style, data: Any, status: int = 200) -> JSONResponse:
    if isinstance(data, EncodedJson):
        # What encoding the envelope around the decoded data would give, byte for byte.
        body = _GIN_SUCCESS + data.text + b"}" if style is Style.GIN else data.text
        return JsonReply.encoded(body, status)
    if style is Style.GIN:
        return JsonReply({"code": 200, "message": "success", "data": data}, status)
    return JsonReply(data if data is not None else {}, status)


def failure(style: Style, status: int, biz: int, grpc: int, message: str) -> JSONResponse:
    if style is Style.GIN:
        return JsonReply({"code": biz, "message": message}, status)
    return JsonReply({"code": grpc, "message": message, "details": []}, status)


def domain_failure(style: Style, error: DomainError) -> JSONResponse:
    mapped = http_error(error)
    response: JSONResponse
    if isinstance(error, RateLimited) and error.data is not None:
        # The original refused in gin middleware before any handler ran, so quota
        # refusals use the gin envelope, with its ``data``, whatever the route's style.
        response = JsonReply(
            {"code": mapped.biz, "message": error.message, "data": error.data}, mapped.status
        )
    elif isinstance(error, ServiceUnavailable):
        response = JsonReply(unavailable_body(style, mapped.biz, mapped.grpc, error), 503)
    else:
        response = failure(style, mapped.status, mapped.biz, mapped.grpc, error.message)
    if mapped.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, RateLimited | ServiceUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    elif isinstance(getattr(error, "retry_after", None), int):
        # An upstream's rate limit (503, music): when to try again, too.
        response.headers["Retry-After"] = str(error.retry_after)  # type: ignore[attr-defined]
    return response


def unavailable_body(style: Style, biz: int, grpc: int, error: DomainError) -> dict[str, Any]:
    """A 503 says which dependency is down with its stable code (``DATABASE_UNAVAILABLE``,
    ``REDIS_UNAVAILABLE``, ``QUOTA_UNAVAILABLE``…): ``reason`` in the gin envelope, a
    ``google.rpc.ErrorInfo`` detail in the grpc-gateway one (where gRPC puts it)."""
    if style is Style.GIN:
        return {"code": biz, "message": error.message, "reason": error.code}
    info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": error.code,
            "domain": "karpov"}  # fmt: skip
    return {"code": grpc, "message": error.message, "details": [info]}
