"""GraphQL over HTTP (the GraphQL Foundation's spec) as plain functions: what the client
accepts, what it sent, and the status an answer gets. ``gateway.graphql_view`` runs them.

* ``Accept``: ``application/graphql-response+json`` is preferred when the client lists
  it; ``application/json`` (also ``*/*``, ``application/*`` or no ``Accept``) otherwise;
  anything else is 406.
* Requests: ``GET`` with ``query``, ``operationName``, ``variables`` and ``extensions``
  (JSON) in the query string (queries only: a mutation over GET is 405), or ``POST`` with
  a JSON object (``application/json`` or ``application/graphql-response+json``, UTF-8).
* Status: with ``application/json`` every GraphQL result is 200 (as clients of that type
  expect); with ``application/graphql-response+json`` a request error (the document did
  not parse or validate, a variable did not coerce: no ``data``) is 400, or the status of
  the domain error that refused the operation before it ran (429 over quota, ...).
* Every transport error (wrong method, media type, body or parameter) is a JSON body
  ``{"errors": [{"message", "extensions": {"code"}}]}``, never plain text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
REQUEST_MEDIA_TYPES = frozenset({JSON, GRAPHQL_RESPONSE_JSON})
ALLOWED_METHODS = "GET, POST, OPTIONS"


class TransportError(Exception):
    """A request the transport refuses before GraphQL sees it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def bad_request(message: str) -> TransportError:
    return TransportError(400, "BAD_REQUEST", message)


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """One GraphQL request, as the client sent it (``query`` may be absent: a persisted
    query names its document by hash in ``extensions``)."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    media, *rest = value.split(";")
    params: dict[str, str] = {}
    for item in rest:
        key, _, val = item.partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return media.strip().lower(), params


def negotiate(accept: str | None) -> str:
    """The media type of the answer, or ``TransportError`` 406."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int] | None = None
    chosen = JSON
    for part in accept.split(","):
        media, params = _media_type(part)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            rank, kind = 2, GRAPHQL_RESPONSE_JSON
        elif media == JSON:
            rank, kind = 1, JSON
        elif media in ("*/*", "application/*"):
            rank, kind = 0, JSON
        else:
            continue
        if best is None or (q, rank) > best:
            best, chosen = (q, rank), kind
    if best is None:
        raise TransportError(
            406, "NOT_ACCEPTABLE",
            f"cannot answer in any type the Accept header lists ({accept!r}): ask for "
            f"{GRAPHQL_RESPONSE_JSON} or {JSON}",
        )  # fmt: skip
    return chosen


def _optional_string(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise bad_request(f"the {name!r} parameter must be a string or null")
    return value


def _optional_object(value: Any, name: str) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise bad_request(f"the {name!r} parameter must be an object (a JSON map) or null")
    return value


def params_from_mapping(data: Any) -> GraphQLParams:
    if isinstance(data, list):
        raise TransportError(
            400, "BATCHING_NOT_SUPPORTED",
            "batched requests (a JSON array) are not supported: send one operation per request",
        )  # fmt: skip
    if not isinstance(data, dict):
        raise bad_request(
            'the request body must be a JSON object such as {"query": "{ __typename }"}'
        )
    return GraphQLParams(
        query=_optional_string(data, "query"),
        operation_name=_optional_string(data, "operationName"),
        variables=_optional_object(data.get("variables"), "variables"),
        extensions=_optional_object(data.get("extensions"), "extensions"),
    )


def _json_parameter(raw: str | None, name: str) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request(f"the {name!r} parameter is not valid JSON") from None


def params_from_query_string(items: Sequence[tuple[str, str]]) -> GraphQLParams:
    """A GET request's parameters (the last of repeated ones)."""
    values = dict(items)
    return GraphQLParams(
        query=values.get("query") or None,
        operation_name=values.get("operationName") or None,
        variables=_optional_object(
            _json_parameter(values.get("variables"), "variables"), "variables"
        ),
        extensions=_optional_object(
            _json_parameter(values.get("extensions"), "extensions"), "extensions"
        ),
    )


def params_from_body(content_type: str | None, body: bytes) -> GraphQLParams:
    """A POST request's parameters; 415 for a type other than JSON, 400 for a body that is
    empty, not UTF-8, not JSON or not one GraphQL request."""
    if not content_type:
        raise TransportError(
            415, "UNSUPPORTED_MEDIA_TYPE",
            "the request has no Content-Type: send the body as application/json",
        )  # fmt: skip
    media, params = _media_type(content_type)
    charset = params.get("charset", "utf-8").lower()
    if media not in REQUEST_MEDIA_TYPES:
        raise TransportError(
            415, "UNSUPPORTED_MEDIA_TYPE",
            f"unsupported Content-Type {media!r}: send the body as application/json",
        )  # fmt: skip
    if charset not in ("utf-8", "utf8"):
        raise TransportError(
            415, "UNSUPPORTED_MEDIA_TYPE", f"unsupported charset {charset!r}: send UTF-8"
        )
    if not body.strip():
        raise bad_request('the request body is empty: send {"query": "..."}')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the request body is not UTF-8") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise bad_request("the request body is not valid JSON") from None
    return params_from_mapping(data)


def is_request_error(result_data: Any, errors: Sequence[Any] | None) -> bool:
    """A request error: the operation did not run (no ``data``), as opposed to a field
    error (``data`` present, possibly null, errors with a ``path``)."""
    if result_data is not None or not errors:
        return False
    return all(not getattr(error, "path", None) for error in errors)
