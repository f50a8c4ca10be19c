"""The fake OAuth / OpenID provider, driven over TCP exactly as a relying party drives one.

authlib's httpx client builds the authorisation URL (state, nonce, PKCE S256) and redeems
the code; a plain httpx client plays the browser (it reads the redirect, never follows it
to the relying party). ID tokens are verified the way authlib's own OpenID client does it
(``parse_id_token``): signature against the published JWKS, then ``CodeIDToken`` claims.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError
from joserfc.jwk import KeySet

from tests.fakes.oauth_server import FakeOAuthServer, FakeUser

CALLBACK = "http://testserver/v1/auth/oauth/{name}/callback"
LINUXDO_CALLBACK = CALLBACK.format(name="linuxdo")
OIDC_CALLBACK = CALLBACK.format(name="oidc")
OIDC_SCOPE = "openid email profile"
CLIENT_ID = "karpov-test"
CLIENT_SECRET = "s3cret"


@pytest.fixture(scope="module")
def linuxdo_server() -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer(
        kind="linuxdo",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[LINUXDO_CALLBACK],
    ) as server:
        yield server


@pytest.fixture(scope="module")
def oidc_server() -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer(
        kind="oidc", client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[OIDC_CALLBACK]
    ) as server:
        yield server


def _with_alice(server: FakeOAuthServer) -> FakeOAuthServer:
    server.reset()
    server.add_user(
        FakeUser(
            sub="1001",
            username="alice",
            name="Alice",
            email="alice@example.com",
            email_verified=True,
            active=True,
            trust_level=2,
        )
    )
    server.sign_in_as("alice")
    return server


@pytest.fixture
def linuxdo(linuxdo_server: FakeOAuthServer) -> FakeOAuthServer:
    return _with_alice(linuxdo_server)


@pytest.fixture
def oidc(oidc_server: FakeOAuthServer) -> FakeOAuthServer:
    return _with_alice(oidc_server)


@functools.cache
def tls() -> ssl.SSLContext:
    """Shared by every client: otherwise httpx builds (and loads CA files into) a context per
    client, which costs more than a whole sign-in against the fake."""
    return ssl.create_default_context()


@pytest.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False, verify=tls()) as client:
        yield client


@dataclass
class RelyingParty:
    """One sign-in attempt: the client, its PKCE verifier, state and nonce."""

    server: FakeOAuthServer
    client: AsyncOAuth2Client
    browser: httpx.AsyncClient
    verifier: str
    state: str = ""
    nonce: str | None = None

    async def authorize(self, **params: str) -> httpx.Response:
        """Send the browser to the authorisation endpoint; the answer is not followed."""
        url, self.state = self.client.create_authorization_url(
            self.server.authorize_url, code_verifier=self.verifier, **params
        )
        return await self.browser.get(url)

    async def code(self, **params: str) -> str:
        response = await self.authorize(**params)
        assert response.status_code == 302, response.text
        return callback_params(response)["code"]

    async def fetch_token(self, code: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("code_verifier", self.verifier)
        token = await self.client.fetch_token(self.server.token_url, code=code, **kwargs)
        return dict(token)

    async def sign_in(self) -> dict[str, Any]:
        params = {"nonce": self.nonce} if self.nonce else {}
        return await self.fetch_token(await self.code(**params))


def callback_params(response: httpx.Response) -> dict[str, str]:
    location = response.headers["location"]
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def relying_party(
    server: FakeOAuthServer,
    browser: httpx.AsyncClient,
    *,
    scope: str,
    redirect_uri: str,
    secret: str = CLIENT_SECRET,
    auth_method: str = "client_secret_basic",
) -> RelyingParty:
    client = AsyncOAuth2Client(
        CLIENT_ID,
        secret,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
        verify=tls(),
    )
    return RelyingParty(server, client, browser, verifier=generate_token(48))


@pytest.fixture
async def linuxdo_rp(
    linuxdo: FakeOAuthServer, browser: httpx.AsyncClient
) -> AsyncIterator[RelyingParty]:
    rp = relying_party(linuxdo, browser, scope="read", redirect_uri=LINUXDO_CALLBACK)
    async with rp.client:
        yield rp


@pytest.fixture
async def oidc_rp(oidc: FakeOAuthServer, browser: httpx.AsyncClient) -> AsyncIterator[RelyingParty]:
    rp = relying_party(oidc, browser, scope=OIDC_SCOPE, redirect_uri=OIDC_CALLBACK)
    rp.nonce = generate_token(20)
    async with rp.client:
        yield rp


async def verify_id_token(
    browser: httpx.AsyncClient, server: FakeOAuthServer, token: dict[str, Any], nonce: str
) -> dict[str, Any]:
    """What authlib's OpenID client does with an ID token (``parse_id_token``)."""
    metadata = (await browser.get(server.discovery_url)).json()
    jwks = (await browser.get(metadata["jwks_uri"])).json()
    decoded = jwt.decode(token["id_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        # authlib's client checks only iss; a careful relying party also pins aud.
        {"iss": {"values": [metadata["issuer"]]}, "aud": {"essential": True, "value": CLIENT_ID}},
        {"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]},
    )
    claims.validate(leeway=120)
    return dict(claims)


# -- Linux.do ----------------------------------------------------------------------------


async def test_linuxdo_sign_in_end_to_end(
    linuxdo: FakeOAuthServer, linuxdo_rp: RelyingParty, browser: httpx.AsyncClient
) -> None:
    assert linuxdo.authorize_url == linuxdo.base_url + "/oauth2/authorize"
    assert linuxdo.token_url == linuxdo.base_url + "/oauth2/token"
    assert linuxdo.userinfo_url == linuxdo.base_url + "/api/user"

    response = await linuxdo_rp.authorize()
    assert response.status_code == 302
    assert response.headers["location"].startswith(LINUXDO_CALLBACK + "?")
    params = callback_params(response)
    assert params["state"] == linuxdo_rp.state

    token = await linuxdo_rp.fetch_token(params["code"])
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "read"
    assert "id_token" not in token

    profile = await linuxdo_rp.client.get(linuxdo.userinfo_url)
    assert profile.status_code == 200
    assert profile.json() == {
        "id": 1001,
        "username": "alice",
        "name": "Alice",
        "email": "alice@example.com",
        "avatar_template": "/user_avatar/connect.linux.do/alice/{size}/1.png",
        "active": True,
        "trust_level": 2,
        "silenced": False,
    }

    authorize, token_request, _ = linuxdo.requests
    assert authorize.params["code_challenge_method"] == "S256"
    assert authorize.params["code_challenge"]
    assert token_request.path == "/oauth2/token"
    assert token_request.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in token_request.params
    assert token_request.params["code_verifier"] == linuxdo_rp.verifier


async def test_state_comes_back_byte_for_byte(linuxdo_rp: RelyingParty) -> None:
    state = "a b+c/d=e&f%20g~é"

    response = await linuxdo_rp.authorize(state=state)

    assert callback_params(response)["state"] == state


async def test_linuxdo_profile_follows_changes_to_the_user(
    linuxdo: FakeOAuthServer, linuxdo_rp: RelyingParty
) -> None:
    user = linuxdo.add_user(FakeUser(sub="abc", username="bob", active=False, silenced=True))
    linuxdo.sign_in_as("bob")
    await linuxdo_rp.sign_in()
    user.trust_level = 3

    profile = (await linuxdo_rp.client.get(linuxdo.userinfo_url)).json()

    assert (profile["id"], profile["active"], profile["silenced"]) == ("abc", False, True)
    assert profile["trust_level"] == 3


async def test_linuxdo_refuses_client_credentials_in_the_body(
    linuxdo: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    rp = relying_party(
        linuxdo,
        browser,
        scope="read",
        redirect_uri=LINUXDO_CALLBACK,
        auth_method="client_secret_post",
    )
    async with rp.client:
        code = await rp.code()
        with pytest.raises(OAuthError) as raised:
            await rp.fetch_token(code)
    assert raised.value.error == "invalid_client"


async def test_linuxdo_rejects_an_unknown_scope(linuxdo_rp: RelyingParty) -> None:
    response = await linuxdo_rp.authorize(scope="read write")

    params = callback_params(response)
    assert params["error"] == "invalid_scope"
    assert params["state"] == linuxdo_rp.state


# -- OpenID Connect ----------------------------------------------------------------------


async def test_discovery_document(oidc: FakeOAuthServer, browser: httpx.AsyncClient) -> None:
    metadata = (await browser.get(oidc.discovery_url)).json()

    base = oidc.base_url
    assert metadata["issuer"] == base
    assert metadata["authorization_endpoint"] == oidc.authorize_url == base + "/authorize"
    assert metadata["token_endpoint"] == oidc.token_url == base + "/token"
    assert metadata["userinfo_endpoint"] == oidc.userinfo_url == base + "/userinfo"
    assert metadata["jwks_uri"] == base + "/jwks"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]
    assert metadata["scopes_supported"] == ["openid", "email", "profile"]
    [key] = (await browser.get(metadata["jwks_uri"])).json()["keys"]
    assert key["kty"] == "RSA"
    assert key["kid"]
    assert "d" not in key


async def test_oidc_sign_in_end_to_end(
    oidc: FakeOAuthServer, oidc_rp: RelyingParty, browser: httpx.AsyncClient
) -> None:
    assert oidc_rp.nonce is not None
    token = await oidc_rp.sign_in()

    claims = await verify_id_token(browser, oidc, token, oidc_rp.nonce)
    assert claims["iss"] == oidc.base_url
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == "1001"
    assert claims["nonce"] == oidc_rp.nonce
    assert claims["email"] == "alice@example.com"
    assert claims["email_verified"] is True
    assert claims["iat"] <= time.time() < claims["exp"]

    userinfo = await oidc_rp.client.get(oidc.userinfo_url)
    assert userinfo.json() == {
        "sub": "1001",
        "email": "alice@example.com",
        "email_verified": True,
        "name": "Alice",
        "preferred_username": "alice",
        "picture": oidc.base_url + "/avatars/alice.png",
    }


async def test_oidc_accepts_client_credentials_in_the_body(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    rp = relying_party(
        oidc,
        browser,
        scope=OIDC_SCOPE,
        redirect_uri=OIDC_CALLBACK,
        auth_method="client_secret_post",
    )
    async with rp.client:
        token = await rp.sign_in()

    assert token["access_token"]
    token_request = oidc.requests[-1]
    assert token_request.params["client_secret"] == CLIENT_SECRET
    assert "authorization" not in token_request.headers


async def test_oidc_releases_claims_by_scope(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    rp = relying_party(oidc, browser, scope="openid", redirect_uri=OIDC_CALLBACK)
    rp.nonce = "n-1"
    async with rp.client:
        token = await rp.sign_in()
        userinfo = (await rp.client.get(oidc.userinfo_url)).json()

    claims = await verify_id_token(browser, oidc, token, "n-1")
    assert "email" not in claims
    assert userinfo == {"sub": "1001"}


async def test_oidc_requires_the_openid_scope(oidc_rp: RelyingParty) -> None:
    response = await oidc_rp.authorize(scope="email profile")

    assert callback_params(response)["error"] == "invalid_scope"


async def test_a_reused_nonce_is_refused(oidc_rp: RelyingParty) -> None:
    await oidc_rp.code(nonce="once")

    response = await oidc_rp.authorize(nonce="once")

    assert callback_params(response)["error"] == "invalid_request"


# -- PKCE --------------------------------------------------------------------------------


async def test_missing_code_challenge_is_refused_at_authorize(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    response = await browser.get(
        oidc.authorize_url,
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": OIDC_CALLBACK,
            "scope": OIDC_SCOPE,
            "state": "xyz-123",
        },
    )

    assert response.status_code == 302
    params = callback_params(response)
    assert params["error"] == "invalid_request"
    assert params["state"] == "xyz-123"
    assert "code" not in params


async def test_plain_code_challenge_is_refused(
    linuxdo: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    response = await browser.get(
        linuxdo.authorize_url,
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": LINUXDO_CALLBACK,
            "scope": "read",
            "code_challenge": generate_token(48),
            "code_challenge_method": "plain",
        },
    )

    assert callback_params(response)["error"] == "invalid_request"


async def test_wrong_code_verifier_is_refused_at_token(oidc_rp: RelyingParty) -> None:
    code = await oidc_rp.code()

    with pytest.raises(OAuthError) as raised:
        await oidc_rp.fetch_token(code, code_verifier=generate_token(48))

    assert raised.value.error == "invalid_grant"


async def test_missing_code_verifier_is_refused_at_token(
    oidc: FakeOAuthServer, oidc_rp: RelyingParty, browser: httpx.AsyncClient
) -> None:
    code = await oidc_rp.code()

    response = await browser.post(
        oidc.token_url,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": OIDC_CALLBACK},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_corrupt_code_challenge_fails_the_right_verifier(
    linuxdo: FakeOAuthServer, linuxdo_rp: RelyingParty
) -> None:
    linuxdo.corrupt_code_challenge = True
    code = await linuxdo_rp.code()

    with pytest.raises(OAuthError) as raised:
        await linuxdo_rp.fetch_token(code)

    assert raised.value.error == "invalid_grant"


# -- codes, clients, redirect URIs -------------------------------------------------------


async def test_a_code_is_single_use_and_its_replay_revokes_the_token(
    oidc: FakeOAuthServer, oidc_rp: RelyingParty
) -> None:
    code = await oidc_rp.code()
    await oidc_rp.fetch_token(code)
    assert (await oidc_rp.client.get(oidc.userinfo_url)).status_code == 200

    with pytest.raises(OAuthError) as raised:
        await oidc_rp.fetch_token(code)

    assert raised.value.error == "invalid_grant"
    assert (await oidc_rp.client.get(oidc.userinfo_url)).status_code == 401


async def test_a_code_expires(linuxdo: FakeOAuthServer, linuxdo_rp: RelyingParty) -> None:
    code = await linuxdo_rp.code()
    linuxdo.clock = lambda: time.time() + linuxdo.code_lifetime + 1

    with pytest.raises(OAuthError) as raised:
        await linuxdo_rp.fetch_token(code)

    assert raised.value.error == "invalid_grant"


async def test_an_access_token_expires(linuxdo: FakeOAuthServer, linuxdo_rp: RelyingParty) -> None:
    await linuxdo_rp.sign_in()
    linuxdo.clock = lambda: time.time() + linuxdo.token_lifetime + 1

    response = await linuxdo_rp.client.get(linuxdo.userinfo_url)

    assert response.status_code == 401


@pytest.mark.parametrize("kind", ["linuxdo", "oidc"])
async def test_a_wrong_client_secret_is_401_invalid_client(
    kind: str, request: pytest.FixtureRequest, browser: httpx.AsyncClient
) -> None:
    server: FakeOAuthServer = request.getfixturevalue(kind)
    scope = "read" if kind == "linuxdo" else OIDC_SCOPE
    rp = relying_party(
        server, browser, scope=scope, redirect_uri=CALLBACK.format(name=kind), secret="wrong"
    )
    async with rp.client:
        code = await rp.code()

    response = await browser.post(
        server.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK.format(name=kind),
            "code_verifier": rp.verifier,
        },
        auth=(CLIENT_ID, "wrong"),
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic ")


async def test_an_unregistered_redirect_uri_is_never_redirected_to(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    elsewhere = "http://evil.test/callback"
    rp = relying_party(oidc, browser, scope=OIDC_SCOPE, redirect_uri=elsewhere)
    async with rp.client:
        response = await rp.authorize()

    assert response.status_code == 400
    assert "location" not in response.headers
    assert response.json()["error"] == "invalid_request"


async def test_registering_another_redirect_uri(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    other = CALLBACK.format(name="other")
    oidc.redirect_uris.append(other)
    rp = relying_party(oidc, browser, scope=OIDC_SCOPE, redirect_uri=other)
    async with rp.client:
        response = await rp.authorize()

    assert response.headers["location"].startswith(other + "?code=")


async def test_the_redirect_uri_must_match_at_token(
    oidc: FakeOAuthServer, oidc_rp: RelyingParty
) -> None:
    other = CALLBACK.format(name="other")
    oidc.redirect_uris.append(other)
    code = await oidc_rp.code()

    with pytest.raises(OAuthError) as raised:
        await oidc_rp.fetch_token(code, redirect_uri=other)

    assert raised.value.error == "invalid_grant"


async def test_an_unknown_client_gets_an_error_page(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient
) -> None:
    response = await browser.get(
        oidc.authorize_url,
        params={"response_type": "code", "client_id": "nobody", "redirect_uri": OIDC_CALLBACK},
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


# -- toggles -----------------------------------------------------------------------------


async def test_deny_with_error_redirects_back_with_state(
    oidc: FakeOAuthServer, oidc_rp: RelyingParty
) -> None:
    oidc.deny_with_error = "access_denied"

    response = await oidc_rp.authorize()

    assert response.status_code == 302
    params = callback_params(response)
    assert params["error"] == "access_denied"
    assert params["state"] == oidc_rp.state
    assert "code" not in params


async def test_nobody_signed_in_is_not_approved(
    linuxdo: FakeOAuthServer, linuxdo_rp: RelyingParty
) -> None:
    linuxdo.sign_in_as(None)

    response = await linuxdo_rp.authorize()

    assert response.status_code == 401
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("toggle", "value", "failure"),
    [
        ("id_token_audience", "someone-else", InvalidClaimError),
        ("id_token_nonce", "wrong", InvalidClaimError),
        ("id_token_issuer", "http://evil", InvalidClaimError),
        ("id_token_expired", True, ExpiredTokenError),
        ("id_token_signing_key", "other", BadSignatureError),
    ],
)
async def test_id_token_toggles_fail_verification(
    oidc: FakeOAuthServer,
    oidc_rp: RelyingParty,
    browser: httpx.AsyncClient,
    toggle: str,
    value: object,
    failure: type[Exception],
) -> None:
    assert oidc_rp.nonce is not None
    setattr(oidc, toggle, value)
    token = await oidc_rp.sign_in()

    with pytest.raises(failure):
        await verify_id_token(browser, oidc, token, oidc_rp.nonce)


async def test_fail_userinfo_answers_500(linuxdo_rp: RelyingParty, oidc_rp: RelyingParty) -> None:
    for rp in (linuxdo_rp, oidc_rp):
        await rp.sign_in()
        rp.server.fail_userinfo = True

        assert (await rp.client.get(rp.server.userinfo_url)).status_code == 500


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic a2FycG92OnM="])
async def test_userinfo_needs_a_valid_bearer_token(
    oidc: FakeOAuthServer, browser: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await browser.get(oidc.userinfo_url, headers=headers)

    assert response.status_code == 401


def test_reset_forgets_everything_but_keeps_the_port(linuxdo: FakeOAuthServer) -> None:
    base_url = linuxdo.base_url
    linuxdo.deny_with_error = "access_denied"
    linuxdo.redirect_uris.append("http://elsewhere.test/cb")

    linuxdo.reset()

    assert linuxdo.base_url == base_url
    assert linuxdo.deny_with_error is None
    assert linuxdo.redirect_uris == [LINUXDO_CALLBACK]
    assert linuxdo.requests == []
    with pytest.raises(KeyError):
        linuxdo.sign_in_as("alice")
    # A sync client reaches it too: the server has its own thread and loop.
    assert httpx.get(linuxdo.userinfo_url, verify=tls()).status_code == 401
