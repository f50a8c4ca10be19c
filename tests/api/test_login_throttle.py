"""Sign-in throttling over /v1 (and GraphQL): per account, 5 free failures then waits
doubling from 1 s up to 15 min; per client address, 20 free failures. A throttled attempt
answers 429 with ``Retry-After`` and looks the same whether or not the account exists.

Time is a ``ManualClock`` at the real time in whole seconds, so every wait is exact. The
harness's peer is a trusted proxy here: ``X-Forwarded-For`` sets the client address, so a
test can spread attempts over addresses (the per-address limit stays out of the way) or
concentrate them on one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from domain.accounts.errors import InvalidCredentials
from domain.clock import ManualClock
from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, Api, running_app
from tests.fakes.hibp_server import FakeHibpServer

EMAIL = "alice@example.com"
WRONG = "Wrong-Password-123"
ADMIN = {"X-Admin-Key": ADMIN_TOKEN}
THROTTLED = "too many sign-in attempts; try again later"


@dataclass
class Env:
    api: Api
    clock: ManualClock

    def tick(self, seconds: float | timedelta) -> None:
        self.clock.advance(seconds)


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    async with running_app(
        database_url, redis_url=redis_url, hibp=hibp, clock=clock, trusted_proxies="203.0.113.0/24"
    ) as (api, _):
        yield Env(api, clock)


def ip(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{n}"}


async def register(api: Api, email: str = EMAIL) -> str:
    response = await api.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["userId"])


async def login(
    api: Api, email: str = EMAIL, password: str = WRONG, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await api.post(
        "/v1/auth/login", {"email": email, "password": password}, headers=headers or ip(1)
    )


def assert_denied(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["message"] == InvalidCredentials.default_message


def assert_throttled(response: httpx.Response, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.json() == {"code": 8, "message": THROTTLED, "details": []}
    assert not [c for c in response.headers.get_list("set-cookie") if c.startswith("sid=")]


async def audit(api: Api, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/admin/audit", headers=ADMIN, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def back_off_sequence(env: Env, email: str) -> list[tuple[int, str | None, str]]:
    """Five failures, then three rounds of (429, wait, one more failure); every answer as
    (status, Retry-After, body)."""
    seen = []
    for _ in range(5):
        r = await login(env.api, email)
        seen.append((r.status_code, r.headers.get("Retry-After"), r.text))
    for _ in range(3):
        r = await login(env.api, email)
        seen.append((r.status_code, r.headers.get("Retry-After"), r.text))
        env.tick(int(r.headers.get("Retry-After", "0")))
        r = await login(env.api, email)
        seen.append((r.status_code, r.headers.get("Retry-After"), r.text))
    return seen


# -- per account ---------------------------------------------------------------------------


async def test_five_failures_then_429_with_a_doubling_wait(env: Env) -> None:
    await register(env.api)
    for _ in range(5):
        assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 1)
    assert_throttled(await login(env.api), 1)  # a refused attempt does not count
    env.tick(1)
    assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 2)
    env.tick(1)
    assert_throttled(await login(env.api), 1)  # the wait runs from the last failure
    env.tick(1)
    assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 4)
    env.tick(4)
    assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 8)


async def test_the_wait_is_capped_at_15_minutes(env: Env) -> None:
    await register(env.api)
    waits = []
    for n in range(18):
        response = await login(env.api, headers=ip(n + 10))  # many addresses: only the account
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            env.tick(waits[-1])
            assert_denied(await login(env.api, headers=ip(n + 10)))
        else:
            assert_denied(response)
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


async def test_an_unknown_email_is_throttled_exactly_like_an_account(env: Env) -> None:
    await register(env.api)
    known = await back_off_sequence(env, EMAIL)
    unknown = await back_off_sequence(env, "nobody@example.com")
    assert known == unknown
    assert [status for status, _, _ in known] == [401] * 5 + [429, 401] * 3
    assert [wait for _, wait, _ in known if wait] == ["1", "2", "4"]


async def test_the_right_password_during_back_off_is_also_429(env: Env) -> None:
    await register(env.api)
    for _ in range(5):
        assert_denied(await login(env.api))
    right = await login(env.api, password=STRONG_PASSWORD)
    wrong = await login(env.api)
    assert_throttled(right, 1)
    assert (right.status_code, right.headers["Retry-After"], right.text) == (
        wrong.status_code,
        wrong.headers["Retry-After"],
        wrong.text,
    )
    data = await env.api.gql(
        """mutation($i: AccountLoginInput!) { accountLogin(input: $i) {
        result { sid } errors { code message retryAfter } } }""",
        {"i": {"email": EMAIL, "password": STRONG_PASSWORD}},
        headers=ip(1),
    )
    assert data["data"]["accountLogin"] == {
        "result": None,
        "errors": [{"code": "RATE_LIMITED", "message": THROTTLED, "retryAfter": 1}],
    }


async def test_after_the_wait_the_right_password_works_and_resets_the_count(env: Env) -> None:
    await register(env.api)
    for _ in range(5):
        assert_denied(await login(env.api))
    assert_throttled(await login(env.api, password=STRONG_PASSWORD), 1)
    env.tick(1)
    signed_in = await login(env.api, password=STRONG_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    assert "sid" in signed_in.json()
    # The count starts again from zero: five more free failures.
    for _ in range(5):
        assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 1)


async def test_failures_are_forgotten_a_day_after_the_last_one(env: Env) -> None:
    await register(env.api)
    for _ in range(5):
        assert_denied(await login(env.api))
    env.tick(timedelta(hours=24))
    for _ in range(5):
        assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 1)


async def test_admin_unlock_lifts_the_back_off(env: Env) -> None:
    user_id = await register(env.api)
    for _ in range(8):
        response = await login(env.api)
        if response.status_code == 429:
            env.tick(int(response.headers["Retry-After"]))
            assert_denied(await login(env.api))
    assert_throttled(await login(env.api, password=STRONG_PASSWORD), 8)

    anonymous = await env.api.fresh().post(f"/v1/admin/users/{user_id}/unlock", {})
    assert anonymous.status_code == 401, anonymous.text
    plain = env.api.fresh()
    await register(plain, "plain@example.com")
    assert (await login(plain, "plain@example.com", STRONG_PASSWORD, ip(2))).status_code == 200
    assert (await plain.post(f"/v1/admin/users/{user_id}/unlock", {})).status_code == 403
    assert_throttled(await login(env.api), 8)  # neither of them unlocked anything

    unlocked = await env.api.post(f"/v1/admin/users/{user_id}/unlock", {}, headers=ADMIN)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["data"]["id"] == user_id
    assert unlocked.json()["data"]["email"] == EMAIL
    signed_in = await login(env.api, password=STRONG_PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    [event] = (await audit(env.api, action="admin.user_unlocked"))["items"]
    assert (event["userId"], event["actor"]) == (user_id, "admin-token")

    missing = await env.api.post(f"/v1/admin/users/{'0' * 32}/unlock", {}, headers=ADMIN)
    assert missing.status_code == 404, missing.text


async def test_admin_unlock_over_graphql(env: Env) -> None:
    user_id = await register(env.api)
    for _ in range(5):
        assert_denied(await login(env.api))
    assert_throttled(await login(env.api), 1)
    mutation = """mutation($i: AdminUserUnlockInput!) { adminUserUnlock(input: $i) {
        user { email } errors { code } } }"""
    plain = env.api.fresh()
    await register(plain, "plain@example.com")
    await login(plain, "plain@example.com", STRONG_PASSWORD, ip(2))
    refused = await plain.gql(mutation, {"i": {"userId": user_id}})
    assert refused["data"]["adminUserUnlock"] == {
        "user": None,
        "errors": [{"code": "INSUFFICIENT_ROLE"}],
    }
    done = await env.api.gql(mutation, {"i": {"userId": user_id}}, headers=ADMIN)
    assert done["data"]["adminUserUnlock"] == {"user": {"email": EMAIL}, "errors": []}
    assert_denied(await login(env.api))  # a fresh count


# -- per client address --------------------------------------------------------------------


async def test_twenty_free_failures_per_address_across_accounts(env: Env) -> None:
    await register(env.api)
    for i in range(20):
        assert_denied(await login(env.api, f"user{i}@example.com", headers=ip(7)))
    assert_throttled(await login(env.api, "user20@example.com", headers=ip(7)), 1)
    # The right password of an untouched account is held back too, from that address only.
    assert_throttled(await login(env.api, EMAIL, STRONG_PASSWORD, ip(7)), 1)
    assert (await login(env.api, EMAIL, STRONG_PASSWORD, ip(8))).status_code == 200
    env.tick(1)
    assert_denied(await login(env.api, "user21@example.com", headers=ip(7)))
    assert_throttled(await login(env.api, "user22@example.com", headers=ip(7)), 2)


async def test_a_success_from_an_address_keeps_its_other_failures(env: Env) -> None:
    await register(env.api)
    for i in range(19):
        assert_denied(await login(env.api, f"user{i}@example.com", headers=ip(7)))
    assert (await login(env.api, EMAIL, STRONG_PASSWORD, ip(7))).status_code == 200
    assert_denied(await login(env.api, "user19@example.com", headers=ip(7)))
    assert_throttled(await login(env.api, "user20@example.com", headers=ip(7)), 1)


# -- audit and concurrency -----------------------------------------------------------------


async def test_failures_and_throttled_attempts_are_audited(env: Env) -> None:
    user_id = await register(env.api)
    for _ in range(5):
        assert_denied(await login(env.api))
    assert_denied(await login(env.api, "nobody@example.com"))
    for _ in range(2):
        assert_throttled(await login(env.api), 1)

    failed = await audit(env.api, action="login.failed")
    assert failed["total"] == 6
    subjects = sorted(str(e["userId"]) for e in failed["items"])
    assert subjects == sorted([user_id] * 5 + ["None"])
    throttled = await audit(env.api, action="login.throttled")
    assert throttled["total"] == 2
    for event in failed["items"] + throttled["items"]:
        assert event["ip"] == "198.51.100.1"
        assert event["userAgent"].startswith("python-httpx/")
        assert WRONG not in str(event)
    assert all(e["userId"] is None for e in throttled["items"])  # reveals no account


async def test_concurrent_wrong_passwords_are_counted_exactly(
    pg_url: str,
    pg_engine: Any,
    redis_client: Any,
    hibp: FakeHibpServer,
) -> None:
    """PostgreSQL + Redis: 30 attempts at once for one account; the Lua script decides and
    counts atomically, so exactly the 5 free failures get through."""
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    async with running_app(
        pg_url, redis_url=os.environ["KARPOV_TEST_REDIS_URL"], hibp=hibp, clock=clock
    ) as (api, _):
        await register(api)
        await api.prime_csrf()
        browsers = [api.fresh() for _ in range(30)]
        for browser in browsers:
            await browser.prime_csrf()
        responses = await asyncio.gather(
            *(b.post("/v1/auth/login", {"email": EMAIL, "password": WRONG}) for b in browsers)
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [401] * 5 + [429] * 25
        assert {r.headers["Retry-After"] for r in responses if r.status_code == 429} == {"1"}
        assert (await audit(api, action="login.failed"))["total"] == 5
        assert (await audit(api, action="login.throttled"))["total"] == 25
        # The right password is held back as well, until the wait is over.
        assert (await login(api, password=STRONG_PASSWORD)).status_code == 429
        clock.advance(1)
        assert (await login(api, password=STRONG_PASSWORD)).status_code == 200
