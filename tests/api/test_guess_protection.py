"""Guessing link tokens is stopped per address and audited."""

from __future__ import annotations

from tests.api.harness import ADMIN_TOKEN, STRONG_PASSWORD, running_app
from tests.fakes.hibp_server import FakeHibpServer


async def test_a_flood_of_reset_token_guesses_is_stopped_and_audited(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp) as (api, _):
        statuses = []
        for i in range(12):
            response = await api.post(
                "/v1/auth/password/reset",
                {"token": f"guess-{i}-" + "x" * 30, "newPassword": STRONG_PASSWORD},
            )
            statuses.append(response.status_code)
        assert statuses[:10] == [400] * 10  # ten free misses per address
        assert statuses[10] == 429
        blocked = await api.get(
            "/v1/admin/audit?action=code.guess_blocked", headers={"X-Admin-Key": ADMIN_TOKEN}
        )
        items = blocked.json()["data"]["items"]
        assert items and items[0]["details"] == {"kind": "link_token"}
        assert all("guess-" not in str(item) for item in items)
        activation = await api.post("/v1/auth/email/verify", {"token": "y" * 43})
        assert activation.status_code == 429  # the same budget covers every link token


async def test_guessing_the_current_password_through_a_session_is_throttled(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp) as (api, _):
        body = {"email": "victim@example.com", "password": STRONG_PASSWORD}
        assert (await api.post("/v1/auth/register", body)).status_code == 200
        assert (await api.post("/v1/auth/login", body)).status_code == 200
        statuses = []
        for i in range(7):
            response = await api.post(
                "/v1/auth/password/change",
                {"oldPassword": f"Wrong-Guess-{i}!", "newPassword": "Brand-New-Pass-42!"},
            )
            statuses.append(response.status_code)
        assert statuses[:5] == [401] * 5
        assert statuses[5] == 429
        assert "retry-after" in {k.lower() for k in response.headers}


async def test_malformed_e_mails_still_count_against_the_address(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    database_url, redis_url = backend
    async with running_app(database_url, redis_url=redis_url, hibp=hibp) as (api, _):
        statuses = [
            (await api.post("/v1/auth/login", {"email": f"nope-{i}", "password": "x"})).status_code
            for i in range(21)
        ]
        assert statuses[:20] == [401] * 20
        assert statuses[20] == 429


async def test_registrations_per_address_are_limited(
    backend: tuple[str, str | None], hibp: FakeHibpServer
) -> None:
    database_url, redis_url = backend
    async with running_app(
        database_url, redis_url=redis_url, hibp=hibp, register_per_ip_per_hour=3
    ) as (api, _):
        statuses = [
            (
                await api.post(
                    "/v1/auth/register",
                    {"email": f"user{i}@example.com", "password": STRONG_PASSWORD},
                )
            ).status_code
            for i in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
