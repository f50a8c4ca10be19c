"""Accounts over /v1, with the original's paths, shapes and statuses."""

from __future__ import annotations

from datetime import datetime

import httpx

from tests.api.conftest import BREACHED_PASSWORD
from tests.api.harness import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, Api


async def register(
    api: Api, email: str = "alice@example.com", password: str = STRONG_PASSWORD
) -> httpx.Response:
    return await api.post("/v1/auth/register", {"email": email, "password": password})


async def login(
    api: Api, email: str = "alice@example.com", password: str = STRONG_PASSWORD
) -> httpx.Response:
    return await api.post("/v1/auth/login", {"email": email, "password": password})


async def test_register_answers_the_original_shape(api: Api) -> None:
    response = await register(api, email="  Alice@Example.COM ")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"userId", "email", "emailVerificationRequired", "activationEmailSent"}
    assert body["email"] == "alice@example.com"
    assert len(body["userId"]) == 32
    assert body["emailVerificationRequired"] is False


async def test_duplicate_email_is_409_in_grpc_gateway_shape(api: Api) -> None:
    assert (await register(api)).status_code == 200
    again = await register(api, email="ALICE@example.com")
    assert again.status_code == 409
    assert again.json() == {
        "code": 6,
        "message": "an account with this email already exists",
        "details": [],
    }


async def test_register_rejects_bad_input(api: Api) -> None:
    cases = [
        ({"email": "not-an-email", "password": STRONG_PASSWORD}, 400),
        ({"email": "bob@example.com", "password": ""}, 400),
        ({"email": "bob@example.com", "password": "abcdefgh"}, 400),  # weak
        ({"email": "bob@example.com", "password": "Aa1!" * 40}, 400),  # too long
        ({"email": "bob@example.com", "password": BREACHED_PASSWORD}, 400),  # pwned
        ({"email": 5, "password": STRONG_PASSWORD}, 400),
    ]
    for body, status in cases:
        response = await api.post("/v1/auth/register", body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == 3


async def test_login_sets_a_hardened_cookie_and_me_works_three_ways(api: Api) -> None:
    await register(api)
    response = await login(api)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"sid", "expiresAt"}
    assert body["expiresAt"].endswith("Z")
    datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    cookie = response.headers["set-cookie"]
    assert f"sid={body['sid']}" in cookie
    for attribute in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=604800"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # the public base URL is http here

    me = await api.get("/v1/auth/me")  # cookie
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"
    assert set(me.json()) == {
        "id",
        "email",
        "status",
        "role",
        "totpEnabled",
        "createdAt",
        "lastLoginAt",
    }
    bare = api.fresh()
    by_header = await bare.get("/v1/auth/me", headers={"X-Session-Id": body["sid"]})
    by_bearer = await bare.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['sid']}"})
    assert by_header.json() == by_bearer.json() == me.json()


async def test_me_without_a_session_is_401(api: Api) -> None:
    response = await api.get("/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == 16
    bogus = await api.get("/v1/auth/me", headers={"X-Session-Id": "x" * 43})
    assert bogus.status_code == 401


async def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    await register(api)
    wrong = await login(api, password="Wrong-Password-123")
    unknown = await login(api, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_account_status_is_checked_after_the_password(api: Api) -> None:
    user_id = (await register(api)).json()["userId"]
    locked = await api.patch(
        f"/v1/admin/users/{user_id}",
        {"status": "locked"},
        headers={"X-Admin-Key": "test-admin-token-0123456789"},
    )
    assert locked.status_code == 200, locked.text
    assert (await login(api, password="Wrong-Password-123")).status_code == 401
    right = await login(api)
    assert right.status_code == 403
    assert right.json()["code"] == 7


async def test_password_change_revokes_other_sessions_only(api: Api) -> None:
    await register(api)
    other = api.fresh()
    other_sid = (await login(other)).json()["sid"]
    await login(api)
    wrong = await api.post(
        "/v1/auth/password/change",
        {"oldPassword": "nope-nope-nope", "newPassword": OTHER_STRONG_PASSWORD},
    )
    assert wrong.status_code == 401
    weak = await api.post(
        "/v1/auth/password/change", {"oldPassword": STRONG_PASSWORD, "newPassword": "abc"}
    )
    assert weak.status_code == 400
    changed = await api.post(
        "/v1/auth/password/change",
        {"oldPassword": STRONG_PASSWORD, "newPassword": OTHER_STRONG_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {}
    assert (await api.get("/v1/auth/me")).status_code == 200
    gone = await other.get("/v1/auth/me", headers={"X-Session-Id": other_sid})
    assert gone.status_code == 401
    assert (await login(api.fresh())).status_code == 401
    assert (await login(api.fresh(), password=OTHER_STRONG_PASSWORD)).status_code == 200


async def test_logout_clears_the_cookie_and_ends_the_session(api: Api) -> None:
    await register(api)
    sid = (await login(api)).json()["sid"]
    response = await api.post("/v1/auth/logout", {})
    assert response.status_code == 200
    assert response.json() == {}
    assert 'sid=""' in response.headers["set-cookie"] or "sid=;" in response.headers["set-cookie"]
    assert (await api.fresh().get("/v1/auth/me", headers={"X-Session-Id": sid})).status_code == 401
    assert (await api.post("/v1/auth/logout", {})).status_code == 401


async def test_sessions_can_be_listed_and_revoked(api: Api) -> None:
    await register(api)
    await login(api)
    phone = api.fresh()
    phone_sid = (await login(phone)).json()["sid"]
    listed = await api.get("/v1/auth/sessions")
    assert listed.status_code == 200
    items = listed.json()["data"]["items"]
    assert len(items) == 2
    assert sum(1 for s in items if s["current"]) == 1
    assert {s["ip"] for s in items} == {"203.0.113.7"}
    other = next(s for s in items if not s["current"])
    assert (await api.delete(f"/v1/auth/sessions/{other['id']}")).status_code == 200
    assert (await phone.get("/v1/auth/me")).status_code == 401
    missing = await api.delete(f"/v1/auth/sessions/{other['id']}")
    assert missing.status_code == 404
    assert missing.json()["code"] == 40400
    await login(phone)
    revoked = await api.post("/v1/auth/sessions/revoke-others", {})
    assert revoked.json()["data"] == {"revoked": 1}
    assert (await phone.get("/v1/auth/me")).status_code == 401
    assert phone_sid
