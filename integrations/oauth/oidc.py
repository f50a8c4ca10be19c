"""Any OpenID Connect provider, configured from its discovery document.

Authorization code with PKCE S256 and a nonce. The ID token is checked before anything
else is believed: signature against the provider's JWKS (asymmetric algorithms only; kept
an hour, re-fetched once when an unknown key id appears, i.e. after a key rotation), ``iss``
equal to the discovered issuer, ``aud`` containing our client id (``azp`` when there are
several), ``exp``/``iat``/``nbf`` against our clock with 60 s leeway, ``nonce`` equal to the
one we sent, ``at_hash`` when present. The profile then comes from the userinfo endpoint,
whose ``sub`` must equal the ID token's.

Discovery and the key set are fetched one at a time (concurrent callers share the fetch)
and a failed fetch is remembered for 30 s, during which callers fail at once
(``SharedFetch``). Every call to the provider runs under an overall deadline of the
configured timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import httpx
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from domain.clock import Clock
from domain.oauth.errors import (
    IdTokenInvalid,
    OAuthProviderUnavailable,
    TokenExchangeFailed,
    UserinfoFailed,
)
from domain.oauth.model import AuthorizationRequest, ProviderProfile, ProviderTokens
from integrations.oauth.client import (
    DEFAULT_TIMEOUT,
    AsyncOAuth2Client,
    RecentFailure,
    SharedFetch,
    read_json,
    text_or_none,
    tokens_from_response,
)

log = logging.getLogger("karpov.oauth.oidc")

DEFAULT_SCOPES = ("openid", "email", "profile")
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LEEWAY_SECONDS = 60
METADATA_TTL_SECONDS = 3600.0
WELL_KNOWN = "/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class OidcConfig:
    name: str
    display_name: str
    discovery_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class _Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]
    token_auth_method: str


class OidcProvider:
    def __init__(
        self,
        config: OidcConfig,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if "openid" not in config.scopes:
            config = replace(config, scopes=("openid", *config.scopes))
        self._config = config
        self._clock = clock
        self._transport = transport
        self._metadata: SharedFetch[_Metadata] = SharedFetch(
            ttl=METADATA_TTL_SECONDS, monotonic=monotonic
        )
        self._jwks: SharedFetch[KeySet] = SharedFetch(ttl=METADATA_TTL_SECONDS, monotonic=monotonic)

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def display_name(self) -> str:
        return self._config.display_name

    @property
    def redirect_uri(self) -> str:
        return self._config.redirect_uri

    def _client(
        self, metadata: _Metadata | None = None, token: dict[str, Any] | None = None
    ) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
            token_endpoint_auth_method=(
                metadata.token_auth_method if metadata else "client_secret_basic"
            ),
            scope=" ".join(self._config.scopes),
            redirect_uri=self._config.redirect_uri,
            code_challenge_method="S256",
            token=token,
            timeout=self._config.timeout,
            transport=self._transport,
        )

    # -- discovery ----------------------------------------------------------------------

    async def _discover(self) -> _Metadata:
        """The discovery document, fetched at most once an hour. A failed fetch is
        remembered for 30 s (callers fail at once meanwhile), then tried again, so a
        provider that was down at start-up is picked up."""
        try:
            return await self._metadata.get(self._fetch_metadata)
        except RecentFailure:
            raise OAuthProviderUnavailable() from None

    async def _fetch_metadata(self) -> _Metadata:
        try:
            async with asyncio.timeout(self._config.timeout), self._client() as client:
                document = await read_json(client, self._config.discovery_url, withhold_token=True)
            metadata = self._parse_discovery(document)
        except Exception as error:
            log.warning(
                "oidc discovery failed",
                extra={"provider": self.name, "error": type(error).__name__},
            )
            raise OAuthProviderUnavailable() from None
        self._jwks.clear()  # the key set of the new document is fetched when needed
        return metadata

    def _parse_discovery(self, document: dict[str, Any]) -> _Metadata:
        issuer = document.get("issuer")
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("discovery has no issuer")
        # OpenID Connect Discovery §4.3: the issuer is the URL the document was found under.
        if issuer.rstrip("/") + WELL_KNOWN != self._config.discovery_url.rstrip("/"):
            raise ValueError("discovery issuer does not match the discovery URL")
        endpoints = {}
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = document.get(key)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise ValueError(f"discovery has no {key}")
            endpoints[key] = value
        userinfo = document.get("userinfo_endpoint")
        offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = tuple(a for a in offered if a in ASYMMETRIC_ALGORITHMS) or ("RS256",)
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = (
            "client_secret_basic"
            if "client_secret_basic" in methods or "client_secret_post" not in methods
            else "client_secret_post"
        )
        return _Metadata(
            issuer=issuer,
            authorization_endpoint=endpoints["authorization_endpoint"],
            token_endpoint=endpoints["token_endpoint"],
            jwks_uri=endpoints["jwks_uri"],
            userinfo_endpoint=userinfo if isinstance(userinfo, str) and userinfo else None,
            algorithms=algorithms,
            token_auth_method=auth_method,
        )

    async def _key_set(self, metadata: _Metadata, *, stale: KeySet | None = None) -> KeySet:
        """The provider's keys (``IdTokenInvalid`` when they cannot be loaded). ``stale``:
        a set that lacks a key id we were sent: fetch it again (a key rotation), once for
        all the callers that found it lacking."""

        async def fetch() -> KeySet:
            try:
                async with asyncio.timeout(self._config.timeout), self._client(metadata) as client:
                    document = await read_json(client, metadata.jwks_uri, withhold_token=True)
                return KeySet.import_key_set(document)  # type: ignore[arg-type]
            except Exception as error:
                log.warning(
                    "oidc key set unavailable",
                    extra={"provider": self.name, "error": type(error).__name__},
                )
                raise IdTokenInvalid("the provider's signing keys cannot be loaded") from None

        try:
            return await self._jwks.get(fetch, stale=stale)
        except RecentFailure:
            raise IdTokenInvalid("the provider's signing keys cannot be loaded") from None

    # -- the flow -------------------------------------------------------------------------

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        metadata = await self._discover()
        async with self._client(metadata) as client:
            url, _ = client.create_authorization_url(
                metadata.authorization_endpoint,
                state=request.state,
                code_verifier=request.code_verifier,
                redirect_uri=request.redirect_uri,
                nonce=request.nonce,
            )
        return str(url)

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> ProviderTokens:
        try:
            metadata = await self._discover()
        except OAuthProviderUnavailable:
            raise TokenExchangeFailed("the provider's metadata cannot be loaded") from None
        try:
            async with asyncio.timeout(self._config.timeout), self._client(metadata) as client:
                token = dict(
                    await client.fetch_token(
                        metadata.token_endpoint,
                        grant_type="authorization_code",
                        code=code,
                        code_verifier=request.code_verifier,
                        redirect_uri=request.redirect_uri,
                    )
                )
        except Exception as error:
            log.warning(
                "oidc token exchange failed",
                extra={"provider": self.name, "error": type(error).__name__},
            )
            raise TokenExchangeFailed() from None
        tokens = tokens_from_response(
            token, requested_scopes=self._config.scopes, clock=self._clock
        )
        raw = token.get("id_token")
        if not isinstance(raw, str) or not raw:
            raise IdTokenInvalid("the provider sent no id token")
        claims = await self._validate_id_token(raw, metadata, request.nonce, tokens.access_token)
        return ProviderTokens(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at,
            scopes=tokens.scopes,
            id_claims=claims,
        )

    async def _validate_id_token(
        self, raw: str, metadata: _Metadata, nonce: str, access_token: str
    ) -> dict[str, Any]:
        try:
            keys = await self._key_set(metadata)
            try:
                token = jwt.decode(raw, keys, algorithms=list(metadata.algorithms))
            except InvalidKeyIdError:  # the provider may have rotated its keys
                keys = await self._key_set(metadata, stale=keys)
                token = jwt.decode(raw, keys, algorithms=list(metadata.algorithms))
            claims = CodeIDToken(
                token.claims,
                token.header,
                {
                    "iss": {"essential": True, "value": metadata.issuer},
                    "aud": {"essential": True, "value": self._config.client_id},
                    "sub": {"essential": True},
                    "exp": {"essential": True},
                    "nonce": {"essential": True, "value": nonce},
                },
                {"nonce": nonce, "client_id": self._config.client_id, "access_token": access_token},
            )
            claims.validate(now=int(self._clock.now().timestamp()), leeway=LEEWAY_SECONDS)
        except JoseError as error:
            raise IdTokenInvalid(_describe(error)) from None
        except ValueError as error:  # claims of the wrong shape
            raise IdTokenInvalid(f"the id token is invalid: {type(error).__name__}") from None
        return dict(claims)

    async def fetch_profile(self, tokens: ProviderTokens) -> ProviderProfile:
        claims: dict[str, Any] = dict(tokens.id_claims)
        metadata = self._metadata.last  # exchange_code has just loaded it
        if metadata is not None and metadata.userinfo_endpoint:
            bearer = {"access_token": tokens.access_token, "token_type": "Bearer"}
            try:
                async with (
                    asyncio.timeout(self._config.timeout),
                    self._client(metadata, bearer) as client,
                ):
                    info = await read_json(client, metadata.userinfo_endpoint)
            except Exception as error:
                log.warning(
                    "oidc userinfo failed",
                    extra={"provider": self.name, "error": type(error).__name__},
                )
                raise UserinfoFailed() from None
            # OpenID Connect Core §5.3.2: a userinfo answer about someone else is refused.
            if info.get("sub") != claims.get("sub"):
                raise UserinfoFailed("the userinfo subject differs from the id token's")
            claims.update(info)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise UserinfoFailed("the provider profile has no subject")
        verified = claims.get("email_verified")
        return ProviderProfile(
            subject=subject,
            login=text_or_none(claims.get("preferred_username")),
            name=text_or_none(claims.get("name")),
            email=text_or_none(claims.get("email"), 320),
            email_verified=verified is True or verified == "true",
            avatar_url=_http_url(claims.get("picture")),
        )

    def validate(self, profile: ProviderProfile) -> None:
        return None  # the ID token checks are the gate; no provider-specific policy


def _http_url(value: object) -> str | None:
    text = text_or_none(value, 2048)
    return text if text and text.startswith(("https://", "http://")) else None


def _describe(error: JoseError) -> str:
    detail = error.description or error.error or type(error).__name__
    return f"the id token is invalid: {detail}"[:190]
