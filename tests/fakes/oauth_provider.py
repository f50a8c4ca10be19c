"""authlib's framework-neutral authorisation server, driven by plain request snapshots.

authlib ships server integrations for Flask and Django only; its generic
``AuthorizationServer`` needs four adapters (``create_oauth2_request``,
``create_json_request``, ``handle_response``, ``send_signal``). They are implemented here
over an ``HttpRequest`` snapshot taken by the Starlette app in ``oauth_server``, so every
OAuth rule (client authentication, redirect URI matching, PKCE, code binding, scopes,
bearer token checks, ID token claims) is authlib's real implementation, not ours.

authlib is untyped, hence the ``type: ignore[misc]`` on each subclass of one of its classes.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
    JsonPayload,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    ResourceProtector,
    list_to_scope,
    scope_to_list,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core import OpenIDCode
from joserfc.jwk import KeySet, RSAKey
from starlette.responses import PlainTextResponse, Response

from tests.fakes.oauth_users import FakeUser, oidc_claims

Kind = Literal["linuxdo", "oidc"]

_EXPIRED_BY = 600
"""An expired ID token's ``exp`` lies this far in the past: beyond any sane clock leeway."""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    """Case-insensitive (Starlette ``Headers``): authlib looks up ``Authorization``."""
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    body: bytes


class ProviderHost(Protocol):
    """What the provider reads from its owner on every request, so tests can change it live."""

    kind: Kind
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    code_lifetime: float
    token_lifetime: int
    clock: Callable[[], float]
    corrupt_code_challenge: bool
    id_token_audience: str | None
    id_token_nonce: str | None
    id_token_issuer: str | None
    id_token_expired: bool
    id_token_signing_key: str | None

    @property
    def issuer(self) -> str: ...


# -- request adapters ------------------------------------------------------------------


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._data.setdefault(name, value)
            self._datalist[name].append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _OAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(http.method, http.url, headers=http.headers)
        self._args = dict(http.query)
        self._form = dict(http.form)
        # Query and body together, as authlib's Flask integration does (``request.values``);
        # repeats stay visible so authlib can reject a repeated parameter.
        self.payload = _Payload(http.query + http.form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _JsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, body: bytes) -> None:
        self._data = json.loads(body) if body else {}

    @property
    def data(self) -> Any:
        return self._data


class _JsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, http: HttpRequest) -> None:
        super().__init__(http.method, http.url, http.headers)
        self.payload = _JsonPayload(http.body)


# -- models (authlib duck-types them) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    auth_methods: tuple[str, ...]
    required_scope: str
    default_scope: str | None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # No default: the client must always name its redirect URI, and the same one at /token.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        requested = scope_to_list(scope) or scope_to_list(self.default_scope) or []
        if self.required_scope not in requested:
            return None
        return cast(str, list_to_scope(list(dict.fromkeys(requested))))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    code_challenge: str
    code_challenge_method: str
    nonce: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


@dataclass(slots=True)
class AccessToken:
    access_token: str
    client_id: str
    username: str
    scope: str
    expires_at: float
    code: str
    clock: Callable[[], float]
    revoked: bool = False

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - self.clock()))

    def is_expired(self) -> bool:
        return self.clock() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked


@dataclass(slots=True)
class Store:
    """Everything the provider remembers. Guarded by ``lock``: requests are handled on the
    server thread while the test thread adds users or resets."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    users: dict[str, FakeUser] = field(default_factory=dict)
    """By username."""
    signed_in: str | None = None
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    spent_codes: set[str] = field(default_factory=set)
    tokens: dict[str, AccessToken] = field(default_factory=dict)
    nonces: set[tuple[str, str]] = field(default_factory=set)

    def clear(self) -> None:
        with self.lock:
            self.users.clear()
            self.signed_in = None
            self.codes.clear()
            self.spent_codes.clear()
            self.tokens.clear()
            self.nonces.clear()

    def redeemable_code(self, code: str, client_id: str, now: float) -> AuthorizationCode | None:
        if code in self.spent_codes:
            # RFC 6749 §4.1.2: a replayed code revokes what it already bought.
            for token in self.tokens.values():
                if token.code == code:
                    token.revoked = True
            return None
        found = self.codes.get(code)
        if found is None or found.client_id != client_id:
            return None
        if now >= found.expires_at:
            del self.codes[code]
            return None
        return found

    def spend_code(self, code: AuthorizationCode) -> None:
        self.codes.pop(code.code, None)
        self.spent_codes.add(code.code)


@dataclass(frozen=True, slots=True)
class SigningKeys:
    published: RSAKey
    rogue: RSAKey
    """Carries the published key's ``kid`` but is not in the JWKS, so a relying party finds
    the key it expects and the signature check itself must fail."""

    @classmethod
    def generate(cls) -> SigningKeys:
        published = RSAKey.generate_key(2048, auto_kid=True)
        rogue = RSAKey.generate_key(2048, parameters={"kid": published.kid or ""})
        return cls(published, rogue)

    @property
    def kid(self) -> str:
        return self.published.kid or ""

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self.published]).as_dict(private=False, use="sig", alg="RS256"))


# -- grant and extensions --------------------------------------------------------------


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    @property
    def _provider(self) -> Provider:
        return cast(Provider, self.server)

    def save_authorization_code(self, code: str, request: _OAuth2Request) -> None:
        provider = self._provider
        host = provider.host
        data = request.payload.data
        challenge = data["code_challenge"]
        if host.corrupt_code_challenge:
            challenge = create_s256_code_challenge(generate_token(48))
        now = host.clock()
        nonce = data.get("nonce")
        client_id = request.client.get_client_id()
        provider.store.codes[code] = AuthorizationCode(
            code=code,
            client_id=client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            username=cast(FakeUser, request.user).username,
            code_challenge=challenge,
            code_challenge_method=data["code_challenge_method"],
            nonce=nonce,
            auth_time=int(now),
            expires_at=now + host.code_lifetime,
        )
        if nonce:
            provider.store.nonces.add((client_id, nonce))

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        provider = self._provider
        return provider.store.redeemable_code(code, client.client_id, provider.host.clock())

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self._provider.store.spend_code(authorization_code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> FakeUser | None:
        return self._provider.store.users.get(authorization_code.username)


class _RequireS256(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only: authlib's ``required=True`` covers public clients
    alone and still accepts ``plain``."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: _CodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=False)
        self._provider = provider

    @property
    def _keys(self) -> SigningKeys:
        keys = self._provider.keys  # read each time: the server may rotate them
        assert keys is not None
        return keys

    def exists_nonce(self, nonce: str, request: _OAuth2Request) -> bool:
        return (request.payload.client_id, nonce) in self._provider.store.nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        host = self._provider.host
        return self._keys.rogue if host.id_token_signing_key is not None else self._keys.published

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self._keys.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        host = self._provider.host
        now = int(host.clock())
        lifetime = 3600
        issued_at = now - lifetime - _EXPIRED_BY if host.id_token_expired else now
        return {
            "iss": host.id_token_issuer or host.issuer,
            "aud": host.id_token_audience or client.get_client_id(),
            "iat": issued_at,
            "exp": issued_at + lifetime,
        }

    def get_authorization_code_claims(self, authorization_code: AuthorizationCode) -> Any:
        claims = super().get_authorization_code_claims(authorization_code)
        if self._provider.host.id_token_nonce is not None:
            claims["nonce"] = self._provider.host.id_token_nonce
        return claims

    def generate_user_info(self, user: FakeUser, scope: str) -> dict[str, Any]:
        return oidc_claims(user, scope, self._provider.host.issuer)


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    def authenticate_token(self, token_string: str) -> AccessToken | None:
        return self._store.tokens.get(token_string)


# -- the server ------------------------------------------------------------------------


class Provider(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, host: ProviderHost, store: Store, keys: SigningKeys | None) -> None:
        oidc = host.kind == "oidc"
        super().__init__(scopes_supported=["openid", "email", "profile"] if oidc else ["read"])
        self.host = host
        self.store = store
        self.keys = keys
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: generate_token(43),
                expires_generator=lambda client, grant_type: host.token_lifetime,
            ),
        )
        extensions: list[Any] = [_RequireS256()]
        if oidc:
            if keys is None:
                raise ValueError("an OpenID provider needs signing keys")
            extensions.append(_OpenIDCode(self))
        self.register_grant(_CodeGrant, extensions)
        self._resources = ResourceProtector()
        self._resources.register_token_validator(_BearerValidator(store))

    # -- what authlib asks of a framework integration

    def query_client(self, client_id: str) -> Client | None:
        host = self.host
        if client_id != host.client_id:
            return None
        oidc = host.kind == "oidc"
        return Client(
            client_id=host.client_id,
            client_secret=host.client_secret,
            redirect_uris=host.redirect_uris,
            # The real connect.linux.do takes client credentials in HTTP Basic only.
            auth_methods=(
                ("client_secret_basic", "client_secret_post") if oidc else ("client_secret_basic",)
            ),
            required_scope="openid" if oidc else "read",
            default_scope=None if oidc else "read",
        )

    def save_token(self, token: dict[str, Any], request: _OAuth2Request) -> None:
        host = self.host
        self.store.tokens[token["access_token"]] = AccessToken(
            access_token=token["access_token"],
            client_id=request.client.get_client_id(),
            username=cast(FakeUser, request.user).username,
            scope=token["scope"],
            expires_at=host.clock() + token["expires_in"],
            code=request.authorization_code.code,
            clock=lambda: host.clock(),  # read late: a test may swap the clock
        )

    def create_oauth2_request(self, request: HttpRequest | _OAuth2Request) -> _OAuth2Request:
        if isinstance(request, _OAuth2Request):
            return request
        return _OAuth2Request(request)

    def create_json_request(self, request: HttpRequest) -> _JsonRequest:
        return _JsonRequest(request)

    def handle_response(
        self, status: int, body: dict[str, Any] | str, headers: list[tuple[str, str]]
    ) -> Response:
        content = json.dumps(body) if isinstance(body, dict) else body
        return Response(content, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: authlib's Flask integration turns these into blinker signals."""

    # -- what the HTTP layer calls (under ``store.lock``)

    def authorize(self, http: HttpRequest, deny_with_error: str | None) -> Response:
        user = self.store.users.get(self.store.signed_in or "")
        try:
            grant = self.get_consent_grant(http, end_user=user)
        except OAuth2Error as error:
            return cast(Response, self.handle_error_response(None, error))
        if deny_with_error:
            denial = OAuth2Error(
                error=deny_with_error,
                redirect_uri=grant.redirect_uri,
                state=grant.request.payload.state,
            )
            return cast(Response, self.handle_error_response(grant.request, denial))
        if user is None:
            # A real provider shows its sign-in page here; the fake has no pages.
            return PlainTextResponse(
                "fake OAuth server: nobody is signed in (call sign_in_as first)", 401
            )
        return cast(Response, self.create_authorization_response(grant.request, user, grant=grant))

    def token(self, http: HttpRequest) -> Response:
        return cast(Response, self.create_token_response(http))

    def bearer(self, http: HttpRequest, scope: str) -> tuple[FakeUser, AccessToken] | Response:
        """The request's valid bearer token and its user, or the 401 to answer."""
        try:
            token = cast(AccessToken, self._resources.validate_request([scope], http))
            user = self.store.users.get(token.username)
            if user is None:
                raise InvalidTokenError()
        except OAuth2Error as error:
            return cast(Response, self.handle_error_response(None, error))
        return user, token
