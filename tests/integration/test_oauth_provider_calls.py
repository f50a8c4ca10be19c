"""How the provider clients behave when a provider is down or slow, against the real fake
authorisation server on loopback (``tests/fakes/oauth_server.py``):

* every call (discovery, token, key set, userinfo) has an overall deadline of the
  configured timeout, also when the answer trickles in a byte at a time (which never trips
  httpx's per-read timeout);
* OpenID discovery and the key set are fetched once for concurrent callers, and a failure
  is remembered for 30 s, during which callers fail at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from domain.clock import SystemClock
from domain.ids import new_token
from domain.oauth.errors import (
    IdTokenInvalid,
    OAuthProviderUnavailable,
    TokenExchangeFailed,
    UserinfoFailed,
)
from domain.oauth.model import AuthorizationRequest, ProviderTokens
from integrations.oauth.linuxdo import LinuxDoConfig, LinuxDoProvider
from integrations.oauth.oidc import OidcConfig, OidcProvider
from tests.fakes.oauth_server import FakeOAuthServer, FakeUser

OIDC_CALLBACK = "http://testserver/v1/auth/oauth/corp/callback"
LINUXDO_CALLBACK = "http://testserver/v1/auth/oauth/linuxdo/callback"
TIMEOUT = 0.6
"""The providers' configured timeout in these tests (seconds)."""
SLACK = 0.9
"""What a refused call may take beyond ``TIMEOUT`` on a loaded machine."""
ROOMY = 10.0
"""The timeout of tests about fetch counts, not deadlines: a loaded machine must not turn
a slow answer into a refused exchange."""
TRICKLE = 0.03
"""Seconds between the bytes of a trickled answer: far below ``TIMEOUT`` per read, far
above it in total (every answer here has more than 100 bytes)."""


@pytest.fixture(scope="module")
def oidc_server() -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer("oidc", redirect_uris=[OIDC_CALLBACK]) as server:
        yield server


@pytest.fixture(scope="module")
def linuxdo_server() -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer("linuxdo", redirect_uris=[LINUXDO_CALLBACK]) as server:
        yield server


@pytest.fixture
def oidc(oidc_server: FakeOAuthServer) -> FakeOAuthServer:
    oidc_server.reset()
    oidc_server.add_user(
        FakeUser(sub="c-42", username="carol", email="carol@example.com", email_verified=True)
    )
    oidc_server.sign_in_as("carol")
    return oidc_server


@pytest.fixture
def linuxdo(linuxdo_server: FakeOAuthServer) -> FakeOAuthServer:
    linuxdo_server.reset()
    linuxdo_server.add_user(FakeUser(sub="1001", username="alice", trust_level=2))
    linuxdo_server.sign_in_as("alice")
    return linuxdo_server


class Monotonic:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def oidc_provider(
    server: FakeOAuthServer,
    monotonic: Callable[[], float] | None = None,
    *,
    timeout: float = TIMEOUT,
) -> Any:
    config = OidcConfig(
        name="corp",
        display_name="Corp",
        discovery_url=server.discovery_url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        redirect_uri=OIDC_CALLBACK,
        timeout=timeout,
    )
    if monotonic is None:
        return OidcProvider(config, clock=SystemClock())
    return OidcProvider(config, clock=SystemClock(), monotonic=monotonic)


def linuxdo_provider(server: FakeOAuthServer) -> LinuxDoProvider:
    config = LinuxDoConfig(
        client_id=server.client_id,
        client_secret=server.client_secret,
        redirect_uri=LINUXDO_CALLBACK,
        authorize_url=server.authorize_url,
        token_url=server.token_url,
        userinfo_url=server.userinfo_url,
        timeout=TIMEOUT,
    )
    return LinuxDoProvider(config, clock=SystemClock())


def request_for(redirect_uri: str) -> AuthorizationRequest:
    return AuthorizationRequest(
        state=new_token(), code_verifier=new_token(), nonce=new_token(16), redirect_uri=redirect_uri
    )


async def code_for(provider: Any, request: AuthorizationRequest) -> str:
    """Start a flow and pass the provider's approval: the authorisation code."""
    url = await provider.authorization_url(request)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(url)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


async def exchange(provider: Any) -> ProviderTokens:
    request = request_for(provider.redirect_uri)
    code = await code_for(provider, request)
    tokens: ProviderTokens = await provider.exchange_code(code, request)
    return tokens


def hits(server: FakeOAuthServer, path: str) -> int:
    return sum(1 for r in server.requests if r.path == path)


async def timed(call: Awaitable[object]) -> tuple[float, BaseException | None]:
    started = time.monotonic()
    try:
        await call
    except Exception as error:
        return time.monotonic() - started, error
    return time.monotonic() - started, None


# -- overall deadlines -----------------------------------------------------------------------


async def test_a_trickling_discovery_is_cut_at_the_timeout(oidc: FakeOAuthServer) -> None:
    oidc.trickle["discovery"] = TRICKLE
    elapsed, error = await timed(oidc_provider(oidc).authorization_url(request_for(OIDC_CALLBACK)))
    assert isinstance(error, OAuthProviderUnavailable), error
    assert elapsed < TIMEOUT + SLACK


async def test_a_trickling_token_answer_is_exchange_failed(oidc: FakeOAuthServer) -> None:
    provider = oidc_provider(oidc)
    request = request_for(OIDC_CALLBACK)
    code = await code_for(provider, request)
    oidc.trickle["token"] = TRICKLE

    elapsed, error = await timed(provider.exchange_code(code, request))

    assert isinstance(error, TokenExchangeFailed), error
    assert elapsed < TIMEOUT + SLACK


async def test_a_trickling_key_set_is_id_token_invalid(oidc: FakeOAuthServer) -> None:
    oidc.trickle["jwks"] = TRICKLE
    provider = oidc_provider(oidc)
    request = request_for(OIDC_CALLBACK)
    code = await code_for(provider, request)

    elapsed, error = await timed(provider.exchange_code(code, request))

    assert isinstance(error, IdTokenInvalid), error
    assert error.message == "the provider's signing keys cannot be loaded"
    assert elapsed < TIMEOUT + SLACK


async def test_a_trickling_oidc_userinfo_is_userinfo_failed(oidc: FakeOAuthServer) -> None:
    provider = oidc_provider(oidc)
    tokens = await exchange(provider)
    oidc.trickle["userinfo"] = TRICKLE

    elapsed, error = await timed(provider.fetch_profile(tokens))

    assert isinstance(error, UserinfoFailed), error
    assert elapsed < TIMEOUT + SLACK


async def test_trickling_linuxdo_answers_are_cut_at_the_timeout(linuxdo: FakeOAuthServer) -> None:
    provider = linuxdo_provider(linuxdo)
    request = request_for(LINUXDO_CALLBACK)
    code = await code_for(provider, request)
    linuxdo.trickle["token"] = TRICKLE
    elapsed, error = await timed(provider.exchange_code(code, request))
    assert isinstance(error, TokenExchangeFailed), error
    assert elapsed < TIMEOUT + SLACK

    linuxdo.trickle.clear()
    request = request_for(LINUXDO_CALLBACK)
    tokens = await provider.exchange_code(await code_for(provider, request), request)
    linuxdo.trickle["userinfo"] = TRICKLE
    elapsed, error = await timed(provider.fetch_profile(tokens))
    assert isinstance(error, UserinfoFailed), error
    assert elapsed < TIMEOUT + SLACK


async def test_a_provider_within_its_timeout_still_works(oidc: FakeOAuthServer) -> None:
    oidc.delays.update(discovery=0.1, token=0.1, jwks=0.1, userinfo=0.1)
    provider = oidc_provider(oidc)
    profile = await provider.fetch_profile(await exchange(provider))
    assert (profile.subject, profile.email) == ("c-42", "carol@example.com")


# -- discovery and key set: one fetch at a time, failures remembered -------------------------


async def test_concurrent_starts_during_a_hung_discovery_share_one_timeout(
    oidc: FakeOAuthServer,
) -> None:
    oidc.delays["discovery"] = 2.0
    provider = oidc_provider(oidc)
    starts = [provider.authorization_url(request_for(OIDC_CALLBACK)) for _ in range(6)]

    started = time.monotonic()
    outcomes = await asyncio.gather(*starts, return_exceptions=True)
    elapsed = time.monotonic() - started

    assert all(isinstance(o, OAuthProviderUnavailable) for o in outcomes), outcomes
    assert elapsed < TIMEOUT + SLACK  # not six timeouts one after another
    assert hits(oidc, "/.well-known/openid-configuration") == 1


async def test_a_failed_discovery_is_remembered_for_30_seconds(oidc: FakeOAuthServer) -> None:
    clock = Monotonic()
    provider = oidc_provider(oidc, clock)
    oidc.fail_discovery = True
    with pytest.raises(OAuthProviderUnavailable):
        await provider.authorization_url(request_for(OIDC_CALLBACK))
    oidc.fail_discovery = False  # the provider is back, but we do not ask yet

    clock.now += 29
    with pytest.raises(OAuthProviderUnavailable):
        await provider.authorization_url(request_for(OIDC_CALLBACK))
    assert hits(oidc, "/.well-known/openid-configuration") == 1

    clock.now += 2
    url = await provider.authorization_url(request_for(OIDC_CALLBACK))
    assert url.startswith(oidc.authorize_url)
    assert hits(oidc, "/.well-known/openid-configuration") == 2


async def test_a_failed_key_set_is_remembered_for_30_seconds(oidc: FakeOAuthServer) -> None:
    clock = Monotonic()
    provider = oidc_provider(oidc, clock)
    oidc.fail_jwks = True
    with pytest.raises(IdTokenInvalid):
        await exchange(provider)
    oidc.fail_jwks = False

    with pytest.raises(IdTokenInvalid) as caught:
        await exchange(provider)
    assert caught.value.message == "the provider's signing keys cannot be loaded"
    assert hits(oidc, "/jwks") == 1

    clock.now += 31
    tokens = await exchange(provider)
    assert tokens.id_claims["sub"] == "c-42"
    assert hits(oidc, "/jwks") == 2


async def test_concurrent_exchanges_share_one_key_set_fetch(oidc: FakeOAuthServer) -> None:
    provider = oidc_provider(oidc, timeout=ROOMY)
    requests = [request_for(OIDC_CALLBACK) for _ in range(4)]
    codes = [await code_for(provider, r) for r in requests]
    oidc.delays["jwks"] = 0.3

    tokens = await asyncio.gather(
        *(provider.exchange_code(c, r) for c, r in zip(codes, requests, strict=True))
    )

    assert [t.id_claims["sub"] for t in tokens] == ["c-42"] * 4
    assert hits(oidc, "/jwks") == 1


async def test_a_key_rotation_is_fetched_once_for_concurrent_callers(
    oidc: FakeOAuthServer,
) -> None:
    provider = oidc_provider(oidc, timeout=ROOMY)
    await exchange(provider)
    assert hits(oidc, "/jwks") == 1
    oidc.rotate_keys()  # ID tokens now carry a key id the cached set does not have
    requests = [request_for(OIDC_CALLBACK) for _ in range(3)]
    codes = [await code_for(provider, r) for r in requests]
    oidc.delays["jwks"] = 0.2

    tokens = await asyncio.gather(
        *(provider.exchange_code(c, r) for c, r in zip(codes, requests, strict=True))
    )

    assert [t.id_claims["sub"] for t in tokens] == ["c-42"] * 3
    assert hits(oidc, "/jwks") == 2
