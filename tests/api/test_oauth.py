"""OAuth login end to end, on SQLite and on PostgreSQL + Redis: our routes in process, a
real authorisation server (``tests/fakes/oauth_server.py``) on loopback playing Linux.do
and a generic OpenID Connect provider, and a browser-like client that keeps cookies.

Time is a ``ManualClock`` started at the real time (the fake provider and Redis TTLs use
the real clock), so the 15-minute flow expiry is exact."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import ManualClock
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.api.oauth_flow import (
    FRONTEND,
    MIN_TRUST_LEVEL,
    OIDC_NAME,
    at_provider,
    authorize,
    callback_url,
    land,
    oauth_settings,
    sign_in,
    start,
    state_cookie,
    with_query,
)
from tests.fakes.hibp_server import FakeHibpServer
from tests.fakes.oauth_server import FakeOAuthServer, FakeUser

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
ME_FIELDS = "id email hasPassword totpEnabled status"


@dataclass
class Env:
    api: Api
    app: Any
    clock: ManualClock
    linuxdo: FakeOAuthServer
    oidc: FakeOAuthServer

    @property
    def engine(self) -> AsyncEngine:
        return self.app.state.container.engine  # type: ignore[no-any-return]

    def browser(self) -> Api:
        return self.api.fresh()


@asynccontextmanager
async def oauth_env(
    backend: tuple[str, str | None],
    hibp: FakeHibpServer,
    linuxdo: FakeOAuthServer,
    oidc: FakeOAuthServer,
    **settings: Any,
) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(datetime.now(UTC))
    overrides = {**oauth_settings(linuxdo, oidc), **settings}
    async with running_app(
        database_url, redis_url=redis_url, hibp=hibp, clock=clock, **overrides
    ) as (api, app):
        yield Env(api, app, clock, linuxdo, oidc)


@pytest_asyncio.fixture(loop_scope="session")
async def env(
    backend: tuple[str, str | None],
    hibp: FakeHibpServer,
    linuxdo: FakeOAuthServer,
    oidc: FakeOAuthServer,
) -> AsyncIterator[Env]:
    async with oauth_env(backend, hibp, linuxdo, oidc) as running:
        yield running


MakeEnv = Callable[..., Awaitable[Env]]


@pytest_asyncio.fixture(loop_scope="session")
async def make_env(
    backend: tuple[str, str | None],
    hibp: FakeHibpServer,
    linuxdo: FakeOAuthServer,
    oidc: FakeOAuthServer,
) -> AsyncIterator[MakeEnv]:
    """``await make_env(**settings)``: the app of ``env`` with more settings."""
    async with AsyncExitStack() as stack:

        async def make(**settings: Any) -> Env:
            return await stack.enter_async_context(
                oauth_env(backend, hibp, linuxdo, oidc, **settings)
            )

        yield make


# -- helpers ---------------------------------------------------------------------------


async def me(browser: Api) -> dict[str, Any]:
    result = await browser.gql(f"{{ viewer {{ {ME_FIELDS} }} }}")
    assert "errors" not in result, result
    return result["data"]["viewer"]  # type: ignore[no-any-return]


async def identities(browser: Api) -> list[dict[str, Any]]:
    response = await browser.get("/v1/auth/oauth/identities")
    assert response.status_code == 200, response.text
    return response.json()["data"]["identities"]  # type: ignore[no-any-return]


async def password_user(env: Env, email: str) -> Api:
    browser = env.browser()
    registered = await browser.post(
        "/v1/auth/register", {"email": email, "password": STRONG_PASSWORD}
    )
    assert registered.status_code == 200, registered.text
    login = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert login.status_code == 200, login.text
    return browser


async def signed_in_with(env: Env, provider: str = "linuxdo") -> Api:
    browser = env.browser()
    landing = await sign_in(browser, provider)
    assert landing.url == f"{FRONTEND}/", landing.url
    return browser


async def audit_actions(env: Env, user_id: str) -> list[str]:
    response = await env.api.get(f"/v1/admin/audit?userId={user_id}&limit=100", headers=ADMIN)
    assert response.status_code == 200, response.text
    return [item["action"] for item in response.json()["data"]["items"]]


def raw_id(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().split(":", 1)[1]


def bearer_tokens(server: FakeOAuthServer) -> list[str]:
    """The access tokens the fake issued, as our server presented them at its userinfo."""
    found = []
    for request in server.requests:
        value = request.headers.get("authorization", "")
        if value.lower().startswith("bearer "):
            found.append(value[7:])
    return found


# -- providers -------------------------------------------------------------------------


async def test_providers_are_listed_on_both_edges(env: Env) -> None:
    rest = await env.api.get("/v1/auth/oauth/providers")
    assert rest.json() == {
        "code": 200,
        "message": "success",
        "data": {
            "providers": [
                {"name": "linuxdo", "displayName": "Linux.do"},
                {"name": OIDC_NAME, "displayName": "Corp SSO"},
            ]
        },
    }
    data = await env.api.gql("{ oauthProviders { name displayName } }")
    assert data["data"]["oauthProviders"] == rest.json()["data"]["providers"]


async def test_an_unknown_provider_is_refused_at_start(env: Env) -> None:
    response = await start(env.browser(), "github")
    assert response.status_code == 400
    assert response.json()["code"] == 40000


# -- Linux.do --------------------------------------------------------------------------


async def test_linuxdo_sign_in_creates_an_active_account_without_a_password(env: Env) -> None:
    browser = env.browser()
    landing = await sign_in(browser, "linuxdo")

    assert landing.url == f"{FRONTEND}/"
    assert landing.sets_session()
    assert state_cookie("linuxdo") not in browser.http.cookies  # cleared on the callback
    user = await me(browser)
    # Linux.do asserts no verified e-mail: the account never takes the provider's address.
    assert user["email"] == "linuxdo-1001@oauth.invalid"
    assert (user["hasPassword"], user["status"]) == (False, "ACTIVE")
    [identity] = await identities(browser)
    assert identity["provider"] == "linuxdo"
    assert identity["providerSub"] == "1001"
    assert identity["providerLogin"] == "alice"
    assert identity["providerEmail"] == "alice@linux.do"
    assert identity["trustLevel"] == 2
    assert identity["providerAvatar"] == (
        f"{env.linuxdo.base_url}/user_avatar/connect.linux.do/alice/96/1.png"
    )
    assert "accessToken" not in str(identity) and "Token" not in "".join(identity)


async def test_linuxdo_flow_uses_pkce_basic_auth_and_scope_read(env: Env) -> None:
    await signed_in_with(env)
    by_path = {r.path: r for r in env.linuxdo.requests}
    authorize_params = by_path["/oauth2/authorize"].params
    assert authorize_params["scope"] == "read"
    assert authorize_params["code_challenge_method"] == "S256"
    assert len(authorize_params["code_challenge"]) == 43
    assert authorize_params["redirect_uri"] == callback_url("linuxdo")
    token = by_path["/oauth2/token"]
    assert token.headers["authorization"].startswith("Basic ")
    assert "client_secret" not in token.params
    assert len(token.params["code_verifier"]) == 43


async def test_returning_linuxdo_login_signs_into_the_same_account(env: Env) -> None:
    first = await signed_in_with(env)
    before = await me(first)
    [identity] = await identities(first)
    env.clock.advance(60)

    second = await signed_in_with(env)

    assert (await me(second))["id"] == before["id"]
    [again] = await identities(second)
    assert again["createdAt"] == identity["createdAt"]
    assert again["lastLoginAt"] != identity["lastLoginAt"]
    users = await env.api.get("/v1/admin/users", headers=ADMIN)
    assert users.json()["data"]["total"] == 1


async def test_profile_changes_are_refreshed_on_login(env: Env) -> None:
    await signed_in_with(env)
    env.linuxdo.add_user(
        FakeUser(sub="1001", username="alice2", name="Alice B", email="new@linux.do", trust_level=3)
    )
    env.linuxdo.sign_in_as("alice2")
    browser = await signed_in_with(env)
    [identity] = await identities(browser)
    assert (identity["providerLogin"], identity["providerName"], identity["trustLevel"]) == (
        "alice2",
        "Alice B",
        3,
    )


async def test_trust_level_below_the_minimum_is_refused(env: Env) -> None:
    env.linuxdo.add_user(FakeUser(sub="1002", username="newbie", trust_level=0))
    env.linuxdo.sign_in_as("newbie")
    browser = env.browser()

    landing = await sign_in(browser, "linuxdo")

    assert landing.error == "validate_failed"
    assert landing.query["message"] == f"linux.do trust_level=0 below required {MIN_TRUST_LEVEL}"
    assert landing.url.startswith(f"{FRONTEND}/oauth-error?")
    assert not landing.sets_session()
    assert (await env.api.get("/v1/admin/users", headers=ADMIN)).json()["data"]["total"] == 0


async def test_trust_level_is_checked_on_every_login(env: Env) -> None:
    await signed_in_with(env)
    alice = FakeUser(sub="1001", username="alice", trust_level=0)
    env.linuxdo.add_user(alice)  # demoted at the provider since the first login

    landing = await sign_in(env.browser(), "linuxdo")

    assert landing.error == "validate_failed"
    assert not landing.sets_session()


async def test_an_inactive_linuxdo_user_is_refused(env: Env) -> None:
    env.linuxdo.add_user(FakeUser(sub="1003", username="sleepy", trust_level=3, active=False))
    env.linuxdo.sign_in_as("sleepy")

    landing = await sign_in(env.browser(), "linuxdo")

    assert landing.error == "validate_failed"
    assert landing.query["message"] == "linux.do account is not active"


async def test_password_sign_in_is_refused_for_a_provider_account(env: Env) -> None:
    browser = await signed_in_with(env)
    email = (await me(browser))["email"]
    for password in ("", STRONG_PASSWORD):
        response = await env.browser().post(
            "/v1/auth/login", {"email": email, "password": password}
        )
        wrong = await env.browser().post(
            "/v1/auth/login", {"email": "nobody@example.com", "password": password}
        )
        assert response.status_code == wrong.status_code == 401
        assert response.json() == wrong.json()  # nothing says why


async def test_a_provider_account_can_set_a_password_once(env: Env) -> None:
    browser = await signed_in_with(env)
    email = (await me(browser))["email"]

    weak = await browser.post("/v1/auth/password/set", {"newPassword": "short"})
    assert weak.status_code == 400
    done = await browser.post("/v1/auth/password/set", {"newPassword": STRONG_PASSWORD})
    assert (done.status_code, done.json()) == (200, {})
    again = await browser.post("/v1/auth/password/set", {"newPassword": STRONG_PASSWORD})
    assert again.status_code == 409

    assert (await me(browser))["hasPassword"] is True
    login = await env.browser().post(
        "/v1/auth/login", {"email": email, "password": STRONG_PASSWORD}
    )
    assert login.status_code == 200, login.text
    user_id = raw_id((await me(browser))["id"])
    assert "password.set" in await audit_actions(env, user_id)


async def test_a_password_account_cannot_use_password_set(env: Env) -> None:
    browser = await password_user(env, "pw@example.com")
    response = await browser.post("/v1/auth/password/set", {"newPassword": STRONG_PASSWORD})
    assert response.status_code == 409
    data = await browser.gql(
        """mutation($i: AccountPasswordSetInput!) { accountPasswordSet(input: $i) {
        ok errors { code } } }""",
        {"i": {"newPassword": STRONG_PASSWORD}},
    )
    assert data["data"]["accountPasswordSet"] == {
        "ok": False,
        "errors": [{"code": "PASSWORD_ALREADY_SET"}],
    }


# -- binding ---------------------------------------------------------------------------


async def test_bind_links_the_provider_to_the_signed_in_user(env: Env) -> None:
    browser = await password_user(env, "bob@example.com")
    user_id = raw_id((await me(browser))["id"])

    landing = await sign_in(browser, "linuxdo", intent="bind")

    assert landing.url == f"{FRONTEND}/settings?bind=ok"
    assert not landing.sets_session()
    [identity] = await identities(browser)
    assert identity["providerSub"] == "1001"
    # Now Linux.do signs into bob's account, e-mail untouched.
    other = await signed_in_with(env)
    assert (await me(other))["email"] == "bob@example.com"
    assert {"oauth.linked", "oauth.login"} <= set(await audit_actions(env, user_id))


async def test_bind_needs_a_signed_in_session(env: Env) -> None:
    response = await start(env.browser(), "linuxdo", intent="bind")
    assert response.status_code == 401
    assert state_cookie("linuxdo") not in response.headers.get("set-cookie", "")


async def test_an_unknown_intent_is_refused(env: Env) -> None:
    response = await start(env.browser(), "linuxdo", intent="steal")
    assert response.status_code == 400


async def test_an_identity_bound_elsewhere_is_refused(env: Env) -> None:
    owner = await password_user(env, "owner@example.com")
    assert (await sign_in(owner, "linuxdo", intent="bind")).url.endswith("bind=ok")
    intruder = await password_user(env, "intruder@example.com")

    bind = await sign_in(intruder, "linuxdo", intent="bind")
    assert bind.error == "already_bound"
    login = await sign_in(intruder, "linuxdo")  # signed in as someone else
    assert login.error == "already_bound"

    assert await identities(intruder) == []
    assert (await me(intruder))["email"] == "intruder@example.com"


async def test_a_second_account_of_the_same_provider_is_refused(env: Env) -> None:
    browser = await password_user(env, "two@example.com")
    assert (await sign_in(browser, "linuxdo", intent="bind")).url.endswith("bind=ok")
    env.linuxdo.add_user(FakeUser(sub="2002", username="alt", trust_level=2))
    env.linuxdo.sign_in_as("alt")

    landing = await sign_in(browser, "linuxdo", intent="bind")

    assert landing.error == "already_bound"
    assert [i["providerSub"] for i in await identities(browser)] == ["1001"]


async def test_bind_finished_by_another_user_is_a_session_mismatch(env: Env) -> None:
    browser = await password_user(env, "starter@example.com")
    url = await authorize(browser, "linuxdo", intent="bind")
    binding = browser.http.cookies[state_cookie("linuxdo")]
    other = await password_user(env, "other@example.com")
    cookies = f"{state_cookie('linuxdo')}={binding}; sid={other.http.cookies['sid']}"

    landing = await land(env.browser(), url, headers={"Cookie": cookies})

    assert landing.error == "session_mismatch"
    assert await identities(other) == []


async def test_login_intent_while_signed_in_does_not_link(env: Env) -> None:
    browser = await password_user(env, "careful@example.com")

    landing = await sign_in(browser, "linuxdo")

    assert landing.error == "session_mismatch"
    assert await identities(browser) == []


# -- state -----------------------------------------------------------------------------


async def test_a_callback_without_the_flow_cookie_is_state_missing(env: Env) -> None:
    url = await authorize(env.browser(), "linuxdo")
    landing = await land(env.browser(), url)  # another browser: no cookie
    assert landing.error == "state_missing"
    assert not landing.sets_session()


async def test_a_forged_state_is_state_invalid(env: Env) -> None:
    browser = env.browser()
    url = await authorize(browser, "linuxdo")
    landing = await land(browser, with_query(url, state="forged-" + "x" * 36))
    assert landing.error == "state_invalid"


async def test_a_malformed_flow_cookie_is_state_invalid(env: Env) -> None:
    url = await authorize(env.browser(), "linuxdo")
    landing = await land(
        env.browser(), url, headers={"Cookie": f"{state_cookie('linuxdo')}=not-ours"}
    )
    assert landing.error == "state_invalid"


async def test_a_flow_finished_in_another_browser_is_state_mismatch(env: Env) -> None:
    victim, attacker = env.browser(), env.browser()
    await start(attacker, "linuxdo")  # the attacker has a flow cookie of its own
    url = await authorize(victim, "linuxdo")

    landing = await land(attacker, url)

    assert landing.error == "state_mismatch"
    assert not landing.sets_session()


async def test_a_replayed_callback_is_refused(env: Env) -> None:
    browser = env.browser()
    url = await authorize(browser, "linuxdo")
    binding = browser.http.cookies[state_cookie("linuxdo")]
    assert (await land(browser, url)).url == f"{FRONTEND}/"

    again = await land(browser, url)  # the cookie was cleared
    assert again.error == "state_missing"
    restored = await land(  # even with the cookie back: the flow was used
        env.browser(), url, headers={"Cookie": f"{state_cookie('linuxdo')}={binding}"}
    )
    assert restored.error == "state_invalid"
    assert not restored.sets_session()


async def test_concurrent_callbacks_of_one_flow_sign_in_once(env: Env) -> None:
    browser = env.browser()
    url = await authorize(browser, "linuxdo")
    cookie = {
        "Cookie": f"{state_cookie('linuxdo')}={browser.http.cookies[state_cookie('linuxdo')]}"
    }

    landings = await asyncio.gather(*(land(env.browser(), url, headers=cookie) for _ in range(4)))

    assert sum(landing.sets_session() for landing in landings) == 1
    assert sorted(str(landing.error) for landing in landings) == ["None"] + ["state_invalid"] * 3


async def test_a_flow_expires_after_15_minutes(env: Env) -> None:
    browser = env.browser()
    url = await authorize(browser, "linuxdo")
    env.clock.advance(timedelta(minutes=15, seconds=1))

    landing = await land(browser, url)

    assert landing.error == "state_invalid"


async def test_a_flow_just_inside_15_minutes_still_works(env: Env) -> None:
    browser = env.browser()
    url = await authorize(browser, "linuxdo")
    env.clock.advance(timedelta(minutes=14, seconds=59))
    assert (await land(browser, url)).url == f"{FRONTEND}/"


async def test_a_state_of_another_provider_is_state_provider_mismatch(env: Env) -> None:
    browser = env.browser()
    linuxdo_callback = await authorize(browser, "linuxdo")
    await start(browser, OIDC_NAME)  # now the browser holds a cookie for corp too
    state = dict(item.split("=", 1) for item in linuxdo_callback.split("?", 1)[1].split("&"))[
        "state"
    ]

    landing = await land(browser, f"{callback_url(OIDC_NAME)}?code=abc&state={state}")

    assert landing.error == "state_provider_mismatch"


async def test_pkce_mismatch_fails_the_exchange(env: Env) -> None:
    env.linuxdo.corrupt_code_challenge = True
    landing = await sign_in(env.browser(), "linuxdo")
    assert landing.error == "exchange_failed"
    assert not landing.sets_session()


async def test_provider_errors_are_passed_through(env: Env) -> None:
    env.linuxdo.deny_with_error = "access_denied"
    browser = env.browser()
    started = await start(browser, "linuxdo")
    back = await at_provider(started.headers["location"])

    landing = await land(browser, back)

    assert landing.error == "access_denied"
    assert landing.url.startswith(f"{FRONTEND}/oauth-error?code=access_denied")
    # The flow is spent: its state cannot be used again.
    state = dict(item.split("=", 1) for item in back.split("?", 1)[1].split("&"))["state"]
    assert (await land(browser, f"{callback_url('linuxdo')}?code=x&state={state}")).error in (
        "state_missing",
        "state_invalid",
    )


async def test_a_userinfo_failure_is_reported(env: Env) -> None:
    env.linuxdo.fail_userinfo = True
    assert (await sign_in(env.browser(), "linuxdo")).error == "userinfo_failed"


async def test_an_unknown_provider_callback_redirects_with_unknown_provider(env: Env) -> None:
    landing = await land(env.browser(), "/v1/auth/oauth/github/callback?code=a&state=b")
    assert landing.error == "unknown_provider"


# -- next ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http://app.example.com/",  # the frontend's host, but not its scheme
        "https://app.example.com.evil.example/",
        "https://app.example.com@evil.example/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "/tab\tx",
        "/nul\x00",
        "/ space",
    ],
)
async def test_a_bad_next_is_refused_before_anything_is_stored(env: Env, bad: str) -> None:
    browser = env.browser()
    response = await start(browser, "linuxdo", next_url=bad)
    assert response.status_code == 400, (bad, response.text)
    assert response.json()["code"] == 40000
    assert state_cookie("linuxdo") not in browser.http.cookies
    # The input boundary refuses a NUL before the resolver (HTTP 400); a resolver refusal
    # is a 200 with errors: both say INVALID_INPUT.
    answer = await browser.http.post(
        "/graphql",
        json={
            "query": 'query($n: String) { oauthStartUrl(provider: "linuxdo", next: $n) }',
            "variables": {"n": bad},
        },
    )
    assert answer.status_code in (200, 400), answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize(
    ("given", "landing_url"),
    [
        ("/dashboard?tab=keys#top", f"{FRONTEND}/dashboard?tab=keys#top"),
        (f"{FRONTEND}/welcome", f"{FRONTEND}/welcome"),
        (None, f"{FRONTEND}/"),
    ],
)
async def test_a_good_next_is_where_a_sign_in_lands(
    env: Env, given: str | None, landing_url: str
) -> None:
    landing = await sign_in(env.browser(), "linuxdo", next_url=given)
    assert landing.url == landing_url


# -- OpenID Connect --------------------------------------------------------------------


async def test_oidc_sign_in_with_a_verified_email(env: Env) -> None:
    browser = env.browser()
    landing = await sign_in(browser, OIDC_NAME)

    assert landing.url == f"{FRONTEND}/"
    user = await me(browser)
    assert (user["email"], user["hasPassword"]) == ("carol@example.com", False)
    [identity] = await identities(browser)
    assert (identity["provider"], identity["providerSub"], identity["providerLogin"]) == (
        OIDC_NAME,
        "c-42",
        "carol",
    )
    by_path = {r.path: r for r in env.oidc.requests}
    assert by_path["/authorize"].params["code_challenge_method"] == "S256"
    assert by_path["/authorize"].params["nonce"]
    assert set(by_path["/authorize"].params["scope"].split()) == {"openid", "email", "profile"}
    assert "/userinfo" in by_path and "/jwks" in by_path


async def test_oidc_returning_login(env: Env) -> None:
    first = await signed_in_with(env, OIDC_NAME)
    second = await signed_in_with(env, OIDC_NAME)
    assert (await me(first))["id"] == (await me(second))["id"]


async def test_an_unverified_oidc_email_is_not_used(env: Env) -> None:
    env.oidc.add_user(
        FakeUser(sub="d-7", username="dave", email="dave@example.com", email_verified=False)
    )
    env.oidc.sign_in_as("dave")
    await password_user(env, "dave@example.com")  # someone else holds that address

    browser = await signed_in_with(env, OIDC_NAME)

    email = (await me(browser))["email"]
    assert email.endswith("@oauth.invalid") and email != "dave@example.com"


async def test_a_verified_email_of_a_local_account_is_not_linked_silently(env: Env) -> None:
    owner = await password_user(env, "carol@example.com")

    landing = await sign_in(env.browser(), OIDC_NAME)
    assert landing.error == "email_exists"
    assert await identities(owner) == []

    # The owner proves the account (signed in) and links on purpose.
    assert (await sign_in(owner, OIDC_NAME, intent="bind")).url == f"{FRONTEND}/settings?bind=ok"
    browser = await signed_in_with(env, OIDC_NAME)
    assert (await me(browser))["email"] == "carol@example.com"
    assert (await me(browser))["hasPassword"] is True


@pytest.mark.parametrize(
    ("toggle", "value"),
    [
        ("id_token_audience", "someone-else"),
        ("id_token_nonce", "not-the-nonce"),
        ("id_token_issuer", "https://evil.example"),
        ("id_token_expired", True),
        ("id_token_signing_key", "other"),
    ],
)
async def test_a_bad_id_token_is_refused(env: Env, toggle: str, value: object) -> None:
    setattr(env.oidc, toggle, value)
    browser = env.browser()

    landing = await sign_in(browser, OIDC_NAME)

    assert landing.error == "id_token_invalid", landing.url
    assert not landing.sets_session()
    assert (await env.api.get("/v1/admin/users", headers=ADMIN)).json()["data"]["total"] == 0


async def test_oidc_pkce_mismatch_fails_the_exchange(env: Env) -> None:
    env.oidc.corrupt_code_challenge = True
    assert (await sign_in(env.browser(), OIDC_NAME)).error == "exchange_failed"


async def test_oidc_userinfo_failure_is_reported(env: Env) -> None:
    env.oidc.fail_userinfo = True
    assert (await sign_in(env.browser(), OIDC_NAME)).error == "userinfo_failed"


# -- locked accounts and two-factor ------------------------------------------------------


async def test_a_locked_account_cannot_sign_in_with_a_provider(env: Env) -> None:
    browser = await signed_in_with(env)
    user_id = raw_id((await me(browser))["id"])
    locked = await env.api.patch(f"/v1/admin/users/{user_id}", {"status": "locked"}, headers=ADMIN)
    assert locked.status_code == 200, locked.text

    landing = await sign_in(env.browser(), "linuxdo")

    assert landing.error == "account_locked"
    assert not landing.sets_session()


async def test_a_totp_account_gets_the_login_challenge_first(env: Env) -> None:
    browser = await signed_in_with(env)
    enrolment = await browser.post("/v1/auth/totp/enable", {})
    secret = enrolment.json()["secretBase32"]
    code = pyotp.TOTP(secret).at(env.clock.now())
    confirmed = await browser.post("/v1/auth/totp/enable/confirm", {"code": code})
    assert confirmed.status_code == 200, confirmed.text
    env.clock.advance(30)

    phone = env.browser()
    landing = await sign_in(phone, "linuxdo", next_url="/after")

    assert (landing.origin, landing.path) == (FRONTEND, "/oauth-totp")
    assert landing.query["next"] == "/after"
    assert not landing.sets_session()
    assert (await phone.get("/v1/auth/me")).status_code == 401
    verified = await phone.post(
        "/v1/auth/totp/verify",
        {
            "challengeId": landing.query["challengeId"],
            "code": pyotp.TOTP(secret).at(env.clock.now()),
        },
    )
    assert verified.status_code == 200, verified.text
    assert (await me(phone))["totpEnabled"] is True


# -- unlinking -------------------------------------------------------------------------


async def test_the_only_way_to_sign_in_cannot_be_unlinked(env: Env) -> None:
    browser = await signed_in_with(env)

    response = await browser.delete("/v1/auth/oauth/identities/linuxdo")

    assert response.status_code == 400
    assert response.json()["code"] == 40000
    data = await browser.gql(
        """mutation { oauthUnlink(input: {provider: "linuxdo"}) { ok errors { code } } }"""
    )
    assert data["data"]["oauthUnlink"] == {
        "ok": False,
        "errors": [{"code": "OAUTH_LAST_SIGN_IN_METHOD"}],
    }
    assert len(await identities(browser)) == 1


async def test_unlink_is_allowed_while_another_identity_or_a_password_remains(env: Env) -> None:
    browser = await signed_in_with(env)
    user_id = raw_id((await me(browser))["id"])
    assert (await sign_in(browser, OIDC_NAME, intent="bind")).url.endswith("bind=ok")

    first = await browser.delete("/v1/auth/oauth/identities/linuxdo")
    assert first.status_code == 200, first.text
    assert first.json()["data"] == {"unbound": True}
    second = await browser.delete(f"/v1/auth/oauth/identities/{OIDC_NAME}")
    assert second.status_code == 400  # now the last one

    assert (
        await browser.post("/v1/auth/password/set", {"newPassword": STRONG_PASSWORD})
    ).status_code == 200
    data = await browser.gql(
        "mutation($i: OAuthUnlinkInput!) { oauthUnlink(input: $i) { ok errors { code } } }",
        {"i": {"provider": OIDC_NAME}},
    )
    assert data["data"]["oauthUnlink"] == {"ok": True, "errors": []}
    assert await identities(browser) == []
    assert "oauth.unlinked" in await audit_actions(env, user_id)


async def test_unlinking_an_unlinked_provider_is_not_found(env: Env) -> None:
    browser = await password_user(env, "none@example.com")
    response = await browser.delete("/v1/auth/oauth/identities/linuxdo")
    assert response.status_code == 404


async def test_an_identity_is_a_node(env: Env) -> None:
    browser = await signed_in_with(env)
    [node_id] = [
        i["id"]
        for i in (await browser.gql("{ oauthIdentities { id } }"))["data"]["oauthIdentities"]
    ]
    result = await browser.gql(
        "query($id: ID!) { node(id: $id) { ... on OAuthIdentity { provider providerSub } } }",
        {"id": node_id},
    )
    assert result["data"]["node"] == {"provider": "linuxdo", "providerSub": "1001"}
    assert (await env.browser().gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id}))[
        "data"
    ]["node"] is None


async def test_identities_need_a_session(env: Env) -> None:
    assert (await env.browser().get("/v1/auth/oauth/identities")).status_code == 401


# -- GraphQL start ------------------------------------------------------------------------


async def test_graphql_start_url_binds_the_same_browser(env: Env) -> None:
    browser = env.browser()
    result = await browser.gql(
        """{ oauthStartUrl(provider: "linuxdo", intent: LOGIN, next: "/from-graphql") }"""
    )
    url = result["data"]["oauthStartUrl"]
    assert url.startswith(env.linuxdo.authorize_url)
    assert state_cookie("linuxdo") in browser.http.cookies

    landing = await land(browser, await at_provider(url))

    assert landing.url == f"{FRONTEND}/from-graphql"
    assert landing.sets_session()


async def test_graphql_start_is_a_mutation_with_the_query_kept_as_a_deprecated_alias(
    env: Env,
) -> None:
    browser = env.browser()
    result = await browser.gql(
        """mutation { oauthStart(input: {provider: "linuxdo", next: "/from-mutation"}) {
            url errors { code } } }"""
    )
    started = result["data"]["oauthStart"]
    assert started["errors"] == []
    assert started["url"].startswith(env.linuxdo.authorize_url)
    assert state_cookie("linuxdo") in browser.http.cookies
    landing = await land(browser, await at_provider(started["url"]))
    assert landing.url == f"{FRONTEND}/from-mutation"
    assert landing.sets_session()
    unknown = await browser.gql(
        'mutation { oauthStart(input: {provider: "nope"}) { url errors { code } } }'
    )
    assert unknown["data"]["oauthStart"]["url"] is None
    assert unknown["data"]["oauthStart"]["errors"][0]["code"]
    deprecated = await browser.gql(
        '{ __type(name: "Query") { fields(includeDeprecated: true) { name isDeprecated '
        "deprecationReason } } }"
    )
    fields = {f["name"]: f for f in deprecated["data"]["__type"]["fields"]}
    assert fields["oauthStartUrl"]["isDeprecated"] is True
    assert "oauthStart mutation" in fields["oauthStartUrl"]["deprecationReason"]


async def test_node_resolves_a_linked_identity(env: Env) -> None:
    browser = await signed_in_with(env)
    listed = await browser.gql("{ oauthIdentities { id provider } }")
    [identity] = listed["data"]["oauthIdentities"]
    found = await browser.gql(
        "query($id: ID!) { node(id: $id) { __typename id } }", {"id": identity["id"]}
    )
    assert found["data"]["node"] == {"__typename": "OAuthIdentity", "id": identity["id"]}


# -- tokens at rest ----------------------------------------------------------------------


async def raw_identity_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT * FROM oauth_identities"))
        return [dict(row._mapping) for row in rows]


def assert_nowhere(row: dict[str, Any], secret: str) -> None:
    for value in row.values():
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
            assert secret.encode() not in data
            assert secret.encode().hex() not in data.hex()
        else:
            assert secret not in str(value)


async def test_provider_tokens_are_stored_sealed_and_never_returned(env: Env) -> None:
    browser = await signed_in_with(env, OIDC_NAME)
    await sign_in(browser, "linuxdo", intent="bind")
    tokens = bearer_tokens(env.oidc) + bearer_tokens(env.linuxdo)
    assert len(tokens) == 2

    rows = await raw_identity_rows(env.engine)
    assert len(rows) == 2
    for row in rows:
        blob = bytes(row["access_token_enc"])
        assert blob.startswith(b"K1") and len(blob) > 6 + 12 + 16
        for token in tokens:
            assert_nowhere(row, token)
    listed = (await browser.get("/v1/auth/oauth/identities")).text
    graph = str(await browser.gql("{ oauthIdentities { provider providerSub providerLogin } }"))
    for token in tokens:
        assert token not in listed and token not in graph


async def test_key_rotation_reencrypts_provider_tokens(env: Env) -> None:
    await signed_in_with(env)
    [before] = await raw_identity_rows(env.engine)

    report = await env.app.state.container.services.key_rotation.rotate()

    [after] = await raw_identity_rows(env.engine)
    old, new = bytes(before["access_token_enc"]), bytes(after["access_token_enc"])
    assert report.reencrypted >= 1 and report.remaining == 0
    assert int.from_bytes(new[2:6], "big") == int.from_bytes(old[2:6], "big") + 1
    # Still usable afterwards: the next login refreshes the identity under the new key.
    assert (await sign_in(env.browser(), "linuxdo")).url == f"{FRONTEND}/"


# -- registration rules (the same as password registration) ---------------------------------


async def user_total(env: Env) -> int:
    response = await env.api.get("/v1/admin/users", headers=ADMIN)
    assert response.status_code == 200, response.text
    return int(response.json()["data"]["total"])


async def register(env: Env, email: str) -> Any:
    return await env.browser().post(
        "/v1/auth/register", {"email": email, "password": STRONG_PASSWORD}
    )


async def test_provider_sign_ups_count_toward_the_hourly_registration_cap(
    make_env: MakeEnv,
) -> None:
    env = await make_env(register_per_ip_per_hour=2)
    await password_user(env, "first@example.com")
    await signed_in_with(env)  # the second account from this address

    landing = await sign_in(env.browser(), OIDC_NAME)

    assert landing.error == "register_limited"
    assert landing.query["message"] == "too many registrations from this address; try again later"
    assert not landing.sets_session()
    assert await user_total(env) == 2
    assert len(await raw_identity_rows(env.engine)) == 1  # created nothing
    # Signing in to an existing account is no registration.
    assert (await sign_in(env.browser(), "linuxdo")).url == f"{FRONTEND}/"
    # Both paths count in one window.
    assert (await register(env, "third@example.com")).status_code == 429
    env.clock.advance(timedelta(hours=1))
    assert (await sign_in(env.browser(), OIDC_NAME)).url == f"{FRONTEND}/"
    assert await user_total(env) == 3


@pytest.mark.parametrize("first", ["password", "provider"])
async def test_one_account_per_address_covers_provider_sign_ups(
    make_env: MakeEnv, first: str
) -> None:
    env = await make_env(register_one_per_ip=True)
    if first == "password":
        assert (await register(env, "early@example.com")).status_code == 200
    else:
        await signed_in_with(env)  # claims the address like a password registration

    landing = await sign_in(env.browser(), OIDC_NAME)

    assert landing.error == "register_limited"
    assert landing.query["message"] == "an account was already registered from this network address"
    assert not landing.sets_session()
    assert await user_total(env) == 1
    refused = await register(env, "late@example.com")
    assert refused.status_code == 403, refused.text
    assert await user_total(env) == 1
    if first == "provider":  # the account it made still signs in
        assert (await sign_in(env.browser(), "linuxdo")).url == f"{FRONTEND}/"


async def test_concurrent_provider_sign_ups_from_one_address_make_one_account(
    make_env: MakeEnv,
) -> None:
    env = await make_env(register_one_per_ip=True)
    first, second = env.browser(), env.browser()
    back_first = await authorize(first, "linuxdo")
    back_second = await authorize(second, OIDC_NAME)

    landings = await asyncio.gather(land(first, back_first), land(second, back_second))

    assert sorted(str(landing.error) for landing in landings) == ["None", "register_limited"]
    assert await user_total(env) == 1
    assert len(await raw_identity_rows(env.engine)) == 1


async def test_an_allow_listed_address_may_sign_up_again(make_env: MakeEnv) -> None:
    env = await make_env(register_one_per_ip=True, register_ip_allowlist="203.0.113.0/24")
    await signed_in_with(env)
    assert (await sign_in(env.browser(), OIDC_NAME)).url == f"{FRONTEND}/"
    assert await user_total(env) == 2


@pytest.mark.parametrize(
    "domains",
    [{"email_blocked_domains": "example.com"}, {"email_allowed_domains": "corp.example"}],
)
async def test_a_verified_provider_email_must_pass_the_domain_lists(
    make_env: MakeEnv, domains: dict[str, str]
) -> None:
    env = await make_env(**domains)

    landing = await sign_in(env.browser(), OIDC_NAME)  # carol@example.com, verified

    assert landing.error == "email_domain_not_allowed"
    assert landing.query["message"] == "registration with this e-mail domain is not allowed"
    assert not landing.sets_session()
    assert await user_total(env) == 0
    assert await raw_identity_rows(env.engine) == []
    # An account without a real address (Linux.do) has no domain to check.
    browser = await signed_in_with(env)
    assert (await me(browser))["email"] == "linuxdo-1001@oauth.invalid"


# -- API keys --------------------------------------------------------------------------------


async def test_an_api_key_may_list_identities_but_not_unlink_or_bind(env: Env) -> None:
    browser = await password_user(env, "keyholder@example.com")
    assert (await sign_in(browser, "linuxdo", intent="bind")).url.endswith("bind=ok")
    created = await browser.post("/v1/auth/api-keys", {"name": "ci"})
    assert created.status_code == 200, created.text
    key = {"X-API-Key": created.json()["plaintext"]}
    caller = env.browser()

    response = await caller.delete("/v1/auth/oauth/identities/linuxdo", headers=key)
    assert response.status_code == 401, response.text
    assert response.json()["message"] == "unlinking a provider needs a signed-in session"
    data = await caller.gql(
        """mutation { oauthUnlink(input: {provider: "linuxdo"}) { ok errors { code } } }""",
        headers=key,
    )
    assert data["data"]["oauthUnlink"] == {"ok": False, "errors": [{"code": "UNAUTHENTICATED"}]}
    bind = await caller.get("/v1/auth/oauth/linuxdo/start", params={"intent": "bind"}, headers=key)
    assert bind.status_code == 401
    listed = await caller.get("/v1/auth/oauth/identities", headers=key)
    assert [i["provider"] for i in listed.json()["data"]["identities"]] == ["linuxdo"]
    graph = await caller.gql("{ oauthIdentities { provider } }", headers=key)
    assert graph["data"]["oauthIdentities"] == [{"provider": "linuxdo"}]
    # The session may.
    assert (await browser.delete("/v1/auth/oauth/identities/linuxdo")).status_code == 200


# -- provider errors -------------------------------------------------------------------------

FIXED_ERROR_MESSAGE = "the provider did not complete the sign-in; start again"
PLANTED = "Your account is suspended: call +1 555 0100"


def provider_error_url(provider: str, **query: str) -> str:
    return f"{callback_url(provider)}?{urlencode(query)}"


def state_of(started: Any) -> str:
    return str(parse_qs(urlsplit(started.headers["location"]).query)["state"][0])


async def test_provider_text_is_shown_only_for_a_flow_of_this_browser(env: Env) -> None:
    browser = env.browser()
    state = state_of(await start(browser, "linuxdo"))
    crafted = provider_error_url(
        "linuxdo", error="access_denied", error_description=PLANTED, state=state
    )

    elsewhere = await land(env.browser(), crafted)  # a link sent to someone else

    assert (elsewhere.error, elsewhere.query["message"]) == ("access_denied", FIXED_ERROR_MESSAGE)
    # The flow is over all the same: its own browser cannot use it now.
    spent = await land(browser, crafted)
    assert (spent.error, spent.query["message"]) == ("access_denied", FIXED_ERROR_MESSAGE)

    own_state = state_of(await start(browser, "linuxdo"))
    own = await land(
        browser,
        provider_error_url(
            "linuxdo", error="access_denied", error_description=PLANTED, state=own_state
        ),
    )
    assert (own.error, own.query["message"]) == ("access_denied", PLANTED)


@pytest.mark.parametrize(
    "query",
    [
        {"error": "call_555_0100_now", "error_description": PLANTED},
        {"error": "call_555_0100_now", "error_description": PLANTED, "state": "x" * 43},
        {"error": "Not A Code!", "error_description": PLANTED},
    ],
)
async def test_an_unverified_provider_error_shows_only_standard_codes(
    env: Env, query: dict[str, str]
) -> None:
    landing = await land(env.browser(), provider_error_url("linuxdo", **query))
    assert (landing.error, landing.query["message"]) == ("provider_error", FIXED_ERROR_MESSAGE)
    assert not landing.sets_session()


# -- start limit -----------------------------------------------------------------------------


async def test_starts_are_limited_per_client_address(env: Env) -> None:
    browser = env.browser()
    for _ in range(30):
        assert (await start(browser, "linuxdo")).status_code == 302

    other = env.browser()
    refused = await start(other, OIDC_NAME)  # any provider: the address counts

    assert refused.status_code == 429, refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert state_cookie(OIDC_NAME) not in other.http.cookies
    result = await other.gql('{ oauthStartUrl(provider: "linuxdo") }')
    assert result["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert state_cookie("linuxdo") not in other.http.cookies

    env.clock.advance(timedelta(minutes=10))
    assert (await sign_in(other, "linuxdo")).url == f"{FRONTEND}/"


# -- setting a password ----------------------------------------------------------------------


async def test_setting_a_password_ends_the_other_sessions(env: Env) -> None:
    laptop = await signed_in_with(env)
    phone = await signed_in_with(env)
    assert (await phone.get("/v1/auth/me")).status_code == 200

    done = await laptop.post("/v1/auth/password/set", {"newPassword": STRONG_PASSWORD})

    assert done.status_code == 200, done.text
    assert (await phone.get("/v1/auth/me")).status_code == 401
    assert (await laptop.get("/v1/auth/me")).status_code == 200
    user_id = raw_id((await me(laptop))["id"])
    response = await env.api.get(
        f"/v1/admin/audit?userId={user_id}&action=password.set", headers=ADMIN
    )
    [event] = response.json()["data"]["items"]
    assert event["details"]["sessions_revoked"] == "1"
