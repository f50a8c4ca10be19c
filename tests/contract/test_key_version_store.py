"""Contract of ``KeyVersionStore``, run against every implementation."""

from __future__ import annotations

import asyncio
import os

import pytest

from domain.keyring import KeyEncryptionKey, WrappedKey
from domain.keyring_service import KeyRingProvider, KeyVersionStore
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def store(backend: Backend) -> KeyVersionStore:
    return backend.adapters.key_versions


def wrapped(version: int) -> WrappedKey:
    return WrappedKey(version=version, wrapped=os.urandom(60))


async def test_an_empty_store_lists_nothing(store: KeyVersionStore) -> None:
    assert await store.list_versions() == []


async def test_versions_are_listed_in_order(store: KeyVersionStore) -> None:
    keys = [wrapped(3), wrapped(1), wrapped(2)]
    for key in keys:
        assert await store.add_version(key) is True

    listed = await store.list_versions()

    assert listed == sorted(keys, key=lambda k: k.version)
    assert all(type(key.wrapped) is bytes for key in listed)


async def test_a_duplicate_version_is_false_and_keeps_the_first(store: KeyVersionStore) -> None:
    first = wrapped(1)
    assert await store.add_version(first) is True

    assert await store.add_version(wrapped(1)) is False

    assert await store.list_versions() == [first]


async def test_concurrent_adds_of_one_version_have_exactly_one_winner(
    store: KeyVersionStore,
) -> None:
    contenders = [wrapped(7) for _ in range(5)]
    await asyncio.gather(*(store.list_versions() for _ in range(5)))  # warm the pool

    outcomes = await asyncio.gather(*(store.add_version(key) for key in contenders))

    assert sorted(outcomes) == [False] * 4 + [True]
    [winner] = [key for key, won in zip(contenders, outcomes, strict=True) if won]
    assert await store.list_versions() == [winner]


async def test_the_key_ring_provider_initialises_and_rotates_through_the_store(
    store: KeyVersionStore,
) -> None:
    kek = KeyEncryptionKey(bytes(range(32)))
    provider = KeyRingProvider(store, kek)

    blob = await provider.encrypt(b"JBSWY3DPEHPK3PXP", b"totp:alice")
    assert [key.version for key in await store.list_versions()] == [1]

    assert await provider.add_version() == 2

    # Another process (a fresh provider) reads both versions back from the store.
    other = KeyRingProvider(store, kek)
    assert (await other.ring()).versions == [1, 2]
    assert await other.decrypt(blob, b"totp:alice") == b"JBSWY3DPEHPK3PXP"
