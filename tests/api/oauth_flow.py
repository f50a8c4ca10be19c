"""Driving OAuth sign-ins like a browser: our app in process (ASGI transport, cookies kept
by the ``Api`` client) and the fake authorisation servers over real TCP.

A flow is: ``GET /v1/auth/oauth/{p}/start`` (302 to the provider, sets the flow cookie) ->
the provider's authorize URL (the fake approves at once and answers 302 to our callback)
-> our callback (302 to the frontend). The helpers follow each hop by hand so that tests
can stop, tamper or replay at any point."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.api.harness import Api
from tests.fakes.oauth_server import FakeOAuthServer, FakeUser

APP_BASE = "http://testserver"
FRONTEND = "https://app.example.com"
OIDC_NAME = "corp"
MIN_TRUST_LEVEL = 1


def callback_url(provider: str) -> str:
    return f"{APP_BASE}/v1/auth/oauth/{provider}/callback"


def state_cookie(provider: str) -> str:
    return f"oauth_state_{provider}"


@pytest.fixture(scope="session")
def linuxdo_server() -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer("linuxdo", redirect_uris=[callback_url("linuxdo")]) as server:
        yield server


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[FakeOAuthServer]:
    with FakeOAuthServer("oidc", redirect_uris=[callback_url(OIDC_NAME)]) as server:
        yield server


@pytest.fixture
def linuxdo(linuxdo_server: FakeOAuthServer) -> FakeOAuthServer:
    """The Linux.do fake, reset, with ``alice`` (trust level 2) signed in."""
    linuxdo_server.reset()
    linuxdo_server.add_user(
        FakeUser(sub="1001", username="alice", name="Alice", email="alice@linux.do", trust_level=2)
    )
    linuxdo_server.sign_in_as("alice")
    return linuxdo_server


@pytest.fixture
def oidc(oidc_server: FakeOAuthServer) -> FakeOAuthServer:
    """The OpenID fake, reset, with ``carol`` (verified e-mail) signed in."""
    oidc_server.reset()
    oidc_server.add_user(
        FakeUser(
            sub="c-42",
            username="carol",
            name="Carol",
            email="carol@example.com",
            email_verified=True,
        )
    )
    oidc_server.sign_in_as("carol")
    return oidc_server


def oauth_settings(linuxdo: FakeOAuthServer, oidc: FakeOAuthServer) -> dict[str, Any]:
    """``running_app`` overrides: Linux.do and one OpenID provider, both on the fakes."""
    return {
        "public_base_url": APP_BASE,
        "frontend_base_url": FRONTEND,
        "oauth_linuxdo_client_id": linuxdo.client_id,
        "oauth_linuxdo_client_secret": linuxdo.client_secret,
        "oauth_linuxdo_authorize_url": linuxdo.authorize_url,
        "oauth_linuxdo_token_url": linuxdo.token_url,
        "oauth_linuxdo_userinfo_url": linuxdo.userinfo_url,
        "oauth_linuxdo_min_trust_level": MIN_TRUST_LEVEL,
        "oauth_oidc_providers": {
            OIDC_NAME: {
                "discovery_url": oidc.discovery_url,
                "client_id": oidc.client_id,
                "client_secret": oidc.client_secret,
                "display_name": "Corp SSO",
            }
        },
    }


@dataclass
class Landing:
    """Where our callback sent the browser."""

    response: httpx.Response
    url: str

    @property
    def parts(self) -> Any:
        return urlsplit(self.url)

    @property
    def origin(self) -> str:
        return f"{self.parts.scheme}://{self.parts.netloc}"

    @property
    def path(self) -> str:
        return str(self.parts.path)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.parts.query))

    @property
    def error(self) -> str | None:
        return self.query.get("code") if self.path == "/oauth-error" else None

    def set_cookies(self) -> list[str]:
        return self.response.headers.get_list("set-cookie")

    def sets_session(self) -> bool:
        return any(c.startswith("sid=") and "Max-Age=0" not in c for c in self.set_cookies())


async def start(
    browser: Api, provider: str, *, intent: str | None = None, next_url: str | None = None
) -> httpx.Response:
    params = {k: v for k, v in {"intent": intent, "next": next_url}.items() if v is not None}
    return await browser.get(f"/v1/auth/oauth/{provider}/start", params=params)


async def at_provider(authorize_url: str) -> str:
    """Open the provider's authorize URL (real TCP); returns the URL it redirects to."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(authorize_url)
    assert response.status_code == 302, (response.status_code, response.text)
    return response.headers["location"]


async def authorize(
    browser: Api, provider: str, *, intent: str | None = None, next_url: str | None = None
) -> str:
    """Start a flow and pass the provider: returns our callback URL with code and state."""
    started = await start(browser, provider, intent=intent, next_url=next_url)
    assert started.status_code == 302, started.text
    back = await at_provider(started.headers["location"])
    assert back.startswith(callback_url(provider)), back
    return back


async def land(browser: Api, url: str, **kwargs: Any) -> Landing:
    """Follow the provider's redirect to our callback; returns where we send the browser."""
    response = await browser.get(url, **kwargs)
    assert response.status_code == 302, (response.status_code, response.text)
    return Landing(response, response.headers["location"])


async def sign_in(
    browser: Api, provider: str, *, intent: str | None = None, next_url: str | None = None
) -> Landing:
    """A whole flow, start to landing."""
    return await land(browser, await authorize(browser, provider, intent=intent, next_url=next_url))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()
