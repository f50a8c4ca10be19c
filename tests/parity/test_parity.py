"""Every /v1 route gives the same result as its GraphQL twin, for success and failure.

``SCENARIOS`` must name every route of the table: adding a route without a parity
scenario fails ``test_every_route_has_a_parity_scenario``."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from rest.errors import ERROR_TABLE
from rest.routes import ROUTES
from tests.api.harness import ADMIN_TOKEN, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, Api

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
USER_FIELDS = "id email status role totpEnabled createdAt lastLoginAt planId"


def raw_id(global_id: str) -> str:
    padded = global_id + "=" * (-len(global_id) % 4)
    return base64.urlsafe_b64decode(padded).decode().split(":", 1)[1]


def instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def same_user(rest: dict[str, Any], gql: dict[str, Any]) -> None:
    assert rest["id"] == raw_id(gql["id"])
    assert rest["email"] == gql["email"]
    assert rest["status"] == gql["status"].lower()
    assert rest["role"] == gql["role"].lower()
    assert rest["totpEnabled"] == gql["totpEnabled"]
    assert instant(rest["createdAt"]) == instant(gql["createdAt"])
    if "lastLoginAt" in rest:
        assert instant(rest["lastLoginAt"]) == instant(gql["lastLoginAt"])


def same_error(rest: httpx.Response, gql_errors: list[dict[str, Any]]) -> None:
    assert len(gql_errors) == 1, gql_errors
    code = gql_errors[0].get("code") or gql_errors[0]["extensions"]["code"]
    assert rest.status_code == ERROR_TABLE[code].status, (code, rest.text)
    assert rest.json()["message"] == gql_errors[0]["message"]


async def signed_in(api: Api, email: str) -> tuple[Api, str]:
    """A fresh browser with a registered, signed-in user; returns it and the session token."""
    browser = api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    response = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return browser, response.json()["sid"]


async def gql_data(api: Api, query: str, variables: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    result = await api.gql(query, variables, headers)
    assert "errors" not in result, result
    return result["data"]  # type: ignore[no-any-return]


# -- scenarios -------------------------------------------------------------------------


async def register(api: Api) -> None:
    rest = await api.post(
        "/v1/auth/register", {"email": "r@example.com", "password": STRONG_PASSWORD}
    )
    data = await gql_data(api, """mutation($i: AccountRegisterInput!) { accountRegister(input: $i) {
        result { user { email status } emailVerificationRequired activationEmailSent }
        errors { code message field } } }""",
        {"i": {"email": "g@example.com", "password": STRONG_PASSWORD}})  # fmt: skip
    result = data["accountRegister"]["result"]
    assert rest.json()["emailVerificationRequired"] == result["emailVerificationRequired"]
    assert rest.json()["activationEmailSent"] == result["activationEmailSent"]
    for email, password in [("r@example.com", STRONG_PASSWORD), ("x@example.com", "weak")]:
        rest = await api.post("/v1/auth/register", {"email": email, "password": password})
        data = await gql_data(api, """mutation($i: AccountRegisterInput!) {
            accountRegister(input: $i) { errors { code message field } } }""",
            {"i": {"email": email.replace("r@", "g@"), "password": password}})  # fmt: skip
        same_error(rest, data["accountRegister"]["errors"])


async def login(api: Api) -> None:
    await signed_in(api, "l@example.com")
    rest = await api.post("/v1/auth/login", {"email": "l@example.com", "password": STRONG_PASSWORD})
    data = await gql_data(api, """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
        result { sid expiresAt totpRequired user { email } } errors { code message } } }""",
        {"i": {"email": "l@example.com", "password": STRONG_PASSWORD}})  # fmt: skip
    result = data["accountLogin"]["result"]
    assert result["totpRequired"] is False and result["user"]["email"] == "l@example.com"
    delta = instant(result["expiresAt"]) - instant(rest.json()["expiresAt"])  # type: ignore[operator]
    assert abs(delta.total_seconds()) < 60
    for token in (rest.json()["sid"], result["sid"]):
        me = await api.fresh().get("/v1/auth/me", headers={"X-Session-Id": token})
        assert me.json()["email"] == "l@example.com"
    bad = {"email": "l@example.com", "password": "Wrong-Password-1"}
    rest = await api.post("/v1/auth/login", bad)
    data = await gql_data(api, """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
        errors { code message } } }""", {"i": bad})  # fmt: skip
    same_error(rest, data["accountLogin"]["errors"])


async def logout(api: Api) -> None:
    browser, sid = await signed_in(api, "o@example.com")
    rest = await browser.post("/v1/auth/logout", {})
    assert rest.status_code == 200
    _, other_sid = await signed_in(api, "o2@example.com")
    data = await gql_data(api, "mutation { accountLogout { ok errors { code message } } }",
                          headers={"X-Session-Id": other_sid})  # fmt: skip
    assert data["accountLogout"] == {"ok": True, "errors": []}
    for token in (sid, other_sid):
        assert (
            await api.fresh().get("/v1/auth/me", headers={"X-Session-Id": token})
        ).status_code == 401
    rest = await api.fresh().post("/v1/auth/logout", {})
    data = await gql_data(api.fresh(), "mutation { accountLogout { errors { code message } } }")
    same_error(rest, data["accountLogout"]["errors"])


async def me(api: Api) -> None:
    browser, _ = await signed_in(api, "m@example.com")
    rest = (await browser.get("/v1/auth/me")).json()
    data = await gql_data(browser, f"{{ viewer {{ {USER_FIELDS} }} }}")
    same_user(rest, data["viewer"])
    anonymous = await api.fresh().get("/v1/auth/me")
    result = await api.fresh().gql("{ viewer { id } }")
    same_error(anonymous, result["errors"])


async def password_change(api: Api) -> None:
    for email in ("pc@example.com", "pcg@example.com"):
        await signed_in(api, email)
    rest_browser, _ = await signed_in(api, "pc@example.com")
    gql_browser, _ = await signed_in(api, "pcg@example.com")
    body = {"oldPassword": STRONG_PASSWORD, "newPassword": OTHER_STRONG_PASSWORD}
    rest = await rest_browser.post("/v1/auth/password/change", body)
    assert rest.status_code == 200 and rest.json() == {}
    data = await gql_data(
        gql_browser,
        """mutation($i: AccountPasswordChangeInput!) {
        accountPasswordChange(input: $i) { revokedSessions errors { code } } }""",
        {"i": body},
    )
    assert data["accountPasswordChange"] == {"revokedSessions": 1, "errors": []}
    rest = await rest_browser.post("/v1/auth/password/change", body)  # old one is wrong now
    data = await gql_data(
        gql_browser,
        """mutation($i: AccountPasswordChangeInput!) {
        accountPasswordChange(input: $i) { errors { code message } } }""",
        {"i": body},
    )
    same_error(rest, data["accountPasswordChange"]["errors"])


async def sessions(api: Api) -> None:
    browser, _ = await signed_in(api, "s@example.com")
    await signed_in(api, "s@example.com")
    rest = (await browser.get("/v1/auth/sessions")).json()["data"]["items"]
    gql = (await gql_data(browser, "{ sessions { id current ip userAgent expiresAt } }"))[
        "sessions"
    ]
    assert [s["id"] for s in rest] == [raw_id(s["id"]) for s in gql]
    assert [s["current"] for s in rest] == [s["current"] for s in gql]
    assert [instant(s["expiresAt"]) for s in rest] == [instant(s["expiresAt"]) for s in gql]
    same_error(await api.fresh().get("/v1/auth/sessions"),
               (await api.fresh().gql("{ sessions { id } }"))["errors"])  # fmt: skip


async def session_revoke(api: Api) -> None:
    browser, _ = await signed_in(api, "sr@example.com")
    for _ in range(2):
        await signed_in(api, "sr@example.com")
    items = (await gql_data(browser, "{ sessions { id current } }"))["sessions"]
    others = [s["id"] for s in items if not s["current"]]
    rest = await browser.delete(f"/v1/auth/sessions/{raw_id(others[0])}")
    assert rest.status_code == 200
    data = await gql_data(browser, """mutation($i: SessionRevokeInput!) { sessionRevoke(input: $i)
        { ok errors { code } } }""", {"i": {"sessionId": others[1]}})  # fmt: skip
    assert data["sessionRevoke"] == {"ok": True, "errors": []}
    assert len((await gql_data(browser, "{ sessions { id } }"))["sessions"]) == 1
    rest = await browser.delete(f"/v1/auth/sessions/{raw_id(others[0])}")
    data = await gql_data(browser, """mutation($i: SessionRevokeInput!) { sessionRevoke(input: $i)
        { errors { code message } } }""", {"i": {"sessionId": others[0]}})  # fmt: skip
    same_error(rest, data["sessionRevoke"]["errors"])


async def session_revoke_others(api: Api) -> None:
    browser, _ = await signed_in(api, "so@example.com")
    await signed_in(api, "so@example.com")
    rest = await browser.post("/v1/auth/sessions/revoke-others", {})
    assert rest.json()["data"] == {"revoked": 1}
    await signed_in(api, "so@example.com")
    await signed_in(api, "so@example.com")
    data = await gql_data(
        browser, "mutation { sessionRevokeOthers { revokedCount errors { code } } }"
    )
    assert data["sessionRevokeOthers"] == {"revokedCount": 2, "errors": []}


async def admin_users(api: Api) -> None:
    for i in range(3):
        await signed_in(api, f"user{i}@example.com")
    rest = (await api.get("/v1/admin/users?limit=2&offset=0&email=user", headers=ADMIN)).json()
    data = await gql_data(
        api,
        """{ adminUsers(first: 2, filter: {email: "user"}) {
        totalCount nodes { id email } pageInfo { hasNextPage } } }""",
        headers=ADMIN,
    )
    assert rest["data"]["total"] == data["adminUsers"]["totalCount"] == 3
    assert [u["id"] for u in rest["data"]["items"]] == [
        raw_id(u["id"]) for u in data["adminUsers"]["nodes"]
    ]
    assert data["adminUsers"]["pageInfo"]["hasNextPage"] is True
    user, _ = await signed_in(api, "plain@example.com")
    same_error(
        await user.get("/v1/admin/users"),
        (await user.gql("{ adminUsers { totalCount } }"))["errors"],
    )


async def admin_user(api: Api) -> None:
    browser, _ = await signed_in(api, "au@example.com")
    me = (await browser.get("/v1/auth/me")).json()
    rest = (await api.get(f"/v1/admin/users/{me['id']}", headers=ADMIN)).json()["data"]["user"]
    data = await gql_data(
        api, f'{{ adminUser(id: "{me["id"]}") {{ {USER_FIELDS} }} }}', headers=ADMIN
    )
    same_user(rest, data["adminUser"])
    missing = "0" * 32
    same_error(
        await api.get(f"/v1/admin/users/{missing}", headers=ADMIN),
        (await api.gql(f'{{ adminUser(id: "{missing}") {{ id }} }}', headers=ADMIN))["errors"],
    )


async def admin_user_update(api: Api) -> None:
    ids = []
    for email in ("up1@example.com", "up2@example.com"):
        browser, _ = await signed_in(api, email)
        ids.append((await browser.get("/v1/auth/me")).json()["id"])
    rest = await api.patch(
        f"/v1/admin/users/{ids[0]}", {"status": "disabled", "role": "admin"}, headers=ADMIN
    )
    data = await gql_data(api, """mutation($i: AdminUserUpdateInput!) { adminUserUpdate(input: $i) {
        user { id status role } errors { code } } }""",
        {"i": {"userId": ids[1], "status": "DISABLED", "role": "ADMIN"}},
        headers=ADMIN)  # fmt: skip
    user = data["adminUserUpdate"]["user"]
    assert (rest.json()["data"]["status"], rest.json()["data"]["role"]) == (
        user["status"].lower(),
        user["role"].lower(),
    )
    rest = await api.patch(f"/v1/admin/users/{'0' * 32}", {"status": "locked"}, headers=ADMIN)
    data = await gql_data(
        api,
        """mutation($i: AdminUserUpdateInput!) { adminUserUpdate(input: $i) {
        errors { code message } } }""",
        {"i": {"userId": "0" * 32, "status": "LOCKED"}},
        headers=ADMIN,
    )
    same_error(rest, data["adminUserUpdate"]["errors"])


async def admin_user_password_set(api: Api) -> None:
    browser, _ = await signed_in(api, "ps@example.com")
    uid = (await browser.get("/v1/auth/me")).json()["id"]
    rest = await api.post(
        f"/v1/admin/users/{uid}/password", {"newPassword": OTHER_STRONG_PASSWORD}, headers=ADMIN
    )
    assert rest.json()["data"] == {"ok": True}
    data = await gql_data(api, """mutation($i: AdminUserPasswordSetInput!) { adminUserPasswordSet(
        input: $i) { ok errors { code } } }""",
        {"i": {"userId": uid, "newPassword": STRONG_PASSWORD}}, headers=ADMIN)  # fmt: skip
    assert data["adminUserPasswordSet"] == {"ok": True, "errors": []}
    assert (await browser.get("/v1/auth/me")).status_code == 401  # its sessions ended
    rest = await api.post(f"/v1/admin/users/{uid}/password", {"newPassword": "weak"}, headers=ADMIN)
    data = await gql_data(api, """mutation($i: AdminUserPasswordSetInput!) { adminUserPasswordSet(
        input: $i) { errors { code message } } }""", {"i": {"userId": uid, "newPassword": "weak"}},
        headers=ADMIN)  # fmt: skip
    same_error(rest, data["adminUserPasswordSet"]["errors"])


async def runtime_config(api: Api) -> None:
    rest = (await api.get("/v1/config/runtime")).json()["data"]
    data = await gql_data(api, """{ runtimeConfig { timezone emailVerification { enabled required
        cooldownSeconds codeTtlSeconds hourlyLimitPerEmail allowedDomains blockedDomains appName }
        accountActivation { enabled required ttlSeconds } } }""")  # fmt: skip
    gql = data["runtimeConfig"]
    assert rest["timezone"] == gql["timezone"]
    ev = gql["emailVerification"]
    assert rest["email_verification"] == {
        "enabled": ev["enabled"], "required": ev["required"],
        "cooldown_seconds": ev["cooldownSeconds"], "code_ttl_seconds": ev["codeTtlSeconds"],
        "hourly_limit_per_email": ev["hourlyLimitPerEmail"],
        "allowed_domains": ev["allowedDomains"], "blocked_domains": ev["blockedDomains"],
        "app_name": ev["appName"],
    }  # fmt: skip
    aa = gql["accountActivation"]
    assert rest["account_activation"] == {
        "enabled": aa["enabled"],
        "required": aa["required"],
        "ttl_seconds": aa["ttlSeconds"],
    }


Scenario = Callable[[Api], Awaitable[None]]
SCENARIOS: dict[tuple[str, str], Scenario] = {
    ("POST", "/v1/auth/register"): register,
    ("POST", "/v1/auth/login"): login,
    ("POST", "/v1/auth/logout"): logout,
    ("GET", "/v1/auth/me"): me,
    ("POST", "/v1/auth/password/change"): password_change,
    ("GET", "/v1/auth/sessions"): sessions,
    ("DELETE", "/v1/auth/sessions/{id}"): session_revoke,
    ("POST", "/v1/auth/sessions/revoke-others"): session_revoke_others,
    ("GET", "/v1/admin/users"): admin_users,
    ("GET", "/v1/admin/users/{id}"): admin_user,
    ("PATCH", "/v1/admin/users/{id}"): admin_user_update,
    ("POST", "/v1/admin/users/{id}/password"): admin_user_password_set,
    ("GET", "/v1/config/runtime"): runtime_config,
}


def test_every_route_has_a_parity_scenario() -> None:
    assert set(SCENARIOS) == {(r.method, r.path) for r in ROUTES}


@pytest.mark.parametrize("route", list(SCENARIOS), ids=lambda r: f"{r[0]} {r[1]}")
async def test_route_matches_its_graphql_twin(api: Api, route: tuple[str, str]) -> None:
    await SCENARIOS[route](api)
