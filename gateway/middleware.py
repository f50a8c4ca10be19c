"""The request pipeline, as pure ASGI middleware (no BaseHTTPMiddleware: it buffers and
costs a task per request). Per-request facts are put in ``scope["state"]``:
``request_id``, ``client_ip``, ``principal`` and ``session_token``."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.accounts.model import Role
from domain.accounts.service import AccountService
from domain.apikeys.verifier import VerifiedKey
from domain.errors import DomainError
from domain.principal import AuthMethod, Principal, anonymous
from gateway.logs import request_id_var
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


def request_id_of(scope: Scope) -> str:
    """A sane ``X-Request-Id`` from the client, or a new one."""
    given = header(scope, b"x-request-id")
    return given if given and _REQUEST_ID_OK.match(given) else secrets.token_hex(8)


class ResponseHeadersMiddleware:
    """Request id (taken when sane, else made; echoed; tags every log line) and the
    original gateway's security headers on every response. One layer for both: each
    extra ASGI layer is a measurable share of a cheap request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        state(scope)["request_id"] = request_id
        token = request_id_var.set(request_id)
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # Only the CSP may be set by a page itself (GraphiQL relaxes it for fonts).
                own_csp = any(k.lower() == _CSP for k, _ in headers)
                headers.extend(_SECURITY_WITHOUT_CSP if own_csp else SECURITY_HEADERS)
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """413 past ``max_bytes``: by Content-Length up front, else while the body streams.

    When a streamed body crosses the limit, the middleware answers 413 itself, tells the
    application the client went away, and drops whatever the application still sends."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await reject(scope, send, 413, 41300, "request body too large", "PAYLOAD_TOO_LARGE")
            return
        received = 0
        started = False
        rejected = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    rejected = True
                    if not started:
                        await reject(
                            scope, send, 413, 41300, "request body too large", "PAYLOAD_TOO_LARGE"
                        )
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not rejected:
                raise
            # The application saw the simulated disconnect (e.g. ClientDisconnect); the
            # client already has its 413.


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


class CsrfMiddleware:
    """Double-submit CSRF as the original: every response to a request without a
    ``csrf_token`` cookie sets one; unsafe methods need ``X-CSRF-Token`` equal to it
    (403/40301), except requests authenticated by header and the exempt paths."""

    def __init__(self, app: ASGIApp, *, secure: bool, exempt_paths: Iterable[str]) -> None:
        self.app = app
        self.secure = secure
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        cookie = cookies(scope).get(CSRF_COOKIE)
        # Every response to a request without the cookie sets one, rejections included, so
        # a client whose first request is unsafe still learns a token.
        set_cookie = (
            [] if cookie else [(b"set-cookie", self._cookie_header(secrets.token_urlsafe(32)))]
        )
        if scope["method"] not in SAFE_METHODS and not _has_header_credentials(scope):
            given = header(scope, CSRF_HEADER)
            if not cookie or not given or not hmac.compare_digest(cookie, given):
                await reject(
                    scope, send, 403, 40301, "csrf token mismatch", "CSRF_FAILED", set_cookie
                )
                return
        if not set_cookie:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *set_cookie]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, token: str) -> bytes:
        value = f"{CSRF_COOKIE}={token}; Max-Age={CSRF_MAX_AGE}; Path=/; SameSite=Lax"
        if self.secure:
            value += "; Secure"
        return value.encode()


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


class PrincipalMiddleware:
    """The client address, then one principal resolution per request: API key (seam),
    admin token, or session (cookie ``sid``, ``X-Session-Id``, ``Authorization: Bearer``).
    ``accounts`` is a provider: the service is built at start-up, after this stack."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: Callable[[], AccountService],
        admin_tokens: AdminTokens,
        client_ips: ClientIpResolver,
        api_keys: Callable[[], ApiKeyAuthenticator] | None = None,
    ) -> None:
        self.app = app
        self.client_ips = client_ips
        self.accounts = accounts
        self.admin_tokens = admin_tokens
        self.api_keys = api_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        st = state(scope)
        ip = st["client_ip"] = self.client_ips.client_ip(scope)
        found_headers = {k: v for k, v in scope["headers"] if k in _CREDENTIAL_HEADERS}
        ua = _text(found_headers.get(b"user-agent"))
        principal = anonymous(ip, ua)
        bearer = None
        authorization = _text(found_headers.get(b"authorization"))
        if authorization and authorization[:7].lower() == "bearer ":
            bearer = authorization[7:].strip()
        api_key = _text(found_headers.get(b"x-api-key")) or (
            bearer if bearer and bearer.startswith("mk_") else None
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
        st["principal"] = principal
        await self.app(scope, receive, send)
