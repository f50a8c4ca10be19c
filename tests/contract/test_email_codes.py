"""Contract of ``EmailCodeStore``, run against every implementation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.accounts.model import CodeCheck, StoredEmailCode
from domain.accounts.ports import EmailCodeStore
from domain.ids import new_token, token_hash
from tests.contract.conftest import Backend

EMAIL = "alice@example.com"
MAX = 5


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres", "redis")


@pytest.fixture
def store(backend: Backend) -> EmailCodeStore:
    return backend.adapters.email_codes


def now() -> datetime:
    """The wall clock: Redis expires keys by it."""
    return datetime.now(UTC)


def a_hash() -> str:
    return token_hash(new_token())


async def put(
    store: EmailCodeStore, email: str = EMAIL, *, ttl: timedelta = timedelta(minutes=10)
) -> str:
    code_hash = a_hash()
    await store.put(StoredEmailCode(email=email, code_hash=code_hash, expires_at=now() + ttl))
    return code_hash


async def check(store: EmailCodeStore, code_hash: str, email: str = EMAIL) -> CodeCheck:
    return await store.check(email, code_hash, now=now(), max_attempts=MAX)


async def test_the_right_code_is_ok_once(store: EmailCodeStore) -> None:
    code = await put(store)

    assert await check(store, code) is CodeCheck.OK
    assert await check(store, code) is CodeCheck.MISSING


async def test_no_code_is_missing(store: EmailCodeStore) -> None:
    assert await check(store, a_hash()) is CodeCheck.MISSING


async def test_put_replaces_the_previous_code_and_its_attempts(store: EmailCodeStore) -> None:
    old = await put(store)
    for _ in range(MAX - 1):
        assert await check(store, a_hash()) is CodeCheck.WRONG

    new = await put(store)

    assert await check(store, old) is CodeCheck.WRONG  # the old code is no longer valid
    for _ in range(MAX - 2):
        assert await check(store, a_hash()) is CodeCheck.WRONG
    assert await check(store, new) is CodeCheck.OK  # the attempts started again at 0


async def test_codes_are_per_email(store: EmailCodeStore) -> None:
    alice = await put(store, "alice@example.com")
    bob = await put(store, "bob@example.com")

    assert await check(store, bob, "alice@example.com") is CodeCheck.WRONG
    assert await check(store, alice, "alice@example.com") is CodeCheck.OK
    assert await check(store, bob, "bob@example.com") is CodeCheck.OK


async def test_wrong_guesses_count_and_the_last_one_exhausts(store: EmailCodeStore) -> None:
    code = await put(store)

    outcomes = [await check(store, a_hash()) for _ in range(MAX)]

    assert outcomes == [CodeCheck.WRONG] * (MAX - 1) + [CodeCheck.EXHAUSTED]
    assert await check(store, code) is CodeCheck.MISSING  # the code is gone


async def test_the_right_code_still_works_after_some_wrong_guesses(
    store: EmailCodeStore,
) -> None:
    code = await put(store)
    for _ in range(MAX - 1):
        await check(store, a_hash())

    assert await check(store, code) is CodeCheck.OK


async def test_an_expired_code_is_missing(store: EmailCodeStore) -> None:
    code = await put(store, ttl=timedelta(minutes=1))

    later = now() + timedelta(minutes=2)
    assert await store.check(EMAIL, code, now=later, max_attempts=MAX) is CodeCheck.MISSING
    assert await check(store, code) is CodeCheck.MISSING  # and it is gone


async def test_an_already_expired_code_is_missing(store: EmailCodeStore) -> None:
    code = await put(store, ttl=timedelta(seconds=-1))

    assert await check(store, code) is CodeCheck.MISSING


async def test_concurrent_wrong_guesses_are_each_counted(store: EmailCodeStore) -> None:
    await put(store)
    await asyncio.gather(*(check(store, a_hash(), "warm@example.com") for _ in range(10)))

    outcomes = await asyncio.gather(*(check(store, a_hash()) for _ in range(10)))

    assert outcomes.count(CodeCheck.EXHAUSTED) == 1
    assert outcomes.count(CodeCheck.WRONG) == MAX - 1
    assert outcomes.count(CodeCheck.MISSING) == 10 - MAX


async def test_concurrent_right_guesses_have_exactly_one_winner(store: EmailCodeStore) -> None:
    code = await put(store)
    await asyncio.gather(*(check(store, a_hash(), "warm@example.com") for _ in range(10)))

    outcomes = await asyncio.gather(*(check(store, code) for _ in range(10)))

    assert outcomes.count(CodeCheck.OK) == 1
    assert outcomes.count(CodeCheck.MISSING) == 9
