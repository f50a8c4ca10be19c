"""Contract of the API-key ports (``uow.api_keys`` and ``ApiKeyStore``), run against every
implementation."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from domain.accounts.errors import UserNotFound
from domain.apikeys.errors import ApiKeyNotFound
from domain.apikeys.model import ApiKey, KeyUsage
from domain.apikeys.ports import ApiKeyStore, UnitOfWorkFactory
from domain.ids import new_id
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_8 = timezone(timedelta(hours=8))


class Keys:
    """The two ports of a backend over one set of keys: management through its unit of
    work (``uow.api_keys``), the verification lookup and usage counters through its
    ``ApiKeyStore``. Each management call is a unit of its own, committed."""

    def __init__(self, uow: UnitOfWorkFactory, store: ApiKeyStore) -> None:
        self.uow = uow
        self.store = store

    async def add(self, key: ApiKey) -> None:
        async with self.uow() as unit:
            await unit.api_keys.add(key)
            await unit.commit()

    async def update(self, key: ApiKey) -> None:
        async with self.uow() as unit:
            await unit.api_keys.update(key)
            await unit.commit()

    async def get(self, key_id: str) -> ApiKey | None:
        async with self.uow() as unit:
            return await unit.api_keys.get(key_id)

    async def list_for_user(self, user_id: str) -> list[ApiKey]:
        async with self.uow() as unit:
            return await unit.api_keys.list_for_user(user_id)

    async def count_for_user(self, user_id: str) -> int:
        async with self.uow() as unit:
            return await unit.api_keys.count_for_user(user_id)

    async def find_by_hash(self, key_hash: bytes, now: datetime) -> ApiKey | None:
        return await self.store.find_by_hash(key_hash, now)

    async def add_usage(self, usage: dict[str, KeyUsage]) -> None:
        await self.store.add_usage(usage)


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def store(backend: Backend) -> Keys:
    return Keys(backend.adapters.uow, backend.adapters.api_keys)


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def make_key(user_id: str, *, age: timedelta = timedelta(0), **changes: object) -> ApiKey:
    key_id = new_id()
    created = T0 - age
    key = ApiKey(
        id=key_id,
        user_id=user_id,
        key_hash=digest(key_id),
        prefix="mk_Ab3dE",
        last4="x9Zq",
        name="CI deploys",
        description="used by the nightly job",
        scopes=("music:read", "billing:*"),
        ip_allowlist=("10.0.0.0/8", "2001:db8::1"),
        rate_limit_rpm=60,
        rate_limit_daily=10_000_000_000,  # beyond 32 bits: BIGINT
        enabled=True,
        created_at=created,
        updated_at=created,
    )
    return replace(key, **changes)  # type: ignore[arg-type]


def ids(keys: list[ApiKey]) -> list[str]:
    return [key.id for key in keys]


async def test_added_key_round_trips_every_field(store: Keys, alice: str) -> None:
    key = make_key(
        alice,
        expires_at=T0 + timedelta(days=30),
        previous_hash=digest("old"),
        previous_expires_at=T0 + timedelta(hours=24),
    )
    await store.add(key)

    assert await store.get(key.id) == key
    assert await store.get(new_id()) is None


async def test_empty_lists_and_optional_fields_round_trip(store: Keys, alice: str) -> None:
    key = make_key(alice, scopes=(), ip_allowlist=(), description="", rate_limit_daily=0)
    await store.add(key)

    stored = await store.get(key.id)
    assert stored == key
    assert stored is not None
    assert stored.scopes == () and stored.ip_allowlist == ()
    assert stored.expires_at is None and stored.last_used_at is None
    assert stored.previous_hash is None and stored.total_requests == 0


async def test_instants_come_back_as_utc(store: Keys, alice: str) -> None:
    local = T0.astimezone(PLUS_8)
    key = make_key(alice, created_at=local, updated_at=local, expires_at=local + timedelta(1))
    await store.add(key)

    stored = await store.get(key.id)

    assert stored is not None
    assert stored.created_at == T0 and stored.created_at.utcoffset() == timedelta(0)
    assert stored.expires_at is not None and stored.expires_at.utcoffset() == timedelta(0)


async def test_list_is_the_users_keys_newest_first_revoked_included(
    store: Keys, alice: str, bob: str
) -> None:
    old = make_key(alice, age=timedelta(days=3))
    revoked = make_key(alice, age=timedelta(days=2), revoked_at=T0)
    new = make_key(alice, age=timedelta(hours=1))
    bobs = make_key(bob)
    for key in (revoked, bobs, new, old):
        await store.add(key)

    assert ids(await store.list_for_user(alice)) == [new.id, revoked.id, old.id]
    assert await store.list_for_user(bob) == [bobs]
    assert await store.list_for_user(new_id()) == []


async def test_list_breaks_created_at_ties_by_id_descending(store: Keys, alice: str) -> None:
    keys = [make_key(alice) for _ in range(3)]
    for key in keys:
        await store.add(key)

    assert ids(await store.list_for_user(alice)) == sorted(ids(keys), reverse=True)


async def test_find_by_current_hash(store: Keys, alice: str) -> None:
    key = make_key(alice)
    other = make_key(alice)
    await store.add(key)
    await store.add(other)

    assert await store.find_by_hash(key.key_hash, T0) == key
    assert await store.find_by_hash(other.key_hash, T0) == other
    assert await store.find_by_hash(digest("unknown"), T0) is None


async def test_find_returns_keys_whatever_their_status(store: Keys, alice: str) -> None:
    revoked = make_key(alice, revoked_at=T0)
    disabled = make_key(alice, enabled=False)
    expired = make_key(alice, expires_at=T0 - timedelta(seconds=1))
    for key in (revoked, disabled, expired):
        await store.add(key)

    for key in (revoked, disabled, expired):
        assert await store.find_by_hash(key.key_hash, T0) == key


async def test_previous_hash_is_found_only_during_its_grace(store: Keys, alice: str) -> None:
    grace_end = T0 + timedelta(hours=1)
    key = make_key(alice, previous_hash=digest("old"), previous_expires_at=grace_end)
    await store.add(key)

    assert await store.find_by_hash(digest("old"), T0) == key
    assert await store.find_by_hash(digest("old"), grace_end - timedelta(microseconds=1)) == key
    assert await store.find_by_hash(digest("old"), grace_end) is None
    assert await store.find_by_hash(digest("old"), grace_end + timedelta(days=1)) is None
    # The current hash does not expire with the grace period.
    assert await store.find_by_hash(key.key_hash, grace_end + timedelta(days=1)) == key


async def test_update_replaces_the_mutable_fields(store: Keys, alice: str) -> None:
    key = make_key(alice)
    await store.add(key)
    await store.add_usage({key.id: KeyUsage(5, T0 + timedelta(minutes=1))})
    changed = key.with_changes(
        key_hash=digest("new"),
        previous_hash=key.key_hash,
        previous_expires_at=T0 + timedelta(hours=24),
        prefix="mk_New12",
        last4="7777",
        name="renamed",
        description="",
        scopes=("*",),
        ip_allowlist=(),
        rate_limit_rpm=0,
        rate_limit_daily=7,
        enabled=False,
        updated_at=T0 + timedelta(minutes=2),
        expires_at=T0 + timedelta(days=1),
        revoked_at=T0 + timedelta(minutes=3),
    )

    await store.update(changed)

    expected = changed.with_changes(total_requests=5, last_used_at=T0 + timedelta(minutes=1))
    assert await store.get(key.id) == expected
    assert await store.find_by_hash(digest("new"), T0) == expected
    assert await store.find_by_hash(key.key_hash, T0) == expected  # rotated, in grace


async def test_update_leaves_owner_creation_and_usage_alone(
    store: Keys, alice: str, bob: str
) -> None:
    key = make_key(alice)
    await store.add(key)
    await store.add_usage({key.id: KeyUsage(3, T0)})

    await store.update(
        key.with_changes(
            user_id=bob,
            created_at=T0 + timedelta(days=9),
            last_used_at=None,
            total_requests=0,
            name="x",
        )
    )

    stored = await store.get(key.id)
    assert stored == key.with_changes(name="x", total_requests=3, last_used_at=T0)
    assert await store.list_for_user(bob) == []


async def test_update_can_clear_optional_fields(store: Keys, alice: str) -> None:
    key = make_key(
        alice,
        expires_at=T0 + timedelta(days=1),
        previous_hash=digest("old"),
        previous_expires_at=T0 + timedelta(hours=1),
    )
    await store.add(key)

    cleared = key.with_changes(expires_at=None, previous_hash=None, previous_expires_at=None)
    await store.update(cleared)

    assert await store.get(key.id) == cleared
    assert await store.find_by_hash(digest("old"), T0) is None


async def test_a_hash_replaced_without_grace_is_no_longer_found(store: Keys, alice: str) -> None:
    key = make_key(alice)
    await store.add(key)

    await store.update(key.with_changes(key_hash=digest("fresh")))

    assert await store.find_by_hash(key.key_hash, T0) is None
    assert await store.find_by_hash(digest("fresh"), T0) is not None


async def test_update_of_an_unknown_key_raises(store: Keys, alice: str) -> None:
    with pytest.raises(ApiKeyNotFound):
        await store.update(make_key(alice))


async def test_add_usage_accumulates_and_keeps_the_latest_use(store: Keys, alice: str) -> None:
    one, two = make_key(alice), make_key(alice)
    await store.add(one)
    await store.add(two)
    t1, t2 = T0 + timedelta(seconds=1), T0 + timedelta(seconds=2)

    await store.add_usage({one.id: KeyUsage(3, t2), two.id: KeyUsage(1, t1)})
    await store.add_usage({one.id: KeyUsage(4, t1)})  # an older flush arriving late

    first, second = await store.get(one.id), await store.get(two.id)
    assert first is not None and second is not None
    assert (first.total_requests, first.last_used_at) == (7, t2)
    assert (second.total_requests, second.last_used_at) == (1, t1)


async def test_add_usage_ignores_unknown_keys_and_empty_batches(store: Keys, alice: str) -> None:
    key = make_key(alice)
    await store.add(key)

    await store.add_usage({})
    await store.add_usage({new_id(): KeyUsage(9, T0), key.id: KeyUsage(2, T0.astimezone(PLUS_8))})

    stored = await store.get(key.id)
    assert stored is not None
    assert stored.total_requests == 2
    assert stored.last_used_at == T0 and stored.last_used_at.utcoffset() == timedelta(0)


async def test_add_usage_counts_large_totals(store: Keys, alice: str) -> None:
    key = make_key(alice)
    await store.add(key)

    await store.add_usage({key.id: KeyUsage(3_000_000_000, T0)})
    await store.add_usage({key.id: KeyUsage(3_000_000_000, T0)})

    stored = await store.get(key.id)
    assert stored is not None and stored.total_requests == 6_000_000_000


async def test_concurrent_flushes_lose_nothing(store: Keys, alice: str) -> None:
    """Several processes flush the same keys at once (in any order): every request counts
    and nobody deadlocks."""
    keys = [make_key(alice) for _ in range(5)]
    for key in keys:
        await store.add(key)

    def batch(n: int) -> dict[str, KeyUsage]:
        chosen = keys if n % 2 else list(reversed(keys))
        return {key.id: KeyUsage(1, T0 + timedelta(seconds=n)) for key in chosen}

    await asyncio.gather(*(store.add_usage(batch(n)) for n in range(20)))

    for key in keys:
        stored = await store.get(key.id)
        assert stored is not None
        assert stored.total_requests == 20
        assert stored.last_used_at == T0 + timedelta(seconds=19)


async def test_count_for_user_ignores_revoked_keys(store: Keys, alice: str, bob: str) -> None:
    await store.add(make_key(alice))
    await store.add(make_key(alice, enabled=False))
    await store.add(make_key(alice, expires_at=T0 - timedelta(days=1)))
    revoked = make_key(alice)
    await store.add(revoked)
    await store.add(make_key(bob))
    assert await store.count_for_user(alice) == 4

    await store.update(revoked.with_changes(revoked_at=T0))

    assert await store.count_for_user(alice) == 3
    assert await store.count_for_user(bob) == 1
    assert await store.count_for_user(new_id()) == 0


# -- SQL specifics -----------------------------------------------------------------------


async def test_adding_a_key_for_an_unknown_user_raises(store: Keys) -> None:
    with pytest.raises(UserNotFound):
        await store.add(make_key(new_id()))


async def test_a_duplicate_hash_is_refused(store: Keys, alice: str) -> None:
    key = make_key(alice)
    await store.add(key)
    # IntegrityError on SQL, ValueError in memory: a bug either way, not a domain error.
    with pytest.raises(Exception):
        await store.add(make_key(alice, key_hash=key.key_hash))
    assert ids(await store.list_for_user(alice)) == [key.id]


@pytest.mark.backends("sqlite", "postgres")
async def test_sql_keys_go_with_their_owner(backend: Backend, store: Keys, alice: str) -> None:
    key = make_key(alice)
    await store.add(key)

    assert backend.engine is not None
    async with backend.engine.begin() as conn:
        await conn.execute(text("DELETE FROM users WHERE id = :id"), {"id": alice})

    assert await store.get(key.id) is None
