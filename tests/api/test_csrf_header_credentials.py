"""Issue 12, item 6: CSRF is skipped only when a header credential actually authenticated,
and then the cookie is ignored. A made-up ``X-Session-Id`` or ``Authorization`` header used
to switch the check off while the ``sid`` cookie authenticated the request: a cross-site
page cannot send those headers, but the rule must not depend on that."""

from __future__ import annotations

import pytest

from tests.api.harness import Api
from tests.api.test_edge import sign_in

BOGUS = [{"X-Session-Id": "made-up"}, {"Authorization": "Bearer made-up"}]


@pytest.mark.parametrize("bogus", BOGUS, ids=["x-session-id", "bearer"])
async def test_a_header_that_does_not_authenticate_does_not_skip_csrf(
    api: Api, bogus: dict[str, str]
) -> None:
    await sign_in(api)  # the browser holds the sid cookie
    # No X-CSRF-Token: the cookie session must not act.
    response = await api.http.post("/v1/auth/sessions/revoke-others", headers=bogus)
    assert response.status_code in (401, 403), response.text
    graphql = await api.http.post(
        "/graphql",
        json={"query": "mutation { accountLogout(input: {}) { ok } }"},
        headers=bogus,
    )
    # issue 11: /graphql takes a JSON POST without the double-submit token (a browser
    # cannot send one cross-site without a preflight); the bogus header is the credential,
    # so the cookie session is not read and the logout does not act.
    assert graphql.status_code in (200, 401, 403), graphql.text
    if graphql.status_code == 200:
        assert graphql.json()["data"]["accountLogout"]["ok"] is False, graphql.text
    # The session is untouched: it still works (with the CSRF token).
    me = await api.get("/v1/auth/me")
    assert me.status_code == 200, me.text


@pytest.mark.parametrize("bogus", BOGUS, ids=["x-session-id", "bearer"])
async def test_with_a_header_credential_the_cookie_is_ignored(
    api: Api, bogus: dict[str, str]
) -> None:
    await sign_in(api)
    # A safe request: the bogus header is the credential, the cookie is not consulted.
    me = await api.http.get("/v1/auth/me", headers=bogus)
    assert me.status_code == 401, me.text


async def test_a_header_credential_that_authenticates_skips_csrf(api: Api) -> None:
    sid = await sign_in(api)
    other = api.fresh()
    response = await other.http.post(
        "/v1/auth/sessions/revoke-others", headers={"X-Session-Id": sid}
    )
    assert response.status_code == 200, response.text
