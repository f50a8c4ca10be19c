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
from domain.errors import DomainError
from domain.principal import AuthMethod, Principal, anonymous
from gateway.logs import request_id_var
from gateway.metrics import HttpMetricsRecorder
from rest.errors import http_error

log = logging.getLogger("karpov.gateway")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = b"x-csrf-token"
CSRF_MAX_AGE = 7 * 24 * 3600
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


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
    """The client address, then one principal resolution per request: API key (seam),
    admin token, or session (cookie ``sid``, ``X-Session-Id``, ``Authorization: Bearer``).
    ``accounts`` is a provider: the service is built at start-up, after the middleware."""

    def __init__(
        self,
        *,
        accounts: Callable[[], AccountService],
        admin_tokens: AdminTokens,
        client_ips: ClientIpResolver,
        api_keys: Callable[[], ApiKeyAuthenticator] | None = None,
    ) -> None:
        self.client_ips = client_ips
        self.accounts = accounts
        self.admin_tokens = admin_tokens
        self.api_keys = api_keys

    async def resolve(self, scope: Scope, send: Send) -> None:
        """Put ``client_ip``, ``principal`` (and ``session_token``) in the request state, or
        answer the request with a rejection through ``send`` (then there is no principal)."""
        st = state(scope)
        ip = st["client_ip"] = self.client_ips.client_ip(scope)
        found_headers = {k: v for k, v in scope["headers"] if k in _CREDENTIAL_HEADERS}
        ua = _text(found_headers.get(b"user-agent"))
        principal: Principal | None = None  # anonymous unless resolved below
        bearer = None
        authorization = _text(found_headers.get(b"authorization"))
        if authorization and authorization[:7].lower() == "bearer ":
            bearer = authorization[7:].strip()
        api_key = _text(found_headers.get(b"x-api-key")) or (
            bearer if bearer and looks_like_key(bearer) else None
        )
        admin_key = _text(found_headers.get(b"x-admin-key"))
        if api_key is not None:
            if self.api_keys is None:
                await reject(scope, send, 401, 40100, "invalid api key", "UNAUTHENTICATED")
                return
            try:
                verified = await self.api_keys().verify(api_key, ip)
            except DomainError as error:
                mapped = http_error(error)
                await reject(scope, send, mapped.status, mapped.biz, error.message, error.code)
                return
            except Exception:
                log.exception("api key lookup failed")
                await reject(
                    scope, send, 503, 50300, "api key store unavailable", "SERVICE_UNAVAILABLE"
                )
                return
            st["api_key"] = verified
            principal = verified.principal(ip, ua)
        elif admin_key is not None:
            if not self.admin_tokens.tokens:
                await reject(scope, send, 403, 40300, "admin disabled", "FORBIDDEN")
                return
            if not self.admin_tokens.matches(admin_key):
                await reject(scope, send, 403, 40300, "admin token invalid", "FORBIDDEN")
                return
            principal = Principal(
                AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN, client_ip=ip, user_agent=ua
            )
        else:
            token = (
                (cookies(scope).get("sid") if b"cookie" in found_headers else None)
                or _text(found_headers.get(b"x-session-id"))
                or bearer
            )
            if token:
                st["session_token"] = token
                try:
                    found = await self.accounts().authenticate(token)
                except Exception:
                    log.exception("session lookup failed")
                    await reject(
                        scope, send, 503, 50300, "session store unavailable", "SERVICE_UNAVAILABLE"
                    )
                    return
                if found is not None:
                    principal = found.principal(ip, ua)
        st["principal"] = principal if principal is not None else anonymous(ip, ua)


class EdgeMiddleware:
    """The whole request pipeline, as ONE pure ASGI layer. In this order:

    1. metrics: every request is counted and timed (method, route template, status);
    2. request id (taken when sane, else made; echoed; tags every log line) and the
       original gateway's security headers on every response;
    3. body-size limit: 413 past ``max_bytes``, by Content-Length up front, else while the
       body streams; then the application is told the client went away and whatever it
       still sends is dropped;
    4. CSRF double-submit as the original: every response to a request without a
       ``csrf_token`` cookie sets one; unsafe methods need ``X-CSRF-Token`` equal to it
       (403/40301), except requests authenticated by header and the exempt paths;
    5. the client address and the principal (:class:`PrincipalResolver`).

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
    ) -> None:
        self.app = app
        self.recorder = recorder
        self.max_bytes = max_bytes
        self.secure = secure_cookies
        self.exempt_paths = frozenset(csrf_exempt_paths)
        self.principals = principals
        self.direct = direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorder = self.recorder
        max_bytes = self.max_bytes
        before = recorder.before(scope)
        status_code = 500
        started = time.perf_counter()
        request_id = request_id_of(scope)
        state(scope)["request_id"] = request_id
        token = request_id_var.set(request_id)
        id_header = (b"x-request-id", request_id.encode())
        set_cookie: list[tuple[bytes, bytes]] = []
        received = 0
        responded = False  # a response has started
        rejected = False  # the streamed body crossed the limit: the 413 is out

        def decorate(message: Message, cookie: list[tuple[bytes, bytes]]) -> None:
            nonlocal status_code
            status_code = int(message["status"])
            headers = list(message.get("headers", []))
            headers.extend(cookie)
            # Only the CSP may be set by a page itself (GraphiQL relaxes it for fonts).
            security = SECURITY_HEADERS
            for name, _ in headers:  # (a plain loop: any() over a generator costs more)
                if name.lower() == _CSP:
                    security = _SECURITY_WITHOUT_CSP
                    break
            headers.extend(security)
            headers.append(id_header)
            message["headers"] = headers

        async def edge_send(message: Message) -> None:
            nonlocal responded
            if rejected:
                return
            if message["type"] == "http.response.start":
                responded = True
                decorate(message, set_cookie)
            await send(message)

        async def limit_send(message: Message) -> None:
            # The size limit answers before CSRF runs: security headers, no CSRF cookie.
            if message["type"] == "http.response.start":
                decorate(message, [])
            await send(message)

        async def counting_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    rejected = True
                    if not responded:
                        await reject(
                            scope, limit_send, 413, 41300, "request body too large",
                            "PAYLOAD_TOO_LARGE",
                        )  # fmt: skip
                    return {"type": "http.disconnect"}
            return message

        try:
            declared = header(scope, b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                await reject(
                    scope, limit_send, 413, 41300, "request body too large", "PAYLOAD_TOO_LARGE"
                )
                return
            if scope["path"] not in self.exempt_paths:
                cookie = cookies(scope).get(CSRF_COOKIE)
                # Every response to a request without the cookie sets one, rejections
                # included, so a client whose first request is unsafe still learns a token.
                if not cookie:
                    set_cookie.append(
                        (b"set-cookie", self._cookie_header(_random.token_urlsafe(32)))
                    )
                if scope["method"] not in SAFE_METHODS and not _has_header_credentials(scope):
                    given = header(scope, CSRF_HEADER)
                    if not cookie or not given or not hmac.compare_digest(cookie, given):
                        await reject(scope, edge_send, 403, 40301, "csrf token mismatch",
                                     "CSRF_FAILED")  # fmt: skip
                        return
            await self.principals.resolve(scope, edge_send)
            if responded:  # rejected by the principal resolution
                return
            endpoint = self.direct(scope) if self.direct is not None else None
            await (endpoint or self.app)(scope, counting_receive, edge_send)
        except Exception:
            if not rejected:
                raise
            # The application saw the simulated disconnect (e.g. ClientDisconnect); the
            # client already has its 413.
        finally:
            request_id_var.reset(token)
            recorder.observe(scope, before, status_code, time.perf_counter() - started)

    def _cookie_header(self, token: str) -> bytes:
        value = f"{CSRF_COOKIE}={token}; Max-Age={CSRF_MAX_AGE}; Path=/; SameSite=Lax"
        if self.secure:
            value += "; Secure"
        return value.encode()
