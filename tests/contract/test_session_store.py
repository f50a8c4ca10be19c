"""Contract of ``SessionStore``, run against every implementation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from domain.accounts.model import Session
from domain.accounts.ports import SessionStore
from domain.ids import new_id, new_token, token_hash
from persistence.redis.sessions import RedisSessionStore
from tests.contract.conftest import Backend

PLUS_8 = timezone(timedelta(hours=8))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres", "redis")


@pytest.fixture
def store(backend: Backend) -> SessionStore:
    return backend.adapters.sessions


def make_session(
    user_id: str, *, age: timedelta = timedelta(0), ttl: timedelta | None = None
) -> Session:
    """A session created ``age`` ago (by the wall clock: Redis expires keys by it)."""
    created = datetime.now(UTC) - age
    return Session(
        id=new_id(),
        user_id=user_id,
        token_hash=token_hash(new_token()),
        created_at=created,
        expires_at=created + (ttl if ttl is not None else timedelta(days=7)),
        last_seen_at=created,
        ip="198.51.100.4",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
    )


def to_ms(value: datetime) -> datetime:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def comparable(session: Session | None) -> Session | None:
    """Equal up to sub-millisecond precision, which some backends may drop."""
    if session is None:
        return None
    return replace(
        session,
        created_at=to_ms(session.created_at.astimezone(UTC)),
        expires_at=to_ms(session.expires_at.astimezone(UTC)),
        last_seen_at=to_ms(session.last_seen_at.astimezone(UTC)),
    )


def assert_same(actual: Session | None, expected: Session) -> None:
    assert actual is not None
    for instant in (actual.created_at, actual.expires_at, actual.last_seen_at):
        assert instant.utcoffset() == timedelta(0)
    assert comparable(actual) == comparable(expected)


def as_text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def ids(sessions: list[Session]) -> list[str]:
    return [session.id for session in sessions]


async def test_added_session_is_found_by_token_hash(store: SessionStore, alice: str) -> None:
    session = make_session(alice)
    await store.add(session)

    assert_same(await store.get_by_token_hash(session.token_hash), session)
    assert await store.get_by_token_hash(token_hash(new_token())) is None


async def test_optional_fields_may_be_empty(store: SessionStore, alice: str) -> None:
    session = replace(make_session(alice), ip=None, user_agent=None)
    await store.add(session)

    assert_same(await store.get_by_token_hash(session.token_hash), session)


async def test_aware_datetimes_round_trip_as_utc(store: SessionStore, alice: str) -> None:
    created = datetime.now(PLUS_8).replace(microsecond=123456)
    session = replace(
        make_session(alice),
        created_at=created,
        last_seen_at=created + timedelta(minutes=5, microseconds=1),
        expires_at=created + timedelta(days=7, microseconds=999),
    )
    await store.add(session)

    stored = await store.get_by_token_hash(session.token_hash)

    assert_same(stored, session)
    assert stored is not None
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.astimezone(PLUS_8).microsecond // 1000 == 123


async def test_touch_records_activity(store: SessionStore, alice: str) -> None:
    session = make_session(alice, age=timedelta(hours=1))
    await store.add(session)
    seen = datetime.now(UTC)

    await store.touch(session, seen)

    assert_same(
        await store.get_by_token_hash(session.token_hash), replace(session, last_seen_at=seen)
    )
    [listed] = await store.list_for_user(alice)
    assert_same(listed, replace(session, last_seen_at=seen))


async def test_touch_does_not_resurrect_a_deleted_session(store: SessionStore, alice: str) -> None:
    session = make_session(alice)
    await store.add(session)
    await store.delete(alice, session.id)

    await store.touch(session, datetime.now(UTC))

    assert await store.get_by_token_hash(session.token_hash) is None
    assert await store.list_for_user(alice) == []


async def test_list_is_the_users_sessions_newest_first(
    store: SessionStore, alice: str, bob: str
) -> None:
    old = make_session(alice, age=timedelta(days=2))
    new = make_session(alice, age=timedelta(minutes=1))
    middle = make_session(alice, age=timedelta(hours=3))
    bobs = make_session(bob)
    for session in (middle, bobs, old, new):
        await store.add(session)

    listed = await store.list_for_user(alice)

    assert ids(listed) == [new.id, middle.id, old.id]
    assert_same(listed[0], new)
    assert ids(await store.list_for_user(bob)) == [bobs.id]
    assert await store.list_for_user(new_id()) == []


async def test_delete_removes_one_session_of_the_user(store: SessionStore, alice: str) -> None:
    doomed, kept = make_session(alice), make_session(alice, age=timedelta(hours=1))
    await store.add(doomed)
    await store.add(kept)

    assert await store.delete(alice, doomed.id) is True

    assert await store.get_by_token_hash(doomed.token_hash) is None
    assert ids(await store.list_for_user(alice)) == [kept.id]
    assert await store.delete(alice, doomed.id) is False


async def test_delete_of_an_unknown_or_foreign_session_is_false(
    store: SessionStore, alice: str, bob: str
) -> None:
    bobs = make_session(bob)
    await store.add(bobs)
    await store.add(make_session(alice))

    assert await store.delete(alice, new_id()) is False
    assert await store.delete(alice, bobs.id) is False

    assert_same(await store.get_by_token_hash(bobs.token_hash), bobs)


async def test_delete_for_user_keeps_the_excepted_session(
    store: SessionStore, alice: str, bob: str
) -> None:
    current = make_session(alice)
    others = [make_session(alice, age=timedelta(minutes=m)) for m in (1, 2, 3)]
    bobs = make_session(bob)
    for session in (current, *others, bobs):
        await store.add(session)

    assert await store.delete_for_user(alice, except_id=current.id) == 3

    assert ids(await store.list_for_user(alice)) == [current.id]
    assert all([await store.get_by_token_hash(s.token_hash) is None for s in others])
    assert_same(await store.get_by_token_hash(bobs.token_hash), bobs)
    assert await store.delete_for_user(alice, except_id=current.id) == 0


async def test_delete_for_user_without_exception_removes_all(
    store: SessionStore, alice: str, bob: str
) -> None:
    mine = [make_session(alice, age=timedelta(minutes=m)) for m in (0, 1)]
    bobs = make_session(bob)
    for session in (*mine, bobs):
        await store.add(session)

    assert await store.delete_for_user(alice) == 2

    assert await store.list_for_user(alice) == []
    assert await store.get_by_token_hash(mine[0].token_hash) is None
    assert ids(await store.list_for_user(bob)) == [bobs.id]
    assert await store.delete_for_user(alice) == 0


async def test_an_expired_session_is_returned_as_stored_or_not_at_all(
    store: SessionStore, alice: str
) -> None:
    """The caller decides about expiry; a store may also have dropped the session."""
    expired = make_session(alice, age=timedelta(days=8))
    await store.add(expired)

    found = await store.get_by_token_hash(expired.token_hash)
    listed = await store.list_for_user(alice)

    if found is None:
        assert listed == []
    else:
        assert_same(found, expired)
        assert ids(listed) == [expired.id]


# -- Redis specifics ---------------------------------------------------------------------


async def test_redis_expired_sessions_disappear_with_their_index_entry(
    redis_client: Redis,
) -> None:
    store = RedisSessionStore(redis_client, prefix="t:")
    user_id = new_id()
    live = make_session(user_id)
    expired = make_session(user_id, age=timedelta(days=8))
    await store.add(live)
    await store.add(expired)

    assert await store.get_by_token_hash(expired.token_hash) is None
    assert ids(await store.list_for_user(user_id)) == [live.id]
    index = f"t:sess:user:{user_id}"
    assert [as_text(m) for m in await redis_client.zrange(index, 0, -1)] == [live.token_hash]
    # Both keys expire on their own: the session with itself, the index with its last member.
    expected_ms = (live.expires_at - EPOCH) // timedelta(milliseconds=1)
    pexpiretime = cast(Any, redis_client).pexpiretime  # redis-py 5 and 8 type it apart
    assert await pexpiretime(f"t:sess:{live.token_hash}") == expected_ms
    assert await pexpiretime(index) == expected_ms


async def test_redis_keys_use_the_prefix(redis_client: Redis) -> None:
    store = RedisSessionStore(redis_client, prefix="tenant-a:")
    session = make_session(new_id())
    await store.add(session)

    keys = sorted(as_text(key) for key in await redis_client.keys("*"))

    assert keys == sorted(
        [f"tenant-a:sess:{session.token_hash}", f"tenant-a:sess:user:{session.user_id}"]
    )
    assert (
        await RedisSessionStore(redis_client, prefix="tenant-b:").get_by_token_hash(
            session.token_hash
        )
        is None
    )
    await store.delete_for_user(session.user_id)
    assert await redis_client.keys("*") == []


# -- harden (issue 12, item 4): the database holds sessions, Redis only caches them ----------


@pytest.mark.backends("redis")
async def test_a_redis_that_lost_everything_still_finds_the_session(
    backend: Backend, alice: str
) -> None:
    store = backend.adapters.sessions
    session = make_session(alice)
    await store.add(session)
    assert backend.redis is not None
    await backend.redis.flushdb()  # a restart without persistence
    found = await store.get_by_token_hash(session.token_hash)
    assert found is not None and found.id == session.id
    assert [s.id for s in await store.list_for_user(alice)] == [session.id]
    # The lookup filled the cache again.
    assert await backend.redis.dbsize() > 0


@pytest.mark.backends("redis")
async def test_a_revoked_session_is_not_served_from_the_cache(backend: Backend, alice: str) -> None:
    store = backend.adapters.sessions
    one, two = make_session(alice), make_session(alice)
    for session in (one, two):
        await store.add(session)
        assert await store.get_by_token_hash(session.token_hash) is not None  # cached
    assert await store.delete(alice, one.id)
    assert await store.get_by_token_hash(one.token_hash) is None
    assert await store.delete_for_user(alice) == 1
    assert await store.get_by_token_hash(two.token_hash) is None


@pytest.mark.backends("redis")
async def test_with_redis_down_sessions_are_read_and_written_in_the_database(
    backend: Backend, alice: str
) -> None:
    from domain.errors import as_unavailable
    from persistence.redis.cached_sessions import CachedSessionStore
    from persistence.redis.client import redis_client
    from persistence.sql.sessions import SqlSessionStore

    assert backend.engine is not None
    dead = redis_client("redis://127.0.0.1:1/0", timeout=0.2)
    store = CachedSessionStore(SqlSessionStore(backend.engine), RedisSessionStore(dead))
    try:
        session = make_session(alice)
        await store.add(session)
        found = await store.get_by_token_hash(session.token_hash)
        assert found is not None and found.id == session.id
        await store.touch(session, datetime.now(UTC))
        # A revocation that cannot reach the cache is refused, and changes nothing.
        with pytest.raises(Exception) as raised:
            await store.delete(alice, session.id)
        assert as_unavailable(raised.value) is not None
        assert await store.get_by_token_hash(session.token_hash) is not None
    finally:
        await dead.aclose()
