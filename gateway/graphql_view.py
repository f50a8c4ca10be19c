"""The strawberry ASGI view, wired to our context and our offline GraphiQL page, with
our own GraphQL-over-HTTP transport (``gateway.graphql_http``): strawberry's answers its
transport errors in plain text and ignores ``application/graphql-response+json``."""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from domain.errors import DomainError
from gateway.graphiql import GRAPHIQL_CSP, graphiql_html
from gateway.graphql_http import (
    ALLOWED_METHODS,
    GRAPHQL_RESPONSE_JSON,
    TransportError,
    bad_request,
    is_request_error,
    negotiate,
    params_from_body,
    params_from_query_string,
)
from gateway.request_context import request_context
from resolvers.context import Context, Services
from rest.errors import ERROR_TABLE
from schema.limits import OperationNotChosenError

GET_OPERATIONS = frozenset({OperationType.QUERY})
POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
NO_QUERY = (
    'no GraphQL query in the request: send {"query": "..."} (or a persisted query\'s '
    "hash in extensions.persistedQuery)"
)


class SubResponseCookies:
    """Cookie jar writing to strawberry's sub-response (merged into the final one)."""

    def __init__(self, response: Response, *, secure: bool) -> None:
        self._response = response
        self._secure = secure

    def set(
        self, name: str, value: str, *, max_age: int, http_only: bool = True, path: str = "/"
    ) -> None:
        self._response.set_cookie(
            name, value, max_age=max_age, path=path, httponly=http_only,
            secure=self._secure, samesite="lax",
        )  # fmt: skip

    def delete(self, name: str, *, path: str = "/") -> None:
        self._response.delete_cookie(name, path=path, samesite="lax", httponly=True)


_ORJSON_STRICT = (
    orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)  # fmt: skip
_ONE_DIGIT_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9][,\]}]")


def _floats_written_differently(body: bytes) -> bool:
    """Whether ``body`` may hold a float whose orjson text is not ``repr``'s. Checked
    against every float class (random bit patterns and magnitudes), orjson differs in two
    forms only: below 1e-4 it may write a decimal (``0.00001`` for ``1e-05``), and it
    writes a one-digit negative exponent unpadded (``1e-7`` for ``1e-07``); a number in
    compact JSON ends at ``,``, ``]`` or ``}``. Text inside strings matches only by chance
    (then ``json.dumps`` writes the body). perf (issue 18): two substring searches, and the
    regular expression only when ``e-`` occurs; a regular expression over the whole body
    took longer (≈ 27 µs for 20 songs) than ``json.dumps`` itself."""
    if b"0.0000" in body:
        return True
    return b"e-" in body and _ONE_DIGIT_NEGATIVE_EXPONENT.search(body) is not None


def encode_body(data: Any) -> bytes:
    """perf (issue 18): the bytes of strawberry's ``json.dumps(data, separators=(",",
    ":"))`` (ASCII only, non-ASCII escaped), written by orjson when they are the same:
    an ASCII body without DEL, ``null`` (orjson writes NaN and infinities as null) or a
    float in exponent or tiny-decimal form; anything orjson refuses (integers past 64
    bits, subclasses, non-string keys) goes to ``json.dumps`` as well."""
    try:
        body = orjson.dumps(data, option=_ORJSON_STRICT)
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(data, separators=(",", ":")).encode()
    if (
        not body.isascii() or b"\x7f" in body or b"null" in body
        or _floats_written_differently(body)
    ):  # fmt: skip
        return json.dumps(data, separators=(",", ":")).encode()
    return body


_QUERY_STRINGS: OrderedDict[bytes, list[tuple[str, str]]] = OrderedDict()
_QUERY_STRINGS_MAX = 512
_QUERY_STRING_CACHED_UP_TO = 8192
"""perf (issue 18): a GET's parsed query string by its raw bytes (clients repeat the
same URLs); longer ones are parsed each time."""


def query_items(raw: bytes) -> list[tuple[str, str]]:
    """``request.query_params.multi_items()`` (Starlette's ``parse_qsl`` with blank
    values kept, latin-1 decoded), memoised for short query strings."""
    found = _QUERY_STRINGS.get(raw)
    if found is not None:
        _QUERY_STRINGS.move_to_end(raw)
        return found
    items = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    if len(raw) <= _QUERY_STRING_CACHED_UP_TO:
        _QUERY_STRINGS[raw] = items
        if len(_QUERY_STRINGS) > _QUERY_STRINGS_MAX:
            _QUERY_STRINGS.popitem(last=False)
    return items


class KarpovGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: Any,
        *,
        services: Callable[[], Services],
        secure_cookies: bool,
        graphiql: bool,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql" if graphiql else None)
        self._services = services
        self._secure = secure_cookies
        self._page = graphiql_html() if graphiql else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.answer(request)
        except TransportError as error:
            response = self.error_response(error)
        await response(scope, receive, send)

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        """strawberry's sub-response (no status, no headers, an empty body) without
        building headers only to delete them again (perf, issue 18: ≈ 1.3 µs a request);
        the context writes cookies and headers into it and ``answer`` merges them."""
        sub_response = Response.__new__(Response)
        sub_response.status_code = None  # type: ignore[assignment]
        sub_response.background = None
        sub_response.body = b""
        sub_response.raw_headers = []
        return sub_response

    @staticmethod
    def error_response(error: TransportError) -> Response:
        body = json.dumps(error.body()).encode()
        return Response(body, error.status, headers=error.headers, media_type="application/json")

    def wants_ide(self, request: Request) -> bool:
        if request.method != "GET":
            return False
        names = {name for name, _ in query_items(request.scope["query_string"])}
        if "query" in names or "extensions" in names:
            return False
        accept = request.headers.get("accept", "")
        return "text/html" in accept

    async def answer(self, request: Request) -> Response:
        """One GraphQL-over-HTTP exchange (see ``gateway.graphql_http``)."""
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": ALLOWED_METHODS})
        if method not in ("GET", "POST"):
            raise TransportError(
                405, "METHOD_NOT_ALLOWED", f"{method} is not supported: use GET or POST",
                {"Allow": ALLOWED_METHODS},
            )  # fmt: skip
        if self.wants_ide(request):
            if self._page:
                return await self.render_graphql_ide(request)
            raise TransportError(404, "NOT_FOUND", "GraphiQL is disabled (KARPOV_GRAPHIQL)")
        media = negotiate(request.headers.get("accept"))
        if method == "GET":
            params = params_from_query_string(query_items(request.scope["query_string"]))
        else:
            params = params_from_body(request.headers.get("content-type"), await request.body())
        try:
            resolved = await self._services().documents.resolve(params.query, params.extensions)
        except DomainError as error:
            return self.document_refused(error, media)
        if resolved.document is None:
            raise bad_request(NO_QUERY)
        query = resolved.document
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, sub_response)
        allowed = GET_OPERATIONS if method == "GET" else POST_OPERATIONS
        try:
            result = await self.schema.execute(
                query, variable_values=params.variables, context_value=context,
                operation_name=params.operation_name, allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )  # fmt: skip
        except InvalidOperationTypeError as error:
            if method == "GET":
                raise TransportError(
                    405, "METHOD_NOT_ALLOWED",
                    f"{error.operation_type.value}s are not allowed over GET: send a POST",
                    {"Allow": "POST"},
                ) from None  # fmt: skip
            raise bad_request(
                f"{error.operation_type.value}s are not supported over HTTP"
            ) from None
        except CannotGetOperationTypeError as error:
            raise TransportError(
                400, "GRAPHQL_VALIDATION_FAILED", error.as_http_error_reason()
            ) from None
        except MissingQueryError:
            raise bad_request(NO_QUERY) from None
        data: dict[str, Any] = dict(await self.process_result(request, result))
        status = 200
        refused = is_request_error(result.data, result.errors)
        if media == GRAPHQL_RESPONSE_JSON and refused:
            data.pop("data", None)
            status = request_error_status(data.get("errors") or [])
        elif refused and _operation_not_chosen(result.errors):
            status = 400  # an incomplete HTTP request, whatever the media type (issue 12)
        if resolved.register_as is not None and not _invalid_document(data, refused):
            await self._services().documents.register(resolved.register_as, query)
        response = Response(encode_body(data), status, media_type=media)
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response

    @staticmethod
    def document_refused(error: DomainError, media: str) -> Response:
        """A persisted or trusted document that cannot run: a GraphQL request error
        (200 as ``application/json``, which APQ clients read, else the error's status),
        never cached (the client registers the document and asks again)."""
        body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
        status = 200 if media != GRAPHQL_RESPONSE_JSON else ERROR_TABLE[error.code].status
        return Response(
            json.dumps(body).encode(), status, media_type=media,
            headers={"Cache-Control": "private, no-store"},
        )  # fmt: skip

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(response, Response)
        cookies = SubResponseCookies(response, secure=self._secure)
        return request_context(request.scope, self._services(), cookies, response.headers)

    async def render_graphql_ide(self, request: Request) -> Response:
        # GraphiQL's CSS embeds its fonts and icons as data: URLs; allow those here only.
        return HTMLResponse(self._page, headers={"Content-Security-Policy": GRAPHIQL_CSP})


def request_error_status(errors: list[Any]) -> int:
    """The status of an operation refused before it ran: a domain error's own (429 over
    quota, 401, 403, 503), else 400 (parse, validation, variable coercion, limits)."""
    for error in errors:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        found = ERROR_TABLE.get(code) if isinstance(code, str) else None
        if found is not None:
            return found.status
    return 400


def _operation_not_chosen(errors: list[Any] | None) -> bool:
    """Several operations and no ``operationName`` (``schema.limits``)."""
    return any(isinstance(e, OperationNotChosenError) for e in errors or ())


_INVALID_DOCUMENT = frozenset({"GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED"})


def _invalid_document(data: dict[str, Any], refused: bool) -> bool:
    """Whether the document itself is bad (it did not parse or validate, or broke a
    document limit): such a document is never registered as a persisted query."""
    if not refused:
        return False
    for error in data.get("errors") or []:
        extensions = error.get("extensions") or {} if isinstance(error, dict) else {}
        if extensions.get("code") in _INVALID_DOCUMENT or "limit" in extensions:
            return True
    return False
