"""The administration hierarchy over /v1: the original's admin routes plus the rules it
lacked (reference §6 item 11): an admin cannot change a superadmin, role changes and
password resets are superadmin-only, and the last active superadmin can be neither demoted
nor locked. Real sessions throughout: a superadmin made by ``bootstrap_superadmin`` and an
admin promoted with the admin token. Runs on SQLite and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.api.harness import (
    ADMIN_TOKEN,
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    Api,
    running_app,
)
from tests.fakes.hibp_server import FakeHibpServer

ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
ROOT_EMAIL = "root@example.com"


@dataclass
class Browser:
    api: Api
    user_id: str
    email: str

    async def me(self) -> httpx.Response:
        return await self.api.get("/v1/auth/me")

    async def patch_user(self, user_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.patch(f"/v1/admin/users/{user_id}", body)

    async def set_password(self, user_id: str, password: str) -> httpx.Response:
        return await self.api.post(f"/v1/admin/users/{user_id}/password", {"newPassword": password})


async def sign_in(api: Api, email: str, password: str = STRONG_PASSWORD) -> Browser:
    """A fresh browser signed in with a session cookie."""
    browser = api.fresh()
    response = await browser.post("/v1/auth/login", {"email": email, "password": password})
    assert response.status_code == 200, response.text
    me = (await browser.get("/v1/auth/me")).json()
    return Browser(browser, me["id"], email)


async def new_user(api: Api, email: str) -> Browser:
    response = await api.fresh().post(
        "/v1/auth/register", {"email": email, "password": STRONG_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return await sign_in(api, email)


@dataclass
class Cast:
    api: Api
    """A browser with no session: use it with the ``X-Admin-Key`` header."""
    app: Any
    root: Browser
    root_password: str
    """The password ``bootstrap_superadmin`` generated (printed once)."""
    admin: Browser
    user: Browser

    async def sign_in(self, email: str, password: str = STRONG_PASSWORD) -> Browser:
        return await sign_in(self.api, email, password)

    async def new_user(self, email: str) -> Browser:
        return await new_user(self.api, email)

    async def get_user(self, user_id: str) -> dict[str, Any]:
        response = await self.api.get(f"/v1/admin/users/{user_id}", headers=ADMIN)
        assert response.status_code == 200, response.text
        return response.json()["data"]["user"]  # type: ignore[no-any-return]

    async def patch_with_token(self, user_id: str, body: dict[str, Any]) -> httpx.Response:
        return await self.api.patch(f"/v1/admin/users/{user_id}", body, headers=ADMIN)


@pytest_asyncio.fixture(loop_scope="session")
async def cast(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Cast]:
    """A bootstrapped superadmin, an admin promoted with the admin token, and a user; each
    signed in with a session cookie."""
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp) as (api, app):
        boot = await app.state.container.services.admin_users.bootstrap_superadmin(ROOT_EMAIL)
        assert boot.created and boot.password
        root = await sign_in(api, ROOT_EMAIL, boot.password)
        admin = await new_user(api, "admin@example.com")
        promoted = await api.patch(
            f"/v1/admin/users/{admin.user_id}", {"role": "admin"}, headers=ADMIN
        )
        assert promoted.status_code == 200, promoted.text
        user = await new_user(api, "user@example.com")
        yield Cast(api, app, root, boot.password, admin, user)


def assert_envelope_error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert "data" not in body


async def test_the_cast_is_what_it_claims(cast: Cast) -> None:
    assert (await cast.root.me()).json()["role"] == "superadmin"
    assert (await cast.admin.me()).json()["role"] == "admin"
    assert (await cast.user.me()).json()["role"] == "user"
    again = await cast.app.state.container.services.admin_users.bootstrap_superadmin(ROOT_EMAIL)
    assert (again.created, again.password, again.user.id) == (False, None, cast.root.user_id)


async def test_an_admin_can_lock_a_user_and_the_users_sessions_stop_working(cast: Cast) -> None:
    phone = await cast.sign_in(cast.user.email)
    response = await cast.admin.patch_user(cast.user.user_id, {"status": "locked"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (200, "success")
    assert body["data"]["id"] == cast.user.user_id
    assert (body["data"]["status"], body["data"]["role"]) == ("locked", "user")
    assert set(body["data"]) == {
        "id", "email", "status", "role", "planId", "totpEnabled", "createdAt",
    }  # fmt: skip
    for browser in (cast.user, phone):
        assert (await browser.me()).status_code == 401
    refused = await cast.api.fresh().post(
        "/v1/auth/login", {"email": cast.user.email, "password": STRONG_PASSWORD}
    )
    assert refused.status_code == 403
    unlocked = await cast.admin.patch_user(cast.user.user_id, {"status": "active"})
    assert unlocked.status_code == 200
    assert (await (await cast.sign_in(cast.user.email)).me()).status_code == 200


async def test_an_admin_can_lock_another_admin(cast: Cast) -> None:
    other = await cast.new_user("admin2@example.com")
    assert (await cast.patch_with_token(other.user_id, {"role": "admin"})).status_code == 200
    response = await cast.admin.patch_user(other.user_id, {"status": "disabled"})
    assert response.status_code == 200, response.text
    assert (await other.me()).status_code == 401


async def test_an_admin_cannot_change_a_superadmin(cast: Cast) -> None:
    for body in ({"status": "locked"}, {"status": "disabled"}, {"status": "active"}):
        response = await cast.admin.patch_user(cast.root.user_id, body)
        assert_envelope_error(response, 403, 40300)
    root = await cast.get_user(cast.root.user_id)
    assert (root["status"], root["role"]) == ("active", "superadmin")
    assert (await cast.root.me()).status_code == 200


async def test_an_admin_cannot_change_roles(cast: Cast) -> None:
    for target, role in [
        (cast.user, "admin"),
        (cast.user, "superadmin"),
        (cast.user, "user"),
        (cast.admin, "superadmin"),
        (cast.admin, "user"),
        (cast.root, "user"),
    ]:
        response = await cast.admin.patch_user(target.user_id, {"role": role})
        assert_envelope_error(response, 403, 40300)
    # a status change bundled with a role change is refused as a whole
    both = await cast.admin.patch_user(cast.user.user_id, {"status": "locked", "role": "user"})
    assert_envelope_error(both, 403, 40300)
    assert (await cast.get_user(cast.user.user_id))["status"] == "active"
    assert [(await b.me()).json()["role"] for b in (cast.user, cast.admin, cast.root)] == [
        "user",
        "admin",
        "superadmin",
    ]


async def test_only_a_superadmin_sets_passwords(cast: Cast) -> None:
    for target in (cast.user, cast.root):
        response = await cast.admin.set_password(target.user_id, OTHER_STRONG_PASSWORD)
        assert_envelope_error(response, 403, 40300)
    assert (await cast.user.me()).status_code == 200

    response = await cast.root.set_password(cast.user.user_id, OTHER_STRONG_PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json() == {"code": 200, "message": "success", "data": {"ok": True}}
    assert (await cast.user.me()).status_code == 401  # every session of the user ended
    old = await cast.api.fresh().post(
        "/v1/auth/login", {"email": cast.user.email, "password": STRONG_PASSWORD}
    )
    assert old.status_code == 401
    assert (await (await cast.sign_in(cast.user.email, OTHER_STRONG_PASSWORD)).me()).is_success

    weak = await cast.root.set_password(cast.user.user_id, "abcdefgh")
    assert_envelope_error(weak, 400, 40000)
    missing = await cast.root.api.post(f"/v1/admin/users/{cast.user.user_id}/password", {})
    assert_envelope_error(missing, 400, 40000)


async def test_a_normal_user_and_an_anonymous_caller_are_kept_out(cast: Cast) -> None:
    anonymous = cast.api.fresh()
    assert_envelope_error(await anonymous.get("/v1/admin/users"), 401, 40100)
    assert_envelope_error(await cast.user.api.get("/v1/admin/users"), 403, 40300)
    assert_envelope_error(
        await cast.user.api.get(f"/v1/admin/users/{cast.user.user_id}"), 403, 40300
    )
    assert_envelope_error(await cast.user.patch_user(cast.user.user_id, {"role": "admin"}), 403,
                          40300)  # fmt: skip
    assert_envelope_error(
        await anonymous.patch(f"/v1/admin/users/{cast.user.user_id}", {"status": "locked"}),
        401,
        40100,
    )


async def test_the_last_active_superadmin_can_be_neither_demoted_nor_locked(cast: Cast) -> None:
    changes = [
        {"role": "admin"},
        {"role": "user"},
        {"status": "locked"},
        {"status": "disabled"},
        {"status": "banned"},
        {"status": "pending_email"},
    ]
    for body in changes:
        assert_envelope_error(await cast.root.patch_user(cast.root.user_id, body), 409, 40900)
        assert_envelope_error(await cast.patch_with_token(cast.root.user_id, body), 409, 40900)
    root = await cast.get_user(cast.root.user_id)
    assert (root["status"], root["role"]) == ("active", "superadmin")
    assert (await cast.root.me()).status_code == 200
    # a no-op on the last superadmin is fine
    same = await cast.root.patch_user(cast.root.user_id, {"role": "superadmin", "status": "active"})
    assert same.status_code == 200, same.text


async def test_with_a_second_superadmin_one_can_be_demoted_or_locked(cast: Cast) -> None:
    promoted = await cast.root.patch_user(cast.admin.user_id, {"role": "superadmin"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["data"]["role"] == "superadmin"
    assert (await cast.admin.me()).json()["role"] == "superadmin"  # same session, new role

    # the new superadmin locks the first one; the first one's session ends
    locked = await cast.admin.patch_user(cast.root.user_id, {"status": "locked"})
    assert locked.status_code == 200, locked.text
    assert (await cast.root.me()).status_code == 401
    # the remaining one is now the last active superadmin
    for body in ({"role": "admin"}, {"status": "locked"}):
        assert_envelope_error(await cast.admin.patch_user(cast.admin.user_id, body), 409, 40900)
        assert_envelope_error(await cast.patch_with_token(cast.admin.user_id, body), 409, 40900)

    # reactivate the first; now the second may be demoted, which ends its sessions
    assert (await cast.admin.patch_user(cast.root.user_id, {"status": "active"})).is_success
    root = await cast.sign_in(ROOT_EMAIL, cast.root_password)
    demoted = await root.patch_user(cast.admin.user_id, {"role": "admin"})
    assert demoted.status_code == 200, demoted.text
    assert (await cast.admin.me()).status_code == 401


async def test_demoting_an_admin_ends_their_sessions(cast: Cast) -> None:
    response = await cast.root.patch_user(cast.admin.user_id, {"role": "user"})
    assert response.status_code == 200, response.text
    assert (await cast.admin.me()).status_code == 401
    again = await cast.sign_in(cast.admin.email)
    assert (await again.me()).json()["role"] == "user"
    assert_envelope_error(await again.api.get("/v1/admin/users"), 403, 40300)


@pytest.mark.parametrize(
    "body",
    [{"status": "frozen"}, {"role": "root"}, {"status": 5}, {"role": ["admin"]},
     {"status": "locked", "role": "emperor"}],
    ids=["status", "role", "status-type", "role-type", "one-of-two"],
)  # fmt: skip
async def test_invalid_status_or_role_values_are_400(cast: Cast, body: dict[str, Any]) -> None:
    for response in (
        await cast.root.patch_user(cast.user.user_id, body),
        await cast.admin.patch_user(cast.user.user_id, body),
        await cast.patch_with_token(cast.user.user_id, body),
    ):
        assert_envelope_error(response, 400, 40000)
    assert (await cast.get_user(cast.user.user_id))["status"] == "active"
    assert (await cast.user.me()).status_code == 200


async def test_invalid_list_filters_are_400(cast: Cast) -> None:
    for query in ("role=root", "status=frozen", "limit=ten", "offset=x"):
        response = await cast.admin.api.get(f"/v1/admin/users?{query}")
        assert_envelope_error(response, 400, 40000)


async def test_unknown_users_are_404(cast: Cast) -> None:
    missing = "0" * 32
    for response in (
        await cast.admin.api.get(f"/v1/admin/users/{missing}"),
        await cast.admin.patch_user(missing, {"status": "locked"}),
        await cast.root.patch_user(missing, {"role": "admin"}),
        await cast.root.set_password(missing, OTHER_STRONG_PASSWORD),
        await cast.api.get(f"/v1/admin/users/{missing}", headers=ADMIN),
    ):
        assert_envelope_error(response, 404, 40400)


async def test_get_user_answers_the_original_shape(cast: Cast) -> None:
    response = await cast.admin.api.get(f"/v1/admin/users/{cast.user.user_id}")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"user", "apiKeys", "planCounts"}
    assert data["user"]["email"] == cast.user.email
    assert (data["user"]["role"], data["user"]["status"]) == ("user", "active")


# -- listing ----------------------------------------------------------------------------


async def list_users(browser: Browser, query: str = "") -> dict[str, Any]:
    response = await browser.api.get(f"/v1/admin/users{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["message"]) == (200, "success")
    assert set(body["data"]) == {"items", "total", "limit", "offset"}
    return body["data"]  # type: ignore[no-any-return]


def emails(page: dict[str, Any]) -> list[str]:
    return [item["email"] for item in page["items"]]


async def test_list_filters_by_email_role_and_status(cast: Cast) -> None:
    for email in ("ann@Corp.Example.org", "ben@corp.example.org", "cat@home.example.net"):
        await cast.new_user(email)
    ann = (await list_users(cast.admin, "?email=ann@"))["items"][0]
    assert (await cast.admin.patch_user(ann["id"], {"status": "disabled"})).is_success

    corp = await list_users(cast.admin, "?email=CORP.EXAMPLE")
    assert corp["total"] == 2
    assert emails(corp) == ["ben@corp.example.org", "ann@corp.example.org"]  # newest first
    assert emails(await list_users(cast.admin, "?role=superadmin")) == [ROOT_EMAIL]
    assert emails(await list_users(cast.admin, "?role=ADMIN")) == ["admin@example.com"]
    disabled = await list_users(cast.admin, "?status=disabled")
    assert (disabled["total"], emails(disabled)) == (1, ["ann@corp.example.org"])
    active_users = await list_users(cast.admin, "?role=user&status=active")
    assert set(emails(active_users)) == {
        "user@example.com", "ben@corp.example.org", "cat@home.example.net",
    }  # fmt: skip
    both = await list_users(cast.admin, "?email=example.org&status=active")
    assert emails(both) == ["ben@corp.example.org"]
    nothing = await list_users(cast.admin, "?email=nobody")
    assert (nothing["total"], nothing["items"]) == (0, [])
    percent = await list_users(cast.admin, "?email=%25")  # a literal "%", not a wildcard
    assert percent["total"] == 0
    item = corp["items"][0]
    assert set(item) == {"id", "email", "status", "role", "planId", "totpEnabled", "createdAt"}
    assert item["planId"] == "free" and item["createdAt"].endswith("Z")


async def test_list_pages_with_limit_and_offset(cast: Cast) -> None:
    for i in range(4):
        await cast.new_user(f"page{i}@example.com")
    everyone = await list_users(cast.admin)
    assert everyone["total"] == 7
    assert (everyone["limit"], everyone["offset"]) == (50, 0)
    newest_first = emails(everyone)
    assert newest_first[:4] == [f"page{i}@example.com" for i in (3, 2, 1, 0)]
    assert newest_first[-1] == ROOT_EMAIL

    seen: list[str] = []
    for offset in (0, 3, 6):
        page = await list_users(cast.admin, f"?limit=3&offset={offset}")
        assert (page["total"], page["limit"], page["offset"]) == (7, 3, offset)
        seen += emails(page)
    assert seen == newest_first
    beyond = await list_users(cast.admin, "?limit=3&offset=30")
    assert (beyond["total"], beyond["items"]) == (7, [])
    filtered = await list_users(cast.admin, "?email=page&limit=2&offset=1")
    assert (filtered["total"], emails(filtered)) == (4, ["page2@example.com", "page1@example.com"])


@pytest.mark.parametrize(
    ("query", "limit", "offset"),
    [("?limit=0", 50, 0), ("?limit=201", 50, 0), ("?limit=-3", 50, 0), ("?limit=200", 200, 0),
     ("?offset=-5", 50, 0)],
)  # fmt: skip
async def test_list_normalises_limit_and_offset(
    cast: Cast, query: str, limit: int, offset: int
) -> None:
    page = await list_users(cast.admin, query)
    assert (page["limit"], page["offset"], page["total"], len(page["items"])) == (
        limit,
        offset,
        3,
        3,
    )


async def test_an_absurd_offset_is_not_a_server_error(cast: Cast) -> None:
    response = await cast.admin.api.get("/v1/admin/users?offset=99999999999999999999")
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["code"] == 40000
    else:
        assert response.json()["data"]["items"] == []


async def test_concurrent_demotions_of_two_superadmins_leave_one(cast: Cast) -> None:
    assert (await cast.root.patch_user(cast.admin.user_id, {"role": "superadmin"})).is_success
    responses = await asyncio.gather(
        cast.patch_with_token(cast.admin.user_id, {"role": "admin"}),
        cast.patch_with_token(cast.root.user_id, {"status": "locked"}),
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert next(r for r in responses if r.status_code == 409).json()["code"] == 40900
    supers = await cast.api.get("/v1/admin/users?role=superadmin&status=active", headers=ADMIN)
    assert supers.json()["data"]["total"] == 1
