"""The request pipeline, as one pure ASGI middleware (no BaseHTTPMiddleware: it buffers and
costs a task per request). Per-request facts are put in ``scope["state"]``:
``request_id``, ``client_ip``, ``principal`` and ``session_token``."""

from __future__ import annotations

import base64
import hmac
import ipaddress
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.accounts.model import Role
from domain.accounts.service import AccountService
from domain.apikeys.format import looks_like_key
from domain.apikeys.verifier import VerifiedKey
from domain.boundary import NOT_JSON, decode_json, text_problem
from domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    ServiceUnavailable,
    Unauthenticated,
    as_unavailable,
)
from domain.principal import AuthMethod, Principal, anonymous
from gateway.cors import CorsPolicy, is_cors_path
from gateway.logs import request_id_var
from gateway.metrics import HttpMetricsRecorder
from rest.errors import http_error
from rest.router import JSON_BODY

log = logging.getLogger("karpov.gateway")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAYMENT_CALLBACK_PREFIX = "/v1/billing/callback/"  # payments (issue 16)
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
CSRF_MAX_AGE = 7 * 24 * 3600
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CREDENTIAL_SOURCE = "credential_source"
"""Request state: ``"header"`` when the principal was resolved from a header credential."""
_CSRF_DEFERRED = "_csrf_deferred"


def state(scope: Scope) -> dict[str, Any]:
    return scope.setdefault("state", {})  # type: ignore[no-any-return]


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies, parsed once per request (CSRF and the principal both read
    them) with Starlette's lenient parser: a malformed pair is skipped, not fatal."""
    st = state(scope)
    parsed: dict[str, str] | None = st.get("_cookies")
    if parsed is None:
        raw = header(scope, b"cookie")
        parsed = cookie_parser(raw) if raw else {}
        # Our cookies are ASCII; a non-ASCII value (latin-1 decoded bytes) is not one of
        # ours: ignored, as a malformed pair is (a fresh csrf_token replaces it).
        if raw and not raw.isascii():
            parsed = {k: v for k, v in parsed.items() if v.isascii() and k.isascii()}
        st["_cookies"] = parsed
    return parsed


async def reject(
    scope: Scope,
    send: Send,
    status: int,
    biz: int,
    message: str,
    code: str,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer in the caller's dialect: a GraphQL error for /graphql, else the envelope."""
    if scope["path"].startswith("/graphql"):
        payload: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    else:
        payload = {"code": biz, "message": message}
        if status == 503:  # harden: which dependency is down, by its stable code
            payload["reason"] = code
    body = json.dumps(payload).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"content-security-policy", b"default-src 'self'"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"permissions-policy", b"geolocation=(), microphone=(), camera=()"),
]
_CSP = b"content-security-policy"
_CSP_LEN = len(_CSP)
_SECURITY_WITHOUT_CSP = [h for h in SECURITY_HEADERS if h[0] != _CSP]


class RandomBytes:
    """Bytes from the OS CSPRNG (``os.urandom``, as ``secrets`` uses), fetched in blocks.

    Every request needs fresh random bytes (a request id, usually a CSRF token); one
    ``getrandom`` system call per value is a visible share of a cheap request on a VM, so
    the edge reads a block at a time and hands out each byte once. Same source, same
    unpredictability; a forked child drops the parent's block (it would repeat it)."""

    def __init__(self, block: int = 4096) -> None:
        self._block = block
        self._lock = threading.Lock()
        self._buffer = b""
        self._used = 0
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._buffer, self._used = b"", 0

    def take(self, n: int) -> bytes:
        if n > self._block:
            return os.urandom(n)
        with self._lock:
            start = self._used
            if start + n > len(self._buffer):
                self._buffer, start = os.urandom(self._block), 0
            self._used = start + n
            return self._buffer[start : start + n]

    def token_hex(self, n: int) -> str:
        """As ``secrets.token_hex(n)``."""
        return self.take(n).hex()

    def token_urlsafe(self, n: int) -> str:
        """As ``secrets.token_urlsafe(n)``."""
        return base64.urlsafe_b64encode(self.take(n)).rstrip(b"=").decode("ascii")


_random = RandomBytes()


def request_id_of(scope: Scope) -> str:
    """A sane ``X-Request-Id`` from the client, or a new one."""
    given = header(scope, b"x-request-id")
    return given if given and _REQUEST_ID_OK.match(given) else _random.token_hex(8)


class ClientIpResolver:
    """The client address: the peer, or — only when the peer is a trusted proxy — the
    right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy."""

    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self.trusted = [ipaddress.ip_network(c, strict=False) for c in trusted_proxies]

    def _is_trusted(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self.trusted)

    def client_ip(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        ip: str | None = str(peer[0]) if peer else None
        if not ip or not self.trusted or not self._is_trusted(ip):
            return ip
        forwarded = header(scope, b"x-forwarded-for")
        if not forwarded:
            return ip
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return ip  # a malformed chain: trust nothing beyond the proxy
            if not self._is_trusted(hop):
                return hop
            ip = hop
        return ip


def _has_header_credentials(scope: Scope) -> bool:
    """Credentials a browser cannot be made to send cross-site (so no CSRF risk)."""
    for key, value in scope["headers"]:
        if key in (b"x-api-key", b"x-admin-key", b"x-session-id"):
            return True
        if key == b"authorization" and value[:7].lower() == b"bearer ":
            return True
    return False


# -- GraphQL CSRF prevention, as Apollo Server's csrfPrevention (issue 11) ---------------
# /graphql does not use the double-submit cookie: a POST passes when a browser could not
# have sent it cross-site without a preflight (which CORS refuses for unlisted origins).

SIMPLE_CONTENT_TYPES = frozenset(
    {b"text/plain", b"application/x-www-form-urlencoded", b"multipart/form-data"}
)
"""What a cross-site form or ``fetch(..., {mode: "no-cors"})`` may send without a preflight."""
PREFLIGHT_HEADERS = frozenset({
    b"x-csrf-token", b"apollo-require-preflight", b"graphql-preflight",
    b"x-apollo-operation-name", b"authorization", b"x-api-key", b"x-admin-key",
    b"x-session-id",
})  # fmt: skip
"""Headers a simple request cannot carry: any one of them (non-empty) forces a preflight."""
GRAPHQL_CSRF_MESSAGE = (
    "this request has been blocked as a possible cross-site request forgery: send it with "
    "Content-Type: application/json (or application/graphql-response+json), or add a "
    "non-empty Apollo-Require-Preflight, GraphQL-Preflight or X-CSRF-Token header"
)


def graphql_csrf_passes(scope: Scope) -> bool:
    """Only a POST can be sent cross-site without a preflight (a GET never runs a
    mutation: the view refuses it; other methods always need a preflight). A POST passes
    with a Content-Type that is not a simple one, or with a header only a preflighted
    request can carry."""
    if scope["method"] != "POST":
        return True
    content_type: bytes | None = None
    for key, value in scope["headers"]:
        if key in PREFLIGHT_HEADERS and value.strip():
            return True
        if key == b"content-type":
            content_type = value
    if content_type is None:
        return False
    mime = content_type.split(b";", 1)[0].strip().lower()
    return bool(mime) and mime not in SIMPLE_CONTENT_TYPES


# -- end of GraphQL CSRF prevention --------------------------------------------------------
def _double_submit_ok(scope: Scope, cookie: str | None) -> bool:
    """``X-CSRF-Token`` equals the ``csrf_token`` cookie (compared as bytes: either may
    hold any byte a client sends)."""
    given = header(scope, CSRF_HEADER)
    if not cookie or not given:
        return False
    return hmac.compare_digest(cookie.encode("latin-1", "replace"), given.encode("latin-1"))


class _CsrfFailed(Exception):
    pass


class ApiKeyAuthenticator(Protocol):
    """Resolves a presented API key (raises ``Unauthenticated`` / ``Forbidden``)."""

    async def verify(self, presented: str, client_ip: str | None) -> VerifiedKey: ...


@dataclass(frozen=True, slots=True)
class AdminTokens:
    tokens: tuple[bytes, ...]

    def matches(self, presented: str) -> bool:
        candidate = presented.encode()
        # Compare against every token, without stopping early: constant time in the match.
        found = False
        for token in self.tokens:
            found |= hmac.compare_digest(token, candidate)
        return found


_CREDENTIAL_HEADERS = frozenset(
    {b"user-agent", b"authorization", b"x-api-key", b"x-admin-key", b"x-session-id", b"cookie"}
)


def _text(raw: bytes | None) -> str | None:
    return raw.decode("latin-1") if raw is not None else None


class PrincipalResolver:
    """The client address, then one principal resolution per request: API key, admin
    token, or session (cookie ``sid``, ``X-Session-Id``, ``Authorization: Bearer``).
    ``accounts`` and ``api_keys`` are providers: the services are built at start-up,
    after the middleware."""

    def __init__(
        self,
        *,
        accounts: Callable[[], AccountService],
        api_keys: Callable[[], ApiKeyAuthenticator],
        admin_tokens: AdminTokens,
        client_ips: ClientIpResolver,
    ) -> None:
        self.client_ips = client_ips
        self.accounts = accounts
        self.admin_tokens = admin_tokens
        self.api_keys = api_keys

    async def resolve(self, scope: Scope) -> Principal:
        """The caller, also put in the request state with ``client_ip`` (and ``api_key`` or
        ``session_token``); a credential that does not check out raises a ``DomainError``
        (answered like every other domain error, through ``rest.errors``)."""
        st = state(scope)
        ip = st["client_ip"] = self.client_ips.client_ip(scope)
        found_headers = {k: v for k, v in scope["headers"] if k in _CREDENTIAL_HEADERS}
        ua = _text(found_headers.get(b"user-agent"))
        bearer = None
        authorization = _text(found_headers.get(b"authorization"))
        if authorization and authorization[:7].lower() == "bearer ":
            bearer = authorization[7:].strip()
        api_key = _text(found_headers.get(b"x-api-key")) or (
            bearer if bearer and looks_like_key(bearer) else None
        )
        principal: Principal | None
        if api_key is not None:
            principal = await self._api_key(st, api_key, ip, ua)
        elif (admin_key := _text(found_headers.get(b"x-admin-key"))) is not None:
            principal = self._admin(st, admin_key, ip, ua)
        else:
            # A session by header wins over the cookie, and then the cookie is not read:
            # CSRF is skipped only for a header credential that authenticates.
            token = _text(found_headers.get(b"x-session-id")) or bearer
            if token:
                st[CREDENTIAL_SOURCE] = "header"
            elif b"cookie" in found_headers:
                token = cookies(scope).get("sid")
            principal = None
            if token:
                st["session_token"] = token
                try:
                    found = await self.accounts().authenticate(token)
                except DomainError:
                    raise
                except Exception as exc:
                    log.warning("session lookup failed (%r)", exc)
                    raise as_unavailable(exc) or ServiceUnavailable(
                        "session store unavailable"
                    ) from None
                if found is not None:
                    principal = found.principal(ip, ua)
        st["principal"] = principal = principal if principal is not None else anonymous(ip, ua)
        return principal

    async def _api_key(
        self, st: dict[str, Any], presented: str, ip: str | None, ua: str | None
    ) -> Principal:
        try:
            verified = await self.api_keys().verify(presented, ip)
        except DomainError:
            raise
        except Exception as exc:
            log.warning("api key lookup failed (%r)", exc)
            raise as_unavailable(exc) or ServiceUnavailable("api key store unavailable") from None
        st["api_key"] = verified
        st[CREDENTIAL_SOURCE] = "header"
        return verified.principal(ip, ua)

    def _admin(
        self, st: dict[str, Any], presented: str, ip: str | None, ua: str | None
    ) -> Principal:
        if not self.admin_tokens.tokens:
            raise Forbidden("admin disabled")
        if not self.admin_tokens.matches(presented):
            raise Forbidden("admin token invalid")
        st[CREDENTIAL_SOURCE] = "header"
        return Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN, client_ip=ip, user_agent=ua)


# -- harden (issue 12): the input boundary's edge steps -----------------------------------

MAX_HEADER_BYTES = 32 * 1024
"""All request header names and values together; past it the answer is 431."""
_ASCII_HEADERS = {
    b"x-csrf-token": "X-CSRF-Token", b"x-session-id": "X-Session-Id",
    b"x-api-key": "X-API-Key", b"x-admin-key": "X-Admin-Key",
    b"authorization": "Authorization",
}  # fmt: skip
_BODY_CHECKED_METHODS = frozenset({"POST", "PUT", "PATCH"})


class HeadersTooLarge(Exception):
    """The request's headers are over ``MAX_HEADER_BYTES`` (431)."""


def request_refusal(scope: Scope) -> InvalidInput | HeadersTooLarge | None:
    """The input boundary for what arrives before the body: headers (size, NUL, ASCII
    credentials), the path and the query parameters (NUL). One pass over the headers."""
    total = 0
    for key, value in scope["headers"]:
        total += len(key) + len(value)
        if b"\x00" in value:
            return InvalidInput(f"header {key.decode('latin-1')} must not contain NUL")
        name = _ASCII_HEADERS.get(key)
        if name is not None and not value.isascii():
            return InvalidInput(f"header {name} must be ASCII", field=name)
    if total > MAX_HEADER_BYTES:
        return HeadersTooLarge()
    if "\x00" in scope["path"]:
        return InvalidInput("the path must not contain NUL", field="path")
    query: bytes = scope.get("query_string", b"")
    if query and (b"%00" in query or b"\x00" in query):
        from urllib.parse import parse_qsl

        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            for part, what in ((name, "a query parameter name"), (value, name)):
                problem = text_problem(part)
                if problem is not None:
                    return InvalidInput(f"{what} {problem}", field=what)
    return None


async def read_json_body(
    scope: Scope, exchange: Exchange
) -> tuple[InvalidInput | None, Receive | None]:
    """The input boundary for JSON bodies on both edges (/v1 and /graphql): UTF-8, at most
    ``MAX_JSON_DEPTH`` levels, every string valid text. Reads the body once (the size
    limit still applies) and returns a ``receive`` that replays it, or ``None`` when the
    client went away or the limit answered. /v1 gets the decoded body in the request state;
    a GraphQL body that is not JSON at all is left to the GraphQL view to answer."""
    path = scope["path"]
    graphql = path == "/graphql"
    content_type = (header(scope, b"content-type") or "").lower()
    if graphql and "multipart/" in content_type:
        return None, exchange.receive
    chunks: list[bytes] = []
    while True:
        message = await exchange.receive()
        if message["type"] != "http.request":
            return None, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await exchange.receive()

    # A form body (a payment provider's notification, whatever type its callback posts)
    # is the handler's to parse; the boundary still requires UTF-8. A JSON route answers a
    # form body 400 itself.
    form = content_type.startswith("application/x-www-form-urlencoded") or (
        path.startswith("/v1/billing/callback/") and "json" not in content_type
    )
    if (graphql and "json" not in content_type) or (form and not graphql):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return InvalidInput("request body is not valid UTF-8"), replay
        return None, replay
    try:
        value = decode_json(raw, lenient=graphql) if raw.strip() else None
    except InvalidInput as error:
        return error, replay
    if not graphql and value is not NOT_JSON:
        state(scope)[JSON_BODY] = value
    return None, replay


def body_too_large(scope: Scope, max_bytes: int) -> bool:
    """Whether the declared ``Content-Length`` is over the limit (a body that streams
    without one is counted as it arrives: ``Exchange.receive``)."""
    declared = header(scope, b"content-length")
    return declared is not None and declared.isdigit() and int(declared) > max_bytes


class Exchange:
    """One request's passage through the edge. ``send`` adds, to the response, the
    security headers, the request id and the CSRF cookie when one is issued (and notes the
    status for the metrics); ``send_bare`` the same without the cookie (the size limit
    answers before CSRF runs). ``receive`` counts the body: past the limit it answers 413
    (unless a response has started), tells the application the client went away, and
    drops whatever the application still sends."""

    __slots__ = (
        "_max_bytes", "_receive", "_received", "_scope", "_send", "id_header", "rejected",
        "responded", "set_cookie", "status",
    )  # fmt: skip

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, request_id: str, max_bytes: int
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self._max_bytes = max_bytes
        self._received = 0
        self.id_header = (b"x-request-id", request_id.encode())
        self.set_cookie: list[tuple[bytes, bytes]] = []
        self.status = 500
        self.responded = False
        self.rejected = False

    def _decorate(self, message: Message, cookie: list[tuple[bytes, bytes]]) -> None:
        self.status = int(message["status"])
        headers = list(message.get("headers", []))
        headers.extend(cookie)
        # Only the CSP may be set by a page itself (GraphiQL relaxes it for fonts).
        security = SECURITY_HEADERS
        for name, _ in headers:  # (a plain loop: any() over a generator costs more)
            # perf (issue 18): lower-cased (a call) only when the name is as long as the CSP's
            if name[_CSP_LEN - 1 :] and not name[_CSP_LEN:] and name.lower() == _CSP:
                security = _SECURITY_WITHOUT_CSP
                break
        headers.extend(security)
        headers.append(self.id_header)
        message["headers"] = headers

    async def send(self, message: Message) -> None:
        if self.rejected:
            return
        if message["type"] == "http.response.start":
            self.responded = True
            self._decorate(message, self.set_cookie)
        await self._send(message)

    async def send_bare(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._decorate(message, [])
        await self._send(message)

    async def receive(self) -> Message:
        if self.rejected:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._max_bytes:
                self.rejected = True
                if not self.responded:
                    await reject(
                        self._scope, self.send_bare, 413, 41300, "request body too large",
                        "PAYLOAD_TOO_LARGE",
                    )  # fmt: skip
                return {"type": "http.disconnect"}
        return message


class EdgeMiddleware:
    """The whole request pipeline, as ONE pure ASGI layer, read as its steps:

    1. metrics: every request is counted and timed (method, route template, status);
    2. request id (taken when sane, else made; echoed; tags every log line) and the
       original gateway's security headers on every response (``Exchange``);
    3. body-size limit: 413 past ``max_bytes``, by Content-Length up front
       (``body_too_large``), else while the body streams (``Exchange.receive``);
    4. CSRF double-submit as the original (``csrf_passes``): every response to a request
       without a ``csrf_token`` cookie sets one; unsafe methods need ``X-CSRF-Token``
       equal to it (403/40301), except requests authenticated by header and the exempt
       paths;
    5. the client address and the principal (``PrincipalResolver.resolve``), whose
       ``DomainError`` is answered through the /v1 error table like any other.

    These were five middleware layers; each layer costs a coroutine frame per request and
    a wrapper call per response message, a measurable share of a cheap request. Merged,
    every response still gets exactly what the separate layers gave it: a 413 has no
    CSRF cookie (the limit ran first), CSRF and principal rejections have it.

    ``direct`` may return the endpoint for a request that needs neither routing nor
    Starlette's exception middleware (a /v1 route maps its own errors); it is called with
    the scope after the principal is known and must set the scope up as routing would.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        recorder: HttpMetricsRecorder,
        max_bytes: int,
        secure_cookies: bool,
        csrf_exempt_paths: Iterable[str],
        principals: PrincipalResolver,
        direct: Callable[[Scope], ASGIApp | None] | None = None,
        cors: CorsPolicy | None = None,
        graphql_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.max_bytes = max_bytes
        self.secure = secure_cookies
        self.exempt_paths = frozenset(csrf_exempt_paths)
        self.principals = principals
        self.direct = direct
        # issue 11: CORS and the GraphQL CSRF rule
        self.cors = cors
        self.graphql_paths = frozenset(graphql_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorder = self.recorder
        before = recorder.before(scope)
        started = time.perf_counter()
        request_id = request_id_of(scope)
        state(scope)["request_id"] = request_id
        token = request_id_var.set(request_id)
        exchange = Exchange(scope, receive, send, request_id, self.max_bytes)
        # The steps, in order; a step that refuses the request answers it, and nothing
        # after it runs.
        try:
            if body_too_large(scope, self.max_bytes):
                await reject(scope, exchange.send_bare, 413, 41300, "request body too large",
                             "PAYLOAD_TOO_LARGE")  # fmt: skip
                return
            if await self.cors_answered(scope, exchange):  # issue 11: CORS preflights
                return
            refusal = request_refusal(scope)  # harden: the input boundary (headers, query)
            if isinstance(refusal, HeadersTooLarge):
                await reject(scope, exchange.send_bare, 431, 43100,
                             "request header fields too large", "HEADERS_TOO_LARGE")  # fmt: skip
                return
            if refusal is not None:
                await reject(scope, exchange.send_bare, 400, 40000, refusal.message,
                             refusal.code)  # fmt: skip
                return
            if not self.csrf_passes(scope, exchange):
                await reject(scope, exchange.send, 403, 40301, "csrf token mismatch",
                             "CSRF_FAILED")  # fmt: skip
                return
            if scope["path"] in self.graphql_paths and not graphql_csrf_passes(scope):
                await reject(scope, exchange.send, 400, 40000, GRAPHQL_CSRF_MESSAGE,
                             "CSRF_FAILED")  # fmt: skip
                return
            try:
                principal = await self.principals.resolve(scope)
                self.csrf_after_principal(scope, principal)  # harden: header credentials
            except _CsrfFailed:
                await reject(scope, exchange.send, 403, 40301, "csrf token mismatch",
                             "CSRF_FAILED")  # fmt: skip
                return
            except DomainError as error:
                mapped = http_error(error)
                retry = getattr(error, "retry_after", None)  # harden: 503s say when to retry
                extra = [(b"retry-after", str(retry).encode())] if retry else []
                await reject(scope, exchange.send, mapped.status, mapped.biz, error.message,
                             error.code, extra)  # fmt: skip
                return
            app_receive: Receive = exchange.receive
            if (
                scope["method"] in _BODY_CHECKED_METHODS
                and (scope["path"] == "/graphql" or scope["path"].startswith("/v1/"))
                # -- payments (issue 16): providers post forms, not JSON, to their callbacks
                and not scope["path"].startswith(PAYMENT_CALLBACK_PREFIX)
            ):  # harden: the input boundary (JSON bodies)
                invalid, replay = await read_json_body(scope, exchange)
                if invalid is not None:
                    await reject(scope, exchange.send, 400, 40000, invalid.message,
                                 invalid.code)  # fmt: skip
                    return
                if replay is None:
                    return
                app_receive = replay
            endpoint = self.direct(scope) if self.direct is not None else None
            await (endpoint or self.app)(scope, app_receive, exchange.send)
        except Exception:
            if not exchange.rejected:
                raise
            # The application saw the simulated disconnect (e.g. ClientDisconnect); the
            # client already has its 413.
        finally:
            request_id_var.reset(token)
            recorder.observe(scope, before, exchange.status, time.perf_counter() - started)

    def csrf_passes(self, scope: Scope, exchange: Exchange) -> bool:
        if scope["path"] in self.exempt_paths:
            return True
        cookie = cookies(scope).get(CSRF_COOKIE)
        # Every response to a request without the cookie sets one, rejections included,
        # so a client whose first request is unsafe still learns a token.
        if not cookie:
            exchange.set_cookie.append(
                (b"set-cookie", self._cookie_header(_random.token_urlsafe(32)))
            )
        if scope["method"] in SAFE_METHODS:
            return True
        if _has_header_credentials(scope):
            # Decided once the principal is known (csrf_after_principal): only a header
            # credential that authenticates skips the check.
            state(scope)[_CSRF_DEFERRED] = True
            return True
        return _double_submit_ok(scope, cookie)

    def csrf_after_principal(self, scope: Scope, principal: Principal) -> None:
        """For an unsafe request that presented a header credential: skipped when that
        credential authenticated (the cookie was not read); else the double-submit check
        applies, and a credential that did not authenticate is answered 401."""
        st = state(scope)
        if not st.get(_CSRF_DEFERRED):
            return
        if st.get(CREDENTIAL_SOURCE) == "header" and principal.method is not AuthMethod.ANONYMOUS:
            return
        if not _double_submit_ok(scope, cookies(scope).get(CSRF_COOKIE)):
            if st.get(CREDENTIAL_SOURCE) == "header":
                raise Unauthenticated("invalid or expired session")
            raise _CsrfFailed

    async def cors_answered(self, scope: Scope, exchange: Exchange) -> bool:
        """CORS (issue 11): answers a preflight on /graphql or /v1 (True), else adds the
        answer's CORS headers (carried with the cookie headers: ``Exchange.set_cookie``)."""
        if self.cors is None or not is_cors_path(scope["path"]):
            return False
        if self.cors.is_preflight(scope):
            status, headers = self.cors.preflight(scope)
            if status == 204:
                await exchange.send({"type": "http.response.start", "status": 204,
                                     "headers": headers})  # fmt: skip
                await exchange.send({"type": "http.response.body", "body": b""})
            else:
                await reject(scope, exchange.send, status, 40300,
                             "this origin may not call the API (see KARPOV_CORS_ORIGINS)",
                             "CORS_ORIGIN_REFUSED", headers)  # fmt: skip
            return True
        exchange.set_cookie.extend(self.cors.response_headers(scope))
        return False

    def _cookie_header(self, token: str) -> bytes:
        value = f"{CSRF_COOKIE}={token}; Max-Age={CSRF_MAX_AGE}; Path=/; SameSite=Lax"
        if self.secure:
            value += "; Secure"
        return value.encode()
