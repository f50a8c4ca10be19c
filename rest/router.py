"""The explicit /v1 route table machinery: each route calls a resolver directly (no GraphQL
parse or validation on the REST path) and wraps the result in the original's envelope."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import Receive, Scope, Send

from domain.boundary import check_int, decode_json, parse_instant
from domain.errors import DomainError, InvalidInput, RateLimited, as_unavailable
from domain.principal import AuthMethod
from domain.quota.access import Operation
from domain.quota.gate import LimitState
from domain.quota.headers import limit_header_pairs
from domain.quota.metering import Meter, metering_of
from domain.quota.service import Admission
from resolvers.context import Context
from rest.envelope import Style, domain_failure, failure, success

log = logging.getLogger("karpov.rest")


class ResponseCookies:
    """Cookie jar for /v1 handlers; applied to the response after the handler ran."""

    def __init__(self, *, secure: bool) -> None:
        self._secure = secure
        self._ops: list[tuple[str, str | None, int, bool, str]] = []

    def set(
        self, name: str, value: str, *, max_age: int, http_only: bool = True, path: str = "/"
    ) -> None:
        self._ops.append((name, value, max_age, http_only, path))

    def delete(self, name: str, *, path: str = "/") -> None:
        self._ops.append((name, None, 0, True, path))

    def apply(self, response: Response) -> None:
        for name, value, max_age, http_only, path in self._ops:
            if value is None:
                response.delete_cookie(name, path=path, samesite="lax", httponly=True)
            else:
                response.set_cookie(
                    name,
                    value,
                    max_age=max_age,
                    path=path,
                    httponly=http_only,
                    secure=self._secure,
                    samesite="lax",
                )


@dataclass(slots=True)
class RestRequest:
    """What a /v1 handler sees: the shared context plus the parsed request."""

    ctx: Context
    request: Request
    body: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def query_int(self, name: str, default: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(f"{name} must be an integer", field=name) from None
        return check_int(value, name)

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                raise InvalidInput(f"{name} is required", field=name)
            return None
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a string", field=name)
        return value

    def required_text(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be an integer", field=name)
        return check_int(value, name)

    def strings(self, name: str) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"{name} must be a list of strings", field=name)
        return value

    def instant(self, name: str) -> datetime | None:
        """An RFC 3339 time with its zone, from the body; empty or missing is ``None``."""
        text = self.text(name)
        if text is None or text == "":
            return None
        return parse_instant(text, name)

    def query_instant(self, name: str) -> datetime | None:
        """An RFC 3339 time with its zone, from the query string; empty or missing is
        ``None``."""
        raw = self.query(name)
        return parse_instant(raw, name) if raw else None


@dataclass(frozen=True, slots=True)
class Redirect:
    """A handler's answer that sends the browser elsewhere (302) instead of JSON."""

    location: str


@dataclass(frozen=True, slots=True)
class RawReply:
    """A handler's answer that is not JSON: a payment provider's acknowledgement (text),
    the development cashier page (HTML)."""

    body: str
    media_type: str = "text/plain"
    status: int = 200


Handler = Callable[[RestRequest], Awaitable[Any]]
ContextFactory = Callable[[Request, ResponseCookies], Context]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    style: Style
    summary: str
    auth: str = "public"
    """'public', 'session' (session or API key), 'admin', 'superadmin': for the docs; the
    domain enforces it."""
    twin: str | None = None
    """The GraphQL field that does the same thing (parity tests and the docs name it)."""
    request_fields: tuple[str, ...] = ()
    status: int = 200
    """The success status (302 for browser redirects: the handler returns ``Redirect``)."""
    query_fields: tuple[str, ...] = ()
    raw_body: bool = False
    """The handler reads the body itself (a provider's form-encoded callback)."""
    body: type | None = None
    """The JSON body as a ``TypedDict`` (issue 11: the OpenAPI request schema); without
    it the document types ``request_fields`` by name (``rest.openapi.FIELD_TYPES``)."""


async def _read_body(request: Request) -> dict[str, Any]:
    # The edge middleware decoded it already, by the input boundary's rules.
    decoded = request.scope.get("state", {}).get(JSON_BODY, _MISSING)
    if decoded is not _MISSING:
        body = decoded
    else:
        raw = await request.body()
        body = decode_json(raw) if raw.strip() else None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise InvalidInput("request body must be a JSON object")
    return body


class RouteEndpoint:
    """A raw ASGI endpoint for one route: builds the context, calls the handler, maps
    errors, sends the envelope. (A plain ASGI callable skips Starlette's per-request
    function wrapper, which is a visible share of a cheap request.) It must answer every
    error itself: the gateway's edge calls it directly, without Starlette's exception
    middleware (see ``IndexedRouter.direct_endpoint``)."""

    def __init__(self, route: Route, make_context: ContextFactory, secure_cookies: bool) -> None:
        self.route = route
        self.make_context = make_context
        self.secure_cookies = secure_cookies
        self.__name__ = route.handler.__name__
        # The GraphQL twin names the operation for scopes and metering, so both edges
        # apply the same rules; GET routes are queries, the rest mutations.
        self.operation = Operation(route.twin or route.path, mutation=route.method != "GET")
        self.operations = (self.operation,)
        """One tuple for every call: the gate memoises what it derives by its identity."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route
        request = Request(scope, receive)
        cookies = ResponseCookies(secure=self.secure_cookies)
        ctx = self.make_context(request, cookies)
        metered = metering_of(self.operation.field)
        admission: Admission | None = None
        limit_states: tuple[LimitState, ...] = ()
        # The container's clock, as the usage recorder and the gate use: mixing it with
        # the wall clock would skew latencies and X-RateLimit-Reset under another clock.
        clock = ctx.services.clock
        started = clock.now()
        ok = refused = False
        response: Response
        try:
            if metered is not None or ctx.principal.method is AuthMethod.API_KEY:
                admission = await ctx.services.gate.enter(
                    ctx.principal, ctx.api_key, self.operations
                )
                ctx.admission = admission
                if admission is not None:
                    limit_states = admission.states
                    if admission.metered:  # music (issue 13): the resolver claims it
                        ctx.meter = Meter({self.operation.field: len(admission.metered)})
            reads_json = route.method in _BODY_METHODS and not route.raw_body
            body = await _read_body(request) if reads_json else {}
            data = await route.handler(RestRequest(ctx=ctx, request=request, body=body))
            if isinstance(data, Response):  # a file (the local provider's stream)
                response = data
            elif isinstance(data, Redirect):
                # The location may carry one-time values (state, a login challenge).
                response = RedirectResponse(
                    data.location, status_code=302, headers={"Cache-Control": "no-store"}
                )
            elif isinstance(data, RawReply):
                response = Response(
                    data.body, status_code=data.status, media_type=data.media_type,
                    headers={"Cache-Control": "no-store"},
                )  # fmt: skip
            else:
                response = success(route.style, data, route.status)
            ok = True
        except RateLimited as error:
            limit_states = error.states
            refused = True
            response = domain_failure(route.style, error)
        except DomainError as error:
            response = domain_failure(route.style, error)
        except ClientDisconnect:
            raise
        except Exception as error:
            unavailable = as_unavailable(error)
            if unavailable is not None:
                log.warning("dependency unavailable in /v1 handler (%r)", error,
                            extra={"route": route.path})  # fmt: skip
                response = domain_failure(route.style, unavailable)
            else:
                log.exception("unexpected error in /v1 handler", extra={"route": route.path})
                response = failure(route.style, 500, 50000, 13, "internal error")
        if admission is not None and admission.metered:
            # What the resolver claimed (with its provider), else the route's operation;
            # a route that answered an error is charged nothing.
            claimed = ctx.meter.calls if ctx.meter is not None else []
            outcomes = [(m, ok and done) for m, done in claimed] or [
                (m, ok) for m in admission.metered
            ]
            await ctx.services.gate.finish(admission, outcomes, started)
        if limit_states:
            # Appended raw: setting them one by one through MutableHeaders rescans the
            # header list each time, a visible cost on every API-key request.
            # perf (issue 18): the instant is read only for a refusal (only its
            # X-RateLimit-Reset uses it).
            now = clock.now().timestamp() if refused else 0.0
            response.raw_headers.extend(limit_header_pairs(limit_states, now, refused=refused))
        if admission is not None and admission.extra_usage is not None:
            # billing (issue 14): the call was paid from the wallet (pay-as-you-go)
            response.raw_headers.extend(admission.extra_usage.header_pairs())
        cookies.apply(response)
        await response(scope, receive, send)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_MISSING = object()
JSON_BODY = "json_body"
"""The request state's key for the body the edge already decoded (``None``: empty)."""


def build_routes(
    table: list[Route], make_context: ContextFactory, *, secure_cookies: bool
) -> list[StarletteRoute]:
    return [
        StarletteRoute(
            r.path,
            RouteEndpoint(r, make_context, secure_cookies),
            methods=[r.method],
            name=f"{r.method} {r.path}",
        )
        for r in table
    ]
