"""Contract of ``ChallengeStore``, run against every implementation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from redis.asyncio import Redis

from domain.ids import new_id, new_token, token_hash
from domain.twofactor.model import LoginChallenge
from domain.twofactor.ports import ChallengeStore
from persistence.memory.twofactor import MemoryChallengeStore
from persistence.redis.challenges import RedisChallengeStore
from persistence.sql.challenges import SqlChallengeStore
from tests.contract.conftest import Backend

PLUS_8 = timezone(timedelta(hours=8))


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres", "redis")


@pytest.fixture
def store(backend: Backend) -> ChallengeStore:
    return backend.adapters.challenges


def make_challenge(user_id: str, *, ttl: timedelta = timedelta(minutes=5)) -> LoginChallenge:
    """A challenge opened now (by the wall clock: Redis expires keys by it)."""
    created = datetime.now(UTC)
    return LoginChallenge(
        id_hash=token_hash(new_token(16)),
        user_id=user_id,
        created_at=created,
        expires_at=created + ttl,
        ip="198.51.100.4",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
    )


def to_ms(value: datetime) -> datetime:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def assert_same(actual: LoginChallenge | None, expected: LoginChallenge) -> None:
    """Equal, instants as UTC, up to sub-millisecond precision some backends may drop."""
    assert actual is not None
    for instant in (actual.created_at, actual.expires_at):
        assert instant.utcoffset() == timedelta(0)
    assert replace(
        actual, created_at=to_ms(actual.created_at), expires_at=to_ms(actual.expires_at)
    ) == replace(
        expected,
        created_at=to_ms(expected.created_at.astimezone(UTC)),
        expires_at=to_ms(expected.expires_at.astimezone(UTC)),
    )


async def warm_up(store: ChallengeStore, n: int) -> None:
    """Open ``n`` pooled connections first, so that the racers start together instead of
    one after another as each connection gets established."""
    await asyncio.gather(*(store.get(token_hash(new_token())) for _ in range(n)))


async def test_added_challenge_round_trips(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)

    assert_same(await store.get(challenge.id_hash), challenge)
    assert await store.get(token_hash(new_token())) is None


async def test_optional_fields_may_be_empty(store: ChallengeStore, alice: str) -> None:
    challenge = replace(make_challenge(alice), ip=None, user_agent=None, attempts=2)
    await store.add(challenge)

    assert_same(await store.get(challenge.id_hash), challenge)


async def test_aware_datetimes_round_trip_as_utc(store: ChallengeStore, alice: str) -> None:
    created = datetime.now(PLUS_8).replace(microsecond=123456)
    challenge = replace(
        make_challenge(alice), created_at=created, expires_at=created + timedelta(minutes=5)
    )
    await store.add(challenge)

    stored = await store.get(challenge.id_hash)

    assert_same(stored, challenge)
    assert stored is not None and stored.created_at.microsecond // 1000 == 123


async def test_a_duplicate_id_hash_is_refused(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)

    with pytest.raises(Exception):  # each backend has its own error
        await store.add(replace(challenge, attempts=3))

    assert_same(await store.get(challenge.id_hash), challenge)


async def test_take_removes_and_returns_it_once(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)

    assert_same(await store.take(challenge.id_hash), challenge)

    assert await store.take(challenge.id_hash) is None
    assert await store.get(challenge.id_hash) is None
    assert await store.record_failure(challenge.id_hash, 5) == 0


async def test_concurrent_takes_have_exactly_one_winner(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)
    await warm_up(store, 10)

    taken = await asyncio.gather(*(store.take(challenge.id_hash) for _ in range(10)))

    winners = [t for t in taken if t is not None]
    assert len(winners) == 1
    assert_same(winners[0], challenge)
    assert await store.get(challenge.id_hash) is None


async def test_failures_count_and_delete_at_the_maximum(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)

    assert await store.record_failure(challenge.id_hash, 3) == 1
    assert await store.record_failure(challenge.id_hash, 3) == 2
    stored = await store.get(challenge.id_hash)
    assert stored is not None and stored.attempts == 2
    assert await store.record_failure(challenge.id_hash, 3) == 3

    assert await store.get(challenge.id_hash) is None
    assert await store.take(challenge.id_hash) is None
    assert await store.record_failure(challenge.id_hash, 3) == 0


async def test_failures_continue_from_the_stored_attempts(
    store: ChallengeStore, alice: str
) -> None:
    challenge = replace(make_challenge(alice), attempts=3)
    await store.add(challenge)

    assert await store.record_failure(challenge.id_hash, 5) == 4
    assert await store.record_failure(challenge.id_hash, 5) == 5
    assert await store.get(challenge.id_hash) is None


async def test_a_failure_of_an_unknown_challenge_is_zero(store: ChallengeStore) -> None:
    assert await store.record_failure(token_hash(new_token()), 5) == 0


async def test_concurrent_failures_get_distinct_counts(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)
    await warm_up(store, 10)

    counts = await asyncio.gather(*(store.record_failure(challenge.id_hash, 10) for _ in range(10)))

    assert sorted(counts) == list(range(1, 11))
    assert await store.get(challenge.id_hash) is None


async def test_concurrent_failures_beyond_the_maximum(store: ChallengeStore, alice: str) -> None:
    challenge = make_challenge(alice)
    await store.add(challenge)
    await warm_up(store, 10)

    counts = await asyncio.gather(*(store.record_failure(challenge.id_hash, 5) for _ in range(10)))

    # The first five count 1..5 and the fifth deletes it; the rest find it gone.
    assert sorted(counts) == [0] * 5 + [1, 2, 3, 4, 5]
    assert await store.get(challenge.id_hash) is None


async def test_delete_for_user_removes_only_that_users_challenges(
    store: ChallengeStore, alice: str, bob: str
) -> None:
    first, second, bobs = make_challenge(alice), make_challenge(alice), make_challenge(bob)
    for challenge in (first, second, bobs):
        await store.add(challenge)

    await store.delete_for_user(alice)

    assert await store.get(first.id_hash) is None
    assert await store.get(second.id_hash) is None
    assert_same(await store.get(bobs.id_hash), bobs)
    await store.delete_for_user(alice)  # nothing left: a no-op
    await store.delete_for_user(new_id())
    assert_same(await store.take(bobs.id_hash), bobs)


async def test_an_expired_challenge_is_returned_as_stored_or_gone(
    store: ChallengeStore, alice: str
) -> None:
    """The caller checks ``expires_at``; Redis has already dropped the key."""
    expired = make_challenge(alice, ttl=-timedelta(seconds=1))
    await store.add(expired)

    stored = await store.get(expired.id_hash)

    if stored is not None:
        assert_same(stored, expired)
    taken = await store.take(expired.id_hash)
    assert taken is None or stored is not None
    assert await store.get(expired.id_hash) is None


# -- backend specifics -------------------------------------------------------------------


@pytest.mark.backends("memory", "sqlite", "postgres")
async def test_purge_expired(store: ChallengeStore, alice: str) -> None:
    assert isinstance(store, MemoryChallengeStore | SqlChallengeStore)
    now = datetime.now(UTC)
    expired = replace(make_challenge(alice), expires_at=now - timedelta(seconds=1))
    at_now = replace(make_challenge(alice), expires_at=now)
    live = make_challenge(alice)
    for challenge in (expired, at_now, live):
        await store.add(challenge)

    assert await store.purge_expired(now) == 2

    assert await store.get(expired.id_hash) is None
    assert await store.get(at_now.id_hash) is None
    assert_same(await store.get(live.id_hash), live)


async def test_redis_expires_challenges_and_leaves_no_keys_behind(redis_client: Redis) -> None:
    store = RedisChallengeStore(redis_client, prefix="test:")
    alice = new_id()
    challenge = make_challenge(alice, ttl=timedelta(minutes=5))
    await store.add(challenge)

    key = f"test:chal:{challenge.id_hash}"
    ttl_ms = await redis_client.pttl(key)
    assert timedelta(minutes=4, seconds=50) < timedelta(milliseconds=ttl_ms) <= timedelta(minutes=5)
    index_ttl_ms = await redis_client.pttl(f"test:chal-user:{alice}")
    assert abs(index_ttl_ms - ttl_ms) < 1000

    await store.take(challenge.id_hash)
    failed = make_challenge(alice)
    await store.add(failed)
    await store.record_failure(failed.id_hash, 1)
    await store.add(make_challenge(alice))
    await store.delete_for_user(alice)
    assert await redis_client.keys("*") == []

    already_expired = make_challenge(alice, ttl=-timedelta(milliseconds=1))
    await store.add(already_expired)
    assert await store.get(already_expired.id_hash) is None
    assert await redis_client.keys("*") == []
