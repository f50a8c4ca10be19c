"""Contract of ``OneTimeTokenStore``, run against every implementation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete

from domain.accounts.model import OneTimeToken, TokenPurpose
from domain.accounts.ports import OneTimeTokenStore
from domain.ids import new_token, token_hash
from persistence.sql.tables import users
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_8 = timezone(timedelta(hours=8))
ACTIVATION = TokenPurpose.ACTIVATION
RESET = TokenPurpose.PASSWORD_RESET


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def store(backend: Backend) -> OneTimeTokenStore:
    return backend.adapters.one_time_tokens


def make_token(user_id: str, purpose: TokenPurpose = ACTIVATION) -> OneTimeToken:
    return OneTimeToken(
        token_hash=token_hash(new_token()),
        purpose=purpose,
        user_id=user_id,
        created_at=T0,
        expires_at=T0 + timedelta(hours=24),
    )


async def test_an_added_token_round_trips(store: OneTimeTokenStore, alice: str) -> None:
    token = OneTimeToken(
        token_hash=token_hash(new_token()),
        purpose=RESET,
        user_id=alice,
        created_at=datetime(2026, 3, 2, 8, 30, 0, 654321, tzinfo=PLUS_8),
        expires_at=datetime(2026, 3, 2, 9, 0, 0, 654321, tzinfo=PLUS_8),
    )
    await store.add(token)

    stored = await store.get(token.token_hash, RESET)

    assert stored == token
    assert stored is not None
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.expires_at == datetime(2026, 3, 2, 1, 0, 0, 654321, tzinfo=UTC)
    assert stored.used_at is None


async def test_unknown_token_is_none_and_cannot_be_used(store: OneTimeTokenStore) -> None:
    assert await store.get("0" * 64, ACTIVATION) is None
    assert await store.use("0" * 64, ACTIVATION, T0) is False


async def test_a_token_is_used_once(store: OneTimeTokenStore, alice: str) -> None:
    token = make_token(alice)
    await store.add(token)
    used_at = T0 + timedelta(minutes=5)

    assert await store.use(token.token_hash, ACTIVATION, used_at) is True
    assert await store.use(token.token_hash, ACTIVATION, used_at + timedelta(seconds=1)) is False

    stored = await store.get(token.token_hash, ACTIVATION)
    assert stored is not None and stored.used_at == used_at


async def test_purposes_are_isolated(store: OneTimeTokenStore, alice: str) -> None:
    activation = make_token(alice, ACTIVATION)
    await store.add(activation)

    assert await store.get(activation.token_hash, RESET) is None
    assert await store.use(activation.token_hash, RESET, T0) is False
    assert await store.revoke_for_user(alice, RESET, T0) == 0

    stored = await store.get(activation.token_hash, ACTIVATION)
    assert stored is not None and stored.used_at is None
    assert await store.use(activation.token_hash, ACTIVATION, T0) is True


async def test_revoke_for_user_marks_only_their_unused_tokens_of_the_purpose(
    store: OneTimeTokenStore, alice: str, bob: str
) -> None:
    used = make_token(alice, RESET)
    live = [make_token(alice, RESET) for _ in range(2)]
    other_purpose = make_token(alice, ACTIVATION)
    other_user = make_token(bob, RESET)
    for token in (used, *live, other_purpose, other_user):
        await store.add(token)
    await store.use(used.token_hash, RESET, T0)
    revoked_at = T0 + timedelta(hours=1)

    assert await store.revoke_for_user(alice, RESET, revoked_at) == 2

    for token in live:
        stored = await store.get(token.token_hash, RESET)
        assert stored is not None and stored.used_at == revoked_at
        assert await store.use(token.token_hash, RESET, revoked_at) is False
    first = await store.get(used.token_hash, RESET)
    assert first is not None and first.used_at == T0  # already used: unchanged
    for token in (other_purpose, other_user):
        stored = await store.get(token.token_hash, token.purpose)
        assert stored is not None and stored.used_at is None
    assert await store.revoke_for_user(alice, RESET, revoked_at) == 0


async def test_concurrent_uses_have_exactly_one_winner(
    store: OneTimeTokenStore, alice: str
) -> None:
    token = make_token(alice)
    await store.add(token)
    # Warm the connection pool so the uses race rather than queue for connections.
    await asyncio.gather(*(store.get(token.token_hash, ACTIVATION) for _ in range(10)))

    outcomes = await asyncio.gather(
        *(store.use(token.token_hash, ACTIVATION, T0 + timedelta(seconds=i)) for i in range(10))
    )

    assert sorted(outcomes) == [False] * 9 + [True]


@pytest.mark.backends("sqlite", "postgres")
async def test_sql_tokens_go_with_their_user(
    backend: Backend, store: OneTimeTokenStore, alice: str
) -> None:
    token = make_token(alice)
    await store.add(token)

    assert backend.engine is not None
    async with backend.engine.begin() as conn:
        await conn.execute(delete(users).where(users.c.id == alice))

    assert await store.get(token.token_hash, ACTIVATION) is None
