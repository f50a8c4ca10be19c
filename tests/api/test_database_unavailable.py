"""Issue 12, item 3: a database that cannot be reached is an answer, not a 500: 503 with
``DATABASE_UNAVAILABLE`` and ``Retry-After`` on /v1, the same code in GraphQL, and
``/readyz`` naming it within a second. (The server starts without it; see test_edge.)"""

from __future__ import annotations

import time

import pytest

from domain.apikeys.format import generate_key
from tests.api.harness import STRONG_PASSWORD, running_app

UNREACHABLE_DB = "postgresql+asyncpg://postgres@127.0.0.1:1/none"


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("POST", "/v1/auth/login", {"email": "a@example.com", "password": "x"}, {}),
        ("POST", "/v1/auth/register", {"email": "a@example.com", "password": STRONG_PASSWORD},
         {}),
        ("GET", "/v1/auth/me", None, {"X-Session-Id": "some-session-token"}),
        ("GET", "/v1/auth/me", None, {"X-API-Key": generate_key()}),
    ],
    ids=["login", "register", "session", "api key"],
)  # fmt: skip
async def test_v1_answers_503_database_unavailable(
    method: str, path: str, body: object, headers: dict[str, str]
) -> None:
    async with running_app(UNREACHABLE_DB) as (api, _):
        response = await api.request(method, path, json=body, headers=headers)
        assert response.status_code == 503, response.text
        assert "DATABASE_UNAVAILABLE" in response.text, response.text
        assert int(response.headers["retry-after"]) >= 1
        started = time.perf_counter()
        ready = await api.http.get("/readyz")
        assert time.perf_counter() - started < 1.5
        assert ready.status_code == 503 and "database" in ready.text


async def test_graphql_names_the_database() -> None:
    async with running_app(UNREACHABLE_DB) as (api, _):
        result = await api.gql(
            'mutation { accountLogin(input: {email: "a@example.com", password: "x"}) '
            "{ errors { code } } }"
        )
        text = str(result)
        assert "DATABASE_UNAVAILABLE" in text, text
        assert "INTERNAL" not in text, text
