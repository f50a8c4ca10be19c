"""Document limits that bite (issue 11, item 5): a document aliasing password-hashing
mutations is refused before any hash runs, and every refusal names the limit it hit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from domain.accounts.passwords import Argon2PasswordHasher
from schema.limits import DocumentLimits
from tests.api.harness import STRONG_PASSWORD, Api, running_app

LIMITS = DocumentLimits()


@dataclass
class CountingHasher:
    """The real (cheap) argon2 hasher, counting every hash, verification and burn."""

    inner: Argon2PasswordHasher = field(
        default_factory=lambda: Argon2PasswordHasher(time_cost=1, memory_cost_kib=64)
    )
    calls: int = 0

    async def hash(self, password: str) -> str:
        self.calls += 1
        return await self.inner.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.calls += 1
        return await self.inner.verify(password_hash, password)

    async def burn(self) -> None:
        self.calls += 1
        await self.inner.burn()


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


@pytest.fixture
async def api(sqlite_url: str, hasher: CountingHasher) -> AsyncIterator[Api]:
    async with running_app(sqlite_url, hasher=hasher) as (client, _):
        yield client


def aliased_logins(count: int) -> str:
    logins = " ".join(
        f'l{i}: accountLogin(input: {{email: "x{i}@example.com", password: "{STRONG_PASSWORD}"}})'
        " { errors { code } }"
        for i in range(count)
    )
    return f"mutation {{ {logins} }}"


async def test_thirty_aliased_logins_are_refused_before_any_hash_runs(
    api: Api, hasher: CountingHasher
) -> None:
    result = await api.gql(aliased_logins(30))
    assert result.get("data") is None
    [error] = result["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "cost"
    assert error["extensions"]["maximum"] == LIMITS.max_cost
    assert error["extensions"]["actual"] >= 30 * 50
    assert f"at most {LIMITS.max_cost} are allowed" in error["message"]
    assert hasher.calls == 0
    # A few logins in one document are priced in, not refused: they run (and hash).
    few = await api.gql(aliased_logins(2))
    assert [few["data"][k]["errors"][0]["code"] for k in ("l0", "l1")]
    assert hasher.calls > 0


async def test_every_limit_refusal_names_its_limit(api: Api) -> None:
    too_deep = "{ " + "viewer { " * (LIMITS.max_depth + 1) + "id" + " }" * (LIMITS.max_depth + 2)
    aliases = (
        "{ "
        + " ".join(f"a{i}: runtimeConfig {{ timezone }}" for i in range(LIMITS.max_aliases + 1))
        + " }"
    )
    for document, limit in ((too_deep, "depth"), (aliases, "aliases")):
        [error] = (await api.gql(document))["errors"]
        assert error["extensions"]["limit"] == limit, error
        assert str(error["extensions"]["maximum"]) in error["message"]


async def test_too_many_validation_errors_say_which_limit_not_validation_aborted(
    api: Api,
) -> None:
    document = "{ " + " ".join(f"f{i}" for i in range(150)) + " }"
    errors = (await api.gql(document))["errors"]
    assert not any("Validation aborted" in e["message"] for e in errors), errors[-1]
    last = errors[-1]
    assert last["extensions"]["limit"] == "validationErrors"
    assert "100 validation errors" in last["message"]


async def test_too_many_tokens_says_which_limit(api: Api) -> None:
    document = "{ " + " ".join("__typename" for _ in range(6000)) + " }"
    [error] = (await api.gql(document))["errors"]
    assert "5000 tokens" in error["message"]
    assert error["extensions"]["limit"] == "tokens"
