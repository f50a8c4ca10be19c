"""Contract of ``OAuthStateStore`` (started OAuth flows), run against every implementation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.ids import new_id, new_token, token_hash
from domain.oauth.model import OAuthIntent, OAuthState
from domain.oauth.ports import OAuthStateStore
from tests.contract.conftest import Backend

PLUS_8 = timezone(timedelta(hours=8))


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres", "redis")


@pytest.fixture
def store(backend: Backend) -> OAuthStateStore:
    return backend.adapters.oauth_states


def make_state(*, ttl: timedelta = timedelta(minutes=15), **changes: object) -> OAuthState:
    """A flow started now by the wall clock (Redis expires keys by it)."""
    created = datetime.now(UTC)
    state = OAuthState(
        state_hash=token_hash(new_token()),
        provider="linuxdo",
        intent=OAuthIntent.BIND,
        binding_hash=token_hash(new_token()),
        nonce=new_token(16),
        created_at=created,
        expires_at=created + ttl,
        next_url="/dashboard?tab=keys",
        user_id=new_id(),
    )
    return replace(state, **changes)  # type: ignore[arg-type]


def to_ms(value: datetime) -> datetime:
    assert value.tzinfo is not None and value.utcoffset() == timedelta(0), value
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def assert_same(actual: OAuthState | None, expected: OAuthState) -> None:
    assert actual is not None
    assert replace(
        actual, created_at=to_ms(actual.created_at), expires_at=to_ms(actual.expires_at)
    ) == replace(
        expected,
        created_at=to_ms(expected.created_at.astimezone(UTC)),
        expires_at=to_ms(expected.expires_at.astimezone(UTC)),
    )


async def test_a_flow_is_taken_once(store: OAuthStateStore) -> None:
    state = make_state()
    await store.add(state)

    assert_same(await store.take(state.state_hash), state)
    assert await store.take(state.state_hash) is None


async def test_an_unknown_state_is_none(store: OAuthStateStore) -> None:
    assert await store.take(token_hash(new_token())) is None


async def test_optional_fields_may_be_empty(store: OAuthStateStore) -> None:
    state = make_state(next_url=None, user_id=None, intent=OAuthIntent.LOGIN)
    await store.add(state)

    assert_same(await store.take(state.state_hash), state)


async def test_aware_datetimes_come_back_as_utc(store: OAuthStateStore) -> None:
    created = datetime.now(PLUS_8).replace(microsecond=654321)
    state = make_state(created_at=created, expires_at=created + timedelta(minutes=15))
    await store.add(state)

    taken = await store.take(state.state_hash)

    assert_same(taken, state)
    assert taken is not None and taken.expires_at.utcoffset() == timedelta(0)


async def test_a_duplicate_state_is_refused(store: OAuthStateStore) -> None:
    state = make_state()
    await store.add(state)

    with pytest.raises(Exception):  # each backend has its own error
        await store.add(replace(state, provider="corp"))

    assert_same(await store.take(state.state_hash), state)


async def test_flows_are_independent(store: OAuthStateStore) -> None:
    first, second = make_state(), make_state(provider="corp")
    await store.add(first)
    await store.add(second)

    assert_same(await store.take(second.state_hash), second)
    assert_same(await store.take(first.state_hash), first)


async def test_concurrent_takes_have_exactly_one_winner(store: OAuthStateStore) -> None:
    state = make_state()
    await store.add(state)

    taken = await asyncio.gather(*(store.take(state.state_hash) for _ in range(8)))

    assert sum(t is not None for t in taken) == 1


async def test_a_flow_expired_before_a_later_add_is_gone(store: OAuthStateStore) -> None:
    """Stores drop expired flows (SQL and memory when the next one is added, Redis by TTL);
    a flow that has not expired yet stays."""
    old = make_state(ttl=timedelta(seconds=-1))
    live = make_state()
    await store.add(old)
    await store.add(live)

    assert await store.take(old.state_hash) is None
    assert_same(await store.take(live.state_hash), live)
