"""Accounts through GraphQL only: the user journeys of /v1 (test_accounts_rest.py), as a
GraphQL client sees them. Mutations report failures in the payload's ``errors``; queries
fail with ``extensions.code``. Runs on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.api.conftest import BREACHED_PASSWORD
from tests.api.harness import (
    ADMIN_TOKEN,
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    Api,
    data_of,
    error_of,
)

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
USER_FIELDS = "id email status role planId totpEnabled createdAt updatedAt lastLoginAt"

REGISTER = f"""mutation($i: AccountRegisterInput!) {{ accountRegister(input: $i) {{
    result {{ user {{ {USER_FIELDS} }} emailVerificationRequired activationEmailSent }}
    errors {{ code field message }} }} }}"""
LOGIN = f"""mutation($i: AccountLoginInput!) {{ accountLogin(input: $i) {{
    result {{ sid expiresAt totpRequired challengeId user {{ {USER_FIELDS} }} }}
    errors {{ code field message }} }} }}"""
LOGOUT = "mutation($i: AccountLogoutInput) { accountLogout(input: $i) { ok errors { code } } }"
VIEWER = f"{{ viewer {{ {USER_FIELDS} }} }}"
PASSWORD_CHANGE = """mutation($i: AccountPasswordChangeInput!) {
    accountPasswordChange(input: $i) { revokedSessions errors { code field message } } }"""
SESSIONS = "{ sessions { id current ip userAgent createdAt lastSeenAt expiresAt } }"
SESSION_REVOKE = """mutation($i: SessionRevokeInput!) {
    sessionRevoke(input: $i) { ok errors { code field message } } }"""
REVOKE_OTHERS = "mutation { sessionRevokeOthers { revokedCount errors { code } } }"
ADMIN_USERS = """query($first: Int!, $after: String, $filter: AdminUserFilter) {
    adminUsers(first: $first, after: $after, filter: $filter) {
        totalCount edges { cursor node { id email role status } } nodes { id }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
ADMIN_UPDATE = """mutation($i: AdminUserUpdateInput!) {
    adminUserUpdate(input: $i) { user { id email role status } errors { code field message } } }"""
ADMIN_PASSWORD = """mutation($i: AdminUserPasswordSetInput!) {
    adminUserPasswordSet(input: $i) { ok errors { code field message } } }"""


def decode_id(global_id: str) -> tuple[str, str]:
    padded = global_id + "=" * (-len(global_id) % 4)
    type_name, _, raw = base64.urlsafe_b64decode(padded).decode().partition(":")
    return type_name, raw


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def register(api: Api, email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
    data = await data_of(api, REGISTER, {"i": {"email": email, "password": password}})
    return data["accountRegister"]  # type: ignore[no-any-return]


async def login_response(api: Api, email: str, password: str = STRONG_PASSWORD) -> httpx.Response:
    """The raw HTTP answer (for its cookies) of an accountLogin."""
    response = await api.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"i": {"email": email, "password": password}}},
    )
    assert response.status_code == 200, response.text
    return response


async def login(api: Api, email: str, password: str = STRONG_PASSWORD) -> dict[str, Any]:
    body = (await login_response(api, email, password)).json()
    assert "errors" not in body, body
    return body["data"]["accountLogin"]  # type: ignore[no-any-return]


async def signed_in(api: Api, email: str) -> tuple[Api, str, str]:
    """A fresh browser with a signed-in user (registered if new): (browser, sid, user id)."""
    browser = api.fresh()
    await register(browser, email)
    payload = await login(browser, email)
    assert payload["errors"] == [], payload
    return browser, payload["result"]["sid"], payload["result"]["user"]["id"]


async def viewer_email(api: Api, headers: dict[str, str] | None = None) -> str | None:
    result = await api.gql("{ viewer { email } }", headers=headers)
    viewer = (result.get("data") or {}).get("viewer")
    if viewer is None:  # nullable: a signed-out viewer is null with UNAUTHENTICATED
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", result
        return None
    return viewer["email"]  # type: ignore[no-any-return]


# -- accountRegister --------------------------------------------------------------------


async def test_register_returns_the_new_user(api: Api) -> None:
    payload = await register(api, "  Alice@Example.COM ")
    assert payload["errors"] == []
    result = payload["result"]
    assert result["emailVerificationRequired"] is False
    assert result["activationEmailSent"] is False
    user = result["user"]
    assert user["email"] == "alice@example.com"
    assert (user["status"], user["role"], user["planId"]) == ("ACTIVE", "USER", "free")
    assert user["totpEnabled"] is False and user["lastLoginAt"] is None
    type_name, raw = decode_id(user["id"])
    assert type_name == "User" and len(raw) == 32
    assert abs(instant(user["createdAt"]) - datetime.now(UTC)) < timedelta(minutes=5)


async def test_register_reports_errors_in_the_payload(api: Api) -> None:
    await register(api, "taken@example.com")
    cases = [
        ("bob@example.com", "abcdefgh", "WEAK_PASSWORD", "password"),
        ("bob@example.com", "Abcdef1!x", "WEAK_PASSWORD", "password"),
        ("bob@example.com", "", "INVALID_INPUT", "password"),
        ("bob@example.com", "Aa1!" * 40, "INVALID_INPUT", "password"),
        ("bob@example.com", BREACHED_PASSWORD, "PWNED_PASSWORD", "password"),
        ("not-an-email", STRONG_PASSWORD, "INVALID_INPUT", "email"),
        ("bob@@example.com", STRONG_PASSWORD, "INVALID_INPUT", "email"),
        ("", STRONG_PASSWORD, "INVALID_INPUT", "email"),
        (" TAKEN@example.com", OTHER_STRONG_PASSWORD, "EMAIL_TAKEN", "email"),
    ]
    for email, password, code, field in cases:
        payload = await register(api, email, password)
        assert payload["result"] is None, (email, password, payload)
        assert len(payload["errors"]) == 1, payload
        error = payload["errors"][0]
        assert (error["code"], error["field"]) == (code, field), (email, password, error)
        assert error["message"]
    listed = await data_of(api, "{ adminUsers { totalCount } }", headers=ADMIN)
    assert listed["adminUsers"]["totalCount"] == 1  # nothing else was stored


async def test_register_with_a_missing_argument_is_a_validation_error(api: Api) -> None:
    result = await api.gql(
        'mutation { accountRegister(input: {email: "a@example.com"}) { errors { code } } }'
    )
    assert result.get("data") is None
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# -- accountLogin -----------------------------------------------------------------------


async def test_login_sets_a_hardened_sid_cookie_and_returns_the_session(api: Api) -> None:
    await register(api, "alice@example.com")
    before = datetime.now(UTC)
    response = await login_response(api, "Alice@Example.com")
    payload = response.json()["data"]["accountLogin"]
    assert payload["errors"] == []
    result = payload["result"]
    assert result["totpRequired"] is False and result["challengeId"] is None
    assert len(result["sid"]) == 43
    expires = instant(result["expiresAt"])
    assert before + timedelta(days=7) - timedelta(minutes=1) <= expires
    assert expires <= datetime.now(UTC) + timedelta(days=7)
    assert result["user"]["email"] == "alice@example.com"
    assert result["user"]["lastLoginAt"] is not None

    cookies = response.headers.get_list("set-cookie")
    sid_cookie = next(c for c in cookies if c.startswith("sid="))
    assert sid_cookie.startswith(f"sid={result['sid']};")
    attributes = [a.strip().lower() for a in sid_cookie.split(";")]
    for attribute in ("httponly", "samesite=lax", "path=/", "max-age=604800"):
        assert attribute in attributes, sid_cookie
    assert "secure" not in attributes  # the public base URL is http here
    assert api.http.cookies["sid"] == result["sid"]


async def test_login_failures_look_the_same_and_set_no_cookie(api: Api) -> None:
    await register(api, "alice@example.com")
    answers = []
    for email, password in [
        ("alice@example.com", "Wrong-Password-123"),
        ("nobody@example.com", STRONG_PASSWORD),
        ("not an email", STRONG_PASSWORD),
    ]:
        response = await login_response(api, email, password)
        assert not any(c.startswith("sid=") for c in response.headers.get_list("set-cookie"))
        payload = response.json()["data"]["accountLogin"]
        assert payload["result"] is None
        answers.append(payload["errors"])
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0]["code"] == "INVALID_CREDENTIALS"
    assert "sid" not in api.http.cookies


async def test_a_locked_account_is_revealed_only_to_the_right_password(api: Api) -> None:
    user_id = (await register(api, "alice@example.com"))["result"]["user"]["id"]
    locked = await data_of(
        api, ADMIN_UPDATE, {"i": {"userId": user_id, "status": "LOCKED"}}, headers=ADMIN
    )
    assert locked["adminUserUpdate"]["errors"] == []
    wrong = await login(api, "alice@example.com", "Wrong-Password-123")
    assert wrong["errors"][0]["code"] == "INVALID_CREDENTIALS"
    right = await login(api, "alice@example.com")
    assert right["result"] is None
    assert right["errors"][0]["code"] == "ACCOUNT_LOCKED"


# -- viewer and node --------------------------------------------------------------------


async def test_viewer_follows_the_cookie_the_header_and_the_bearer(api: Api) -> None:
    await register(api, "alice@example.com")
    sid = (await login(api, "alice@example.com"))["result"]["sid"]
    viewer = (await data_of(api, VIEWER))["viewer"]
    assert viewer["email"] == "alice@example.com"
    assert viewer["lastLoginAt"] is not None
    bare = api.fresh()
    for headers in ({"X-Session-Id": sid}, {"Authorization": f"Bearer {sid}"}):
        assert (await data_of(bare, VIEWER, headers=headers))["viewer"] == viewer


async def test_viewer_without_a_session_is_unauthenticated(api: Api) -> None:
    for headers in (None, {"X-Session-Id": "x" * 43}, {"Authorization": "Bearer nope"}):
        error = await error_of(api.fresh(), VIEWER, headers=headers)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
        assert error["path"] == ["viewer"]


async def test_node_returns_the_viewer_and_nothing_it_may_not_see(api: Api) -> None:
    alice, _, alice_id = await signed_in(api, "alice@example.com")
    _, _, bob_id = await signed_in(api, "bob@example.com")
    query = "query($id: ID!) { node(id: $id) { __typename id ... on User { email role } } }"
    node = (await data_of(alice, query, {"id": alice_id}))["node"]
    assert node == {"__typename": "User", "id": alice_id, "email": "alice@example.com",
                    "role": "USER"}  # fmt: skip
    assert (await data_of(alice, query, {"id": bob_id}))["node"] is None
    assert (await data_of(alice, query, {"id": "garbage"}))["node"] is None
    assert (await data_of(api.fresh(), query, {"id": alice_id}))["node"] is None
    as_admin = (await data_of(api, query, {"id": bob_id}, headers=ADMIN))["node"]
    assert as_admin["email"] == "bob@example.com"


# -- password change --------------------------------------------------------------------


async def test_password_change_checks_the_old_password_and_revokes_other_sessions(
    api: Api,
) -> None:
    browser, _, _ = await signed_in(api, "alice@example.com")
    phone, phone_sid, _ = await signed_in(api, "alice@example.com")

    async def change(old: str, new: str) -> dict[str, Any]:
        data = await data_of(browser, PASSWORD_CHANGE, {"i": {"oldPassword": old,
                                                               "newPassword": new}})  # fmt: skip
        return data["accountPasswordChange"]  # type: ignore[no-any-return]

    wrong = await change("Wrong-Password-123", OTHER_STRONG_PASSWORD)
    assert wrong["revokedSessions"] is None
    assert [(e["code"], e["field"]) for e in wrong["errors"]] == [
        ("INVALID_CREDENTIALS", "oldPassword")
    ]
    weak = await change(STRONG_PASSWORD, "abcdefgh")
    assert [(e["code"], e["field"]) for e in weak["errors"]] == [("WEAK_PASSWORD", "newPassword")]
    pwned = await change(STRONG_PASSWORD, BREACHED_PASSWORD)
    assert [(e["code"], e["field"]) for e in pwned["errors"]] == [("PWNED_PASSWORD", "newPassword")]
    assert await viewer_email(phone) == "alice@example.com"  # failures revoke nothing

    assert await change(STRONG_PASSWORD, OTHER_STRONG_PASSWORD) == {
        "revokedSessions": 1,
        "errors": [],
    }
    assert await viewer_email(browser) == "alice@example.com"
    assert await viewer_email(phone) is None
    assert await viewer_email(api.fresh(), {"X-Session-Id": phone_sid}) is None
    old = await login(api.fresh(), "alice@example.com")
    assert old["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await login(api.fresh(), "alice@example.com", OTHER_STRONG_PASSWORD))["errors"] == []


async def test_password_change_needs_a_session(api: Api) -> None:
    data = await data_of(
        api.fresh(),
        PASSWORD_CHANGE,
        {"i": {"oldPassword": STRONG_PASSWORD, "newPassword": OTHER_STRONG_PASSWORD}},
    )
    assert data["accountPasswordChange"]["errors"][0]["code"] == "UNAUTHENTICATED"


# -- sessions ---------------------------------------------------------------------------


async def test_sessions_are_listed_and_revoked_by_global_id(api: Api) -> None:
    laptop, _, _ = await signed_in(api, "alice@example.com")
    phone, _, _ = await signed_in(api, "alice@example.com")
    tablet, _, _ = await signed_in(api, "alice@example.com")
    _, _, _ = await signed_in(api, "bob@example.com")

    sessions = (await data_of(laptop, SESSIONS))["sessions"]
    assert len(sessions) == 3
    assert [s["current"] for s in sessions].count(True) == 1
    assert sessions[-1]["current"] is True  # newest first; the laptop signed in first
    assert {s["ip"] for s in sessions} == {"203.0.113.7"}
    assert all(s["userAgent"] and s["userAgent"].startswith("python-httpx") for s in sessions)
    for s in sessions:
        type_name, raw = decode_id(s["id"])
        assert type_name == "Session" and len(raw) == 32
        assert instant(s["createdAt"]) <= instant(s["lastSeenAt"]) < instant(s["expiresAt"])

    # the phone's session is the middle one (tablet newest, laptop oldest)
    tablet_id, phone_id = sessions[0]["id"], sessions[1]["id"]
    revoked = await data_of(laptop, SESSION_REVOKE, {"i": {"sessionId": phone_id}})
    assert revoked["sessionRevoke"] == {"ok": True, "errors": []}
    assert await viewer_email(phone) is None
    assert await viewer_email(tablet) == "alice@example.com"
    again = await data_of(laptop, SESSION_REVOKE, {"i": {"sessionId": phone_id}})
    assert again["sessionRevoke"]["ok"] is False
    assert [(e["code"], e["field"]) for e in again["sessionRevoke"]["errors"]] == [
        ("SESSION_NOT_FOUND", "sessionId")
    ]
    bad = await data_of(laptop, SESSION_REVOKE, {"i": {"sessionId": "not-an-id"}})
    assert [(e["code"], e["field"]) for e in bad["sessionRevoke"]["errors"]] == [
        ("INVALID_INPUT", "sessionId")
    ]
    assert len((await data_of(laptop, SESSIONS))["sessions"]) == 2
    assert tablet_id in {s["id"] for s in (await data_of(tablet, SESSIONS))["sessions"]}


async def test_a_session_of_another_user_cannot_be_revoked(api: Api) -> None:
    alice, _, _ = await signed_in(api, "alice@example.com")
    bob, _, _ = await signed_in(api, "bob@example.com")
    bob_session = (await data_of(bob, SESSIONS))["sessions"][0]["id"]
    data = await data_of(alice, SESSION_REVOKE, {"i": {"sessionId": bob_session}})
    assert data["sessionRevoke"]["errors"][0]["code"] == "SESSION_NOT_FOUND"
    assert await viewer_email(bob) == "bob@example.com"


async def test_revoking_the_current_session_signs_out_and_clears_the_cookie(api: Api) -> None:
    browser, _, _ = await signed_in(api, "alice@example.com")
    current = next(s for s in (await data_of(browser, SESSIONS))["sessions"] if s["current"])
    response = await browser.post(
        "/graphql", json={"query": SESSION_REVOKE, "variables": {"i": {"sessionId": current["id"]}}}
    )
    assert response.json()["data"]["sessionRevoke"] == {"ok": True, "errors": []}
    assert "sid" not in browser.http.cookies
    assert await viewer_email(browser) is None


async def test_session_revoke_others_keeps_only_this_one(api: Api) -> None:
    browser, _, _ = await signed_in(api, "alice@example.com")
    others = [(await signed_in(api, "alice@example.com"))[0] for _ in range(2)]
    bob, _, _ = await signed_in(api, "bob@example.com")
    data = await data_of(browser, REVOKE_OTHERS)
    assert data["sessionRevokeOthers"] == {"revokedCount": 2, "errors": []}
    assert [s["current"] for s in (await data_of(browser, SESSIONS))["sessions"]] == [True]
    for other in others:
        assert await viewer_email(other) is None
    assert await viewer_email(bob) == "bob@example.com"
    again = await data_of(browser, REVOKE_OTHERS)
    assert again["sessionRevokeOthers"]["revokedCount"] == 0


async def test_session_operations_need_a_session(api: Api) -> None:
    anonymous = api.fresh()
    assert (await error_of(anonymous, SESSIONS))["extensions"]["code"] == "UNAUTHENTICATED"
    data = await data_of(anonymous, REVOKE_OTHERS)
    assert data["sessionRevokeOthers"]["errors"][0]["code"] == "UNAUTHENTICATED"


# -- accountLogout ----------------------------------------------------------------------


async def test_logout_ends_the_session_and_clears_the_cookie(api: Api) -> None:
    browser, sid, _ = await signed_in(api, "alice@example.com")
    response = await browser.post("/graphql", json={"query": LOGOUT})
    assert response.json()["data"]["accountLogout"] == {"ok": True, "errors": []}
    cleared = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sid="))
    assert cleared.startswith(('sid="";', "sid=;"))
    assert "max-age=0" in cleared.lower()
    assert "sid" not in browser.http.cookies
    assert await viewer_email(api.fresh(), {"X-Session-Id": sid}) is None
    again = await data_of(browser, LOGOUT)
    assert again["accountLogout"] == {"ok": False, "errors": [{"code": "UNAUTHENTICATED"}]}


async def test_logout_of_another_token_keeps_this_session(api: Api) -> None:
    browser, _, _ = await signed_in(api, "alice@example.com")
    _, other_sid, _ = await signed_in(api, "alice@example.com")
    data = await data_of(browser, LOGOUT, {"i": {"sid": other_sid}})
    assert data["accountLogout"] == {"ok": True, "errors": []}
    assert await viewer_email(api.fresh(), {"X-Session-Id": other_sid}) is None
    assert await viewer_email(browser) == "alice@example.com"


# -- administration ---------------------------------------------------------------------


async def test_admin_users_pages_with_cursors(api: Api) -> None:
    emails = [f"user{i}@example.com" for i in range(5)]
    for email in emails:
        await register(api, email)
    newest_first = list(reversed(emails))

    seen: list[str] = []
    after: str | None = None
    pages = []
    for _ in range(3):
        data = await data_of(api, ADMIN_USERS, {"first": 2, "after": after}, headers=ADMIN)
        page = data["adminUsers"]
        assert page["totalCount"] == 5
        assert [n["id"] for n in page["nodes"]] == [e["node"]["id"] for e in page["edges"]]
        info = page["pageInfo"]
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        pages.append((len(page["edges"]), info["hasNextPage"], info["hasPreviousPage"]))
        seen += [e["node"]["email"] for e in page["edges"]]
        after = info["endCursor"]
    assert pages == [(2, True, False), (2, True, True), (1, False, True)]
    assert seen == newest_first

    past_the_end = await data_of(api, ADMIN_USERS, {"first": 2, "after": after}, headers=ADMIN)
    assert past_the_end["adminUsers"]["edges"] == []
    assert past_the_end["adminUsers"]["pageInfo"]["hasNextPage"] is False
    everything = await data_of(api, ADMIN_USERS, {"first": 100}, headers=ADMIN)
    assert [e["node"]["email"] for e in everything["adminUsers"]["edges"]] == newest_first


async def test_admin_users_rejects_bad_paging_arguments(api: Api) -> None:
    for first in (0, -1, 101):
        error = await error_of(api, ADMIN_USERS, {"first": first}, headers=ADMIN)
        assert error["extensions"]["code"] == "INVALID_INPUT", first
        assert error["extensions"]["field"] == "first"
    for after in ("garbage!", base64.urlsafe_b64encode(b"offset:-1").decode()):
        error = await error_of(api, ADMIN_USERS, {"first": 2, "after": after}, headers=ADMIN)
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "INVALID_INPUT",
            "after",
        )


async def test_an_absurd_cursor_is_not_an_internal_error(api: Api) -> None:
    after = base64.urlsafe_b64encode(b"offset:99999999999999999999").decode()
    result = await api.gql(ADMIN_USERS, {"first": 2, "after": after}, headers=ADMIN)
    if result.get("errors"):
        assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT", result
    else:
        assert result["data"]["adminUsers"]["edges"] == []


async def test_admin_users_filters(api: Api) -> None:
    for email in ("ann@corp.example.org", "ben@corp.example.org", "cat@home.example.net"):
        await register(api, email)
    everyone = await data_of(api, ADMIN_USERS, {"first": 10}, headers=ADMIN)
    cat_id = next(
        e["node"]["id"]
        for e in everyone["adminUsers"]["edges"]
        if e["node"]["email"].startswith("cat")
    )
    await data_of(api, ADMIN_UPDATE, {"i": {"userId": cat_id, "status": "DISABLED",
                                            "role": "ADMIN"}}, headers=ADMIN)  # fmt: skip

    async def emails(flt: dict[str, Any]) -> tuple[int, set[str]]:
        data = await data_of(api, ADMIN_USERS, {"first": 10, "filter": flt}, headers=ADMIN)
        page = data["adminUsers"]
        return page["totalCount"], {e["node"]["email"] for e in page["edges"]}

    assert await emails({"email": "CORP.Example"}) == (
        2,
        {"ann@corp.example.org", "ben@corp.example.org"},
    )
    assert await emails({"role": "ADMIN"}) == (1, {"cat@home.example.net"})
    assert await emails({"status": "DISABLED"}) == (1, {"cat@home.example.net"})
    assert await emails({"status": "ACTIVE", "role": "USER"}) == (
        2,
        {"ann@corp.example.org", "ben@corp.example.org"},
    )
    assert await emails({"email": "nobody"}) == (0, set())


async def test_admin_queries_need_an_admin(api: Api) -> None:
    user, _, user_id = await signed_in(api, "alice@example.com")
    anonymous = api.fresh()

    async def code_of(browser: Api, query: str, variables: dict[str, Any]) -> str:
        return (await error_of(browser, query, variables))["extensions"]["code"]  # type: ignore[no-any-return]

    assert await code_of(anonymous, ADMIN_USERS, {"first": 2}) == "UNAUTHENTICATED"
    assert await code_of(user, ADMIN_USERS, {"first": 2}) == "INSUFFICIENT_ROLE"
    query = "query($id: ID!) { adminUser(id: $id) { email } }"
    assert await code_of(user, query, {"id": user_id}) == "INSUFFICIENT_ROLE"
    assert await code_of(anonymous, query, {"id": user_id}) == "UNAUTHENTICATED"
    update = await data_of(user, ADMIN_UPDATE, {"i": {"userId": user_id, "role": "SUPERADMIN"}})
    assert update["adminUserUpdate"]["user"] is None
    assert update["adminUserUpdate"]["errors"][0]["code"] == "INSUFFICIENT_ROLE"
    assert (await data_of(user, VIEWER))["viewer"]["role"] == "USER"


async def test_a_bad_admin_key_is_refused(api: Api) -> None:
    response = await api.post(
        "/graphql", json={"query": "{ adminUsers { totalCount } }"},
        headers={"X-Admin-Key": "not-the-token"},
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_admin_operations_with_the_admin_key(api: Api) -> None:
    browser, _, user_id = await signed_in(api, "alice@example.com")
    query = f"query($id: ID!) {{ adminUser(id: $id) {{ {USER_FIELDS} }} }}"
    fetched = (await data_of(api, query, {"id": user_id}, headers=ADMIN))["adminUser"]
    assert fetched == (await data_of(browser, VIEWER))["viewer"]
    _, raw = decode_id(user_id)
    by_raw = (await data_of(api, query, {"id": raw}, headers=ADMIN))["adminUser"]
    assert by_raw["id"] == user_id
    missing = await error_of(api, query, {"id": "0" * 32}, headers=ADMIN)
    assert missing["extensions"]["code"] == "USER_NOT_FOUND"

    # promote: takes effect on the existing session at once
    promoted = await data_of(api, ADMIN_UPDATE, {"i": {"userId": user_id, "role": "ADMIN"}},
                             headers=ADMIN)  # fmt: skip
    assert promoted["adminUserUpdate"]["user"]["role"] == "ADMIN"
    listed = await data_of(browser, ADMIN_USERS, {"first": 5})
    assert listed["adminUsers"]["totalCount"] == 1

    # lock: the session ends and sign-in is refused
    locked = await data_of(api, ADMIN_UPDATE, {"i": {"userId": user_id, "status": "LOCKED"}},
                           headers=ADMIN)  # fmt: skip
    assert locked["adminUserUpdate"] == {
        "user": {"id": user_id, "email": "alice@example.com", "role": "ADMIN", "status": "LOCKED"},
        "errors": [],
    }
    assert await viewer_email(browser) is None
    assert (await login(api.fresh(), "alice@example.com"))["errors"][0]["code"] == (
        "ACCOUNT_LOCKED"
    )
    await data_of(api, ADMIN_UPDATE, {"i": {"userId": user_id, "status": "ACTIVE"}},
                  headers=ADMIN)  # fmt: skip

    # set the password: every session ends, the new password works
    browser, _, _ = await signed_in(api, "alice@example.com")
    weak = await data_of(api, ADMIN_PASSWORD, {"i": {"userId": user_id, "newPassword": "abc"}},
                         headers=ADMIN)  # fmt: skip
    assert weak["adminUserPasswordSet"]["ok"] is False
    assert [(e["code"], e["field"]) for e in weak["adminUserPasswordSet"]["errors"]] == [
        ("WEAK_PASSWORD", "newPassword")
    ]
    assert await viewer_email(browser) == "alice@example.com"
    done = await data_of(
        api, ADMIN_PASSWORD, {"i": {"userId": user_id, "newPassword": OTHER_STRONG_PASSWORD}},
        headers=ADMIN,
    )  # fmt: skip
    assert done["adminUserPasswordSet"] == {"ok": True, "errors": []}
    assert await viewer_email(browser) is None
    assert (await login(api.fresh(), "alice@example.com", OTHER_STRONG_PASSWORD))["errors"] == []


async def test_admin_mutations_report_unknown_and_malformed_ids(api: Api) -> None:
    for user_id, code in (("0" * 32, "USER_NOT_FOUND"), ("nope", "INVALID_INPUT")):
        update = await data_of(api, ADMIN_UPDATE, {"i": {"userId": user_id, "status": "LOCKED"}},
                               headers=ADMIN)  # fmt: skip
        assert update["adminUserUpdate"]["errors"][0]["code"] == code
        password = await data_of(
            api, ADMIN_PASSWORD, {"i": {"userId": user_id, "newPassword": OTHER_STRONG_PASSWORD}},
            headers=ADMIN,
        )  # fmt: skip
        assert password["adminUserPasswordSet"]["errors"][0]["code"] == code
    malformed = await data_of(api, ADMIN_UPDATE, {"i": {"userId": "nope", "status": "LOCKED"}},
                              headers=ADMIN)  # fmt: skip
    assert malformed["adminUserUpdate"]["errors"][0]["field"] == "userId"


async def test_the_admin_key_cannot_demote_the_last_superadmin(api: Api) -> None:
    _, _, root_id = await signed_in(api, "root@example.com")
    await data_of(api, ADMIN_UPDATE, {"i": {"userId": root_id, "role": "SUPERADMIN"}},
                  headers=ADMIN)  # fmt: skip
    for change in ({"role": "ADMIN"}, {"status": "LOCKED"}):
        data = await data_of(api, ADMIN_UPDATE, {"i": {"userId": root_id, **change}},
                             headers=ADMIN)  # fmt: skip
        assert data["adminUserUpdate"]["user"] is None
        assert data["adminUserUpdate"]["errors"][0]["code"] == "LAST_SUPERADMIN"
