"""A real OAuth 2.0 / OpenID Connect authorisation server on loopback, for tests.

Two kinds, chosen per instance:

``kind="linuxdo"`` mimics connect.linux.do (a Discourse OAuth provider): ``/oauth2/authorize``,
``/oauth2/token`` (client credentials in HTTP Basic only), ``/api/user`` (the Linux.do
profile JSON), scope ``read``, no ID token.

``kind="oidc"`` is a generic OpenID provider: ``/.well-known/openid-configuration``,
``/authorize``, ``/token`` (Basic or POST client credentials), ``/userinfo``, ``/jwks``; scope
must include ``openid``; the token answer carries an RS256 ID token whose ``kid`` is in the
JWKS. Claims are released by scope (``email``, ``profile``) as real providers do.

Both speak the authorisation code grant with PKCE S256 required (authlib's server does the
protocol work, see ``oauth_provider``): unknown client or unregistered ``redirect_uri`` at
the authorisation endpoint is a 400 (never a redirect); any later error is redirected with
``state``; codes are single use (spent when they buy a token; a replay is refused and
revokes the tokens the code bought; a failed redemption, e.g. a wrong PKCE verifier, leaves
the code unspent, as authlib does), expire after ``code_lifetime`` seconds and are bound to
client and ``redirect_uri``; a wrong client
secret is a 401 ``invalid_client``; access tokens are opaque and checked by the userinfo
endpoint (401 when missing, unknown, expired or revoked).

The authorisation endpoint renders no pages: it approves at once as the user named by
``sign_in_as`` (401 text if nobody is), or refuses with ``deny_with_error``.

The server runs uvicorn on its own thread, so sync tests, async tests and other processes
all reach it over TCP:

    with FakeOAuthServer(kind="oidc", redirect_uris=[CALLBACK]) as provider:
        provider.add_user(FakeUser(sub="1001", username="alice", email="alice@example.com"))
        provider.sign_in_as("alice")
        ... drive provider.authorize_url / token_url / userinfo_url ...

Misbehaviour toggles are plain attributes (see ``reset``); they are read on every request.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.oauth_provider import HttpRequest, Kind, Provider, SigningKeys, Store
from tests.fakes.oauth_users import FakeUser, linuxdo_profile, oidc_claims

__all__ = ["FakeOAuthServer", "FakeUser", "RecordedRequest"]

_HOST = "127.0.0.1"
_START_TIMEOUT = 10.0

_PATHS: dict[Kind, dict[str, str]] = {
    "linuxdo": {
        "authorize": "/oauth2/authorize",
        "token": "/oauth2/token",
        "userinfo": "/api/user",
    },
    "oidc": {
        "discovery": "/.well-known/openid-configuration",
        "authorize": "/authorize",
        "token": "/token",
        "userinfo": "/userinfo",
        "jwks": "/jwks",
    },
}


class RecordedRequest(NamedTuple):
    """One request the server received; unpacks as ``(method, path, params, headers)``."""

    method: str
    path: str
    params: dict[str, str]
    """Query and form parameters together (the first value of a repeated name)."""
    headers: dict[str, str]
    """Header names lower-cased."""


class FakeOAuthServer:
    def __init__(
        self,
        kind: Kind,
        *,
        client_id: str = "karpov-test",
        client_secret: str = "s3cret",
        redirect_uris: list[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if kind not in _PATHS:
            raise ValueError("kind must be 'linuxdo' or 'oidc'")
        self.kind: Kind = kind
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris: list[str] = list(redirect_uris or [])
        """Registered redirect URIs, matched exactly; append to register more."""
        self.clock = clock
        """Seconds since the epoch: code and token expiry, ID token ``iat``/``exp``."""
        self.requests: list[RecordedRequest] = []
        self._initial_redirect_uris = list(self.redirect_uris)
        self._initial_clock = clock
        self._store = Store()
        self._keys = SigningKeys.generate() if kind == "oidc" else None
        self._provider = Provider(self, self._store, self._keys)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None
        self._set_defaults()

    def _set_defaults(self) -> None:
        self.code_lifetime = 60.0
        self.token_lifetime = 3600
        self.deny_with_error: str | None = None
        """The authorisation endpoint redirects back with ``error=<this>`` and ``state``."""
        self.id_token_audience: str | None = None
        self.id_token_nonce: str | None = None
        self.id_token_issuer: str | None = None
        self.id_token_expired = False
        """``exp`` (and ``iat``) lie well in the past."""
        self.id_token_signing_key: str | None = None
        """Any value: sign with a key that is not in the JWKS (under the published ``kid``)."""
        self.corrupt_code_challenge = False
        """Store a different ``code_challenge``: the client's verifier fails at /token."""
        self.fail_userinfo = False
        """The userinfo endpoint (``/userinfo`` or ``/api/user``) answers 500."""
        self.fail_discovery = False
        """``/.well-known/openid-configuration`` answers 503."""
        self.fail_jwks = False
        """``/jwks`` answers 503."""
        self.delays: dict[str, float] = {}
        """Endpoint name (``discovery``, ``token``, ``userinfo``, ``jwks``, ``authorize``) ->
        seconds to wait before answering (a hung provider)."""
        self.trickle: dict[str, float] = {}
        """Endpoint name -> seconds between the bytes of its answer, sent one at a time
        (a provider that never trips a per-read timeout but never finishes either)."""

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the fake OAuth server is already running")
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
        # without it every keep-alive request waits ~40 ms for a delayed ACK.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind((_HOST, 0))  # port 0: parallel tests never race for a port
        config = uvicorn.Config(
            self._app(),
            log_config=None,  # leave the test process's logging configuration alone
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="fake-oauth", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                listener.close()
                raise RuntimeError("the fake OAuth server did not start")
            time.sleep(0.002)
        self._server, self._thread, self._socket = server, thread, listener
        self._port = int(listener.getsockname()[1])

    def stop(self) -> None:
        server, thread, listener = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._port = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT)
        if listener is not None:
            listener.close()

    def __enter__(self) -> FakeOAuthServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> FakeOAuthServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # -- addresses -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the fake OAuth server is not running (call start())")
        return f"http://{_HOST}:{self._port}"

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def authorize_url(self) -> str:
        return self._url("authorize")

    @property
    def token_url(self) -> str:
        return self._url("token")

    @property
    def userinfo_url(self) -> str:
        return self._url("userinfo")

    @property
    def discovery_url(self) -> str:
        return self._url("discovery")

    @property
    def jwks_url(self) -> str:
        return self._url("jwks")

    def _url(self, endpoint: str) -> str:
        path = _PATHS[self.kind].get(endpoint)
        if path is None:
            raise AttributeError(f"a {self.kind} provider has no {endpoint} endpoint")
        return self.base_url + path

    # -- accounts and state --------------------------------------------------------------

    def add_user(self, user: FakeUser) -> FakeUser:
        with self._store.lock:
            self._store.users[user.username] = user
        return user

    def sign_in_as(self, username: str | None) -> None:
        """The authorisation endpoint approves as this user from now on (``None``: nobody)."""
        with self._store.lock:
            if username is not None and username not in self._store.users:
                raise KeyError(f"no user {username!r}: add_user() first")
            self._store.signed_in = username

    def reset(self) -> None:
        """Forget users, sign-in, codes, tokens, recorded requests and toggles; the registered
        redirect URIs and the clock go back to the constructor's. The server keeps running on
        its port."""
        with self._store.lock:
            self._store.clear()
            self.requests.clear()
            self.redirect_uris[:] = self._initial_redirect_uris
            self.clock = self._initial_clock
            self._set_defaults()

    def rotate_keys(self) -> None:
        """Replace the signing key with a new one (a new ``kid``), as a provider's key
        rotation does: ``/jwks`` serves only the new key and ID tokens carry its ``kid``."""
        if self._keys is None:
            raise AttributeError("a linuxdo provider signs no ID tokens")
        with self._store.lock:
            self._keys = SigningKeys.generate()
            self._provider.keys = self._keys

    def jwks(self) -> dict[str, Any]:
        """The published key set (what ``/jwks`` serves)."""
        if self._keys is None:
            raise AttributeError("a linuxdo provider signs no ID tokens")
        return self._keys.jwks()

    # -- HTTP ----------------------------------------------------------------------------

    def _app(self) -> Starlette:
        paths = _PATHS[self.kind]
        slow = self._slowed
        routes = [
            Route(paths["authorize"], slow("authorize", self._authorize), methods=["GET", "POST"]),
            Route(paths["token"], slow("token", self._token), methods=["POST"]),
        ]
        if self.kind == "oidc":
            routes += [
                Route(
                    paths["userinfo"],
                    slow("userinfo", self._oidc_userinfo),
                    methods=["GET", "POST"],
                ),
                Route(paths["discovery"], slow("discovery", self._discovery), methods=["GET"]),
                Route(paths["jwks"], slow("jwks", self._jwks), methods=["GET"]),
            ]
        else:
            routes.append(
                Route(paths["userinfo"], slow("userinfo", self._linuxdo_user), methods=["GET"])
            )
        return Starlette(routes=routes)

    def _slowed(
        self, endpoint: str, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """``handler``, after the endpoint's delay and trickling its answer if the test asks."""

        async def answer(request: Request) -> Response:
            delay = self.delays.get(endpoint, 0.0)
            response = await handler(request)
            if delay > 0:
                await asyncio.sleep(delay)
            interval = self.trickle.get(endpoint, 0.0)
            if interval <= 0:
                return response
            body = bytes(response.body)

            async def drip() -> AsyncIterator[bytes]:
                for index in range(len(body)):
                    yield body[index : index + 1]
                    await asyncio.sleep(interval)

            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            return StreamingResponse(drip(), status_code=response.status_code, headers=headers)

        return answer

    async def _snapshot(self, request: Request) -> HttpRequest:
        body = await request.body()
        content_type = request.headers.get("content-type", "")
        form = (
            parse_qsl(body.decode(errors="replace"), keep_blank_values=True)
            if content_type.startswith("application/x-www-form-urlencoded")
            else []
        )
        query = parse_qsl(request.url.query, keep_blank_values=True)
        params: dict[str, str] = {}
        for name, value in query + form:
            params.setdefault(name, value)
        with self._store.lock:
            self.requests.append(
                RecordedRequest(
                    request.method,
                    request.url.path,
                    params,
                    {name.lower(): value for name, value in request.headers.items()},
                )
            )
        return HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=request.headers,
            query=query,
            form=form,
            body=body,
        )

    async def _authorize(self, request: Request) -> Response:
        http = await self._snapshot(request)
        with self._store.lock:
            return self._provider.authorize(http, self.deny_with_error)

    async def _token(self, request: Request) -> Response:
        http = await self._snapshot(request)
        with self._store.lock:
            return self._provider.token(http)

    async def _linuxdo_user(self, request: Request) -> Response:
        http = await self._snapshot(request)
        with self._store.lock:
            if self.fail_userinfo:
                return PlainTextResponse("upstream failure (simulated by the test)", 500)
            found = self._provider.bearer(http, "read")
            if isinstance(found, Response):
                return found
            user, _ = found
            return JSONResponse(linuxdo_profile(user))

    async def _oidc_userinfo(self, request: Request) -> Response:
        http = await self._snapshot(request)
        with self._store.lock:
            if self.fail_userinfo:
                return PlainTextResponse("upstream failure (simulated by the test)", 500)
            found = self._provider.bearer(http, "openid")
            if isinstance(found, Response):
                return found
            user, token = found
            return JSONResponse(oidc_claims(user, token.scope, self.issuer))

    async def _discovery(self, request: Request) -> Response:
        await self._snapshot(request)
        if self.fail_discovery:
            return PlainTextResponse("discovery unavailable (simulated by the test)", 503)
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.authorize_url,
                "token_endpoint": self.token_url,
                "userinfo_endpoint": self.userinfo_url,
                "jwks_uri": self.jwks_url,
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", "email", "profile"],
                "claims_supported": [
                    "iss",
                    "sub",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "nonce",
                    "email",
                    "email_verified",
                    "name",
                    "preferred_username",
                    "picture",
                ],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        await self._snapshot(request)
        if self.fail_jwks:
            return PlainTextResponse("key set unavailable (simulated by the test)", 503)
        return JSONResponse(self.jwks())
