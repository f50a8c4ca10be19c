"""Linux.do (Discourse "Connect") as an OAuth 2.0 provider (reference §3.5).

Authorization code with PKCE S256, client credentials by HTTP Basic, scope ``read``; the
profile comes from ``/api/user`` with the bearer token. Linux.do asserts no verified
e-mail, so its e-mail is never used to link or to name an account. Trust level,
``active`` (and, when configured, ``silenced``) are checked on every login. Each call to
Linux.do runs under an overall deadline of the configured timeout (15 s).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from domain.clock import Clock
from domain.oauth.errors import ProfileRejected, TokenExchangeFailed, UserinfoFailed
from domain.oauth.model import AuthorizationRequest, ProviderProfile, ProviderTokens
from integrations.oauth.client import (
    DEFAULT_TIMEOUT,
    AsyncOAuth2Client,
    read_json,
    text_or_none,
    tokens_from_response,
)

log = logging.getLogger("karpov.oauth.linuxdo")

AUTHORIZE_URL = "https://connect.linux.do/oauth2/authorize"
TOKEN_URL = "https://connect.linux.do/oauth2/token"
USERINFO_URL = "https://connect.linux.do/api/user"
SCOPES = ("read",)
AVATAR_SIZE = "96"


@dataclass(frozen=True, slots=True)
class LinuxDoConfig:
    client_id: str
    client_secret: str
    redirect_uri: str
    authorize_url: str = AUTHORIZE_URL
    token_url: str = TOKEN_URL
    userinfo_url: str = USERINFO_URL
    min_trust_level: int = 0
    require_active: bool = True
    reject_silenced: bool = False
    display_name: str = "Linux.do"
    timeout: float = DEFAULT_TIMEOUT


class LinuxDoProvider:
    name = "linuxdo"

    def __init__(
        self,
        config: LinuxDoConfig,
        *,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._transport = transport
        parts = urlsplit(config.userinfo_url)
        self._avatar_origin = f"{parts.scheme}://{parts.netloc}"

    @property
    def display_name(self) -> str:
        return self._config.display_name

    @property
    def redirect_uri(self) -> str:
        return self._config.redirect_uri

    def _client(self, token: dict[str, Any] | None = None) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
            token_endpoint_auth_method="client_secret_basic",
            scope=" ".join(SCOPES),
            redirect_uri=self._config.redirect_uri,
            code_challenge_method="S256",
            token=token,
            timeout=self._config.timeout,
            transport=self._transport,
        )

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        async with self._client() as client:
            url, _ = client.create_authorization_url(
                self._config.authorize_url,
                state=request.state,
                code_verifier=request.code_verifier,
                redirect_uri=request.redirect_uri,
                access_type="offline",
            )
        return str(url)

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> ProviderTokens:
        try:
            async with asyncio.timeout(self._config.timeout), self._client() as client:
                token = await client.fetch_token(
                    self._config.token_url,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=request.code_verifier,
                    redirect_uri=request.redirect_uri,
                )
        except Exception as error:
            log.warning("linux.do token exchange failed: %s", type(error).__name__)
            raise TokenExchangeFailed() from None
        return tokens_from_response(dict(token), requested_scopes=SCOPES, clock=self._clock)

    async def fetch_profile(self, tokens: ProviderTokens) -> ProviderProfile:
        token = {"access_token": tokens.access_token, "token_type": "Bearer"}
        try:
            async with asyncio.timeout(self._config.timeout), self._client(token) as client:
                data = await read_json(client, self._config.userinfo_url)
        except Exception as error:
            log.warning("linux.do profile fetch failed: %s", type(error).__name__)
            raise UserinfoFailed() from None
        return self._profile(data)

    def _profile(self, data: dict[str, Any]) -> ProviderProfile:
        raw_id = data.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or str(raw_id) == "":
            raise UserinfoFailed("the linux.do profile has no id")
        trust = data.get("trust_level")
        return ProviderProfile(
            subject=str(raw_id).strip(),
            login=text_or_none(data.get("username")),
            name=text_or_none(data.get("name")),
            email=text_or_none(data.get("email"), 320),
            email_verified=False,  # Linux.do asserts nothing about the address
            avatar_url=self._avatar(data),
            trust_level=trust if isinstance(trust, int) and not isinstance(trust, bool) else None,
            active=data.get("active") if isinstance(data.get("active"), bool) else None,
            silenced=data.get("silenced") if isinstance(data.get("silenced"), bool) else None,
        )

    def _avatar(self, data: dict[str, Any]) -> str | None:
        url = text_or_none(data.get("avatar_url"), 2048)
        if url is None:
            template = text_or_none(data.get("avatar_template"), 2048)
            url = template.replace("{size}", AVATAR_SIZE) if template else None
        if url and url.startswith("/") and not url.startswith("//"):
            url = self._avatar_origin + url
        return url if url and url.startswith(("https://", "http://")) else None

    def validate(self, profile: ProviderProfile) -> None:
        config = self._config
        if config.require_active and profile.active is not True:
            raise ProfileRejected("linux.do account is not active")
        level = profile.trust_level or 0
        if level < config.min_trust_level:
            raise ProfileRejected(
                f"linux.do trust_level={level} below required {config.min_trust_level}"
            )
        if config.reject_silenced and profile.silenced:
            raise ProfileRejected("linux.do account is silenced")
