"""The persisted-query store: what every backend's bundle wires (Redis with a local LRU
in front; the in-process LRU without Redis)."""

from __future__ import annotations

import socket

import pytest
from redis.asyncio import Redis

from domain.documents.service import sha256_hex
from persistence.memory.documents import LruPersistedQueryStore
from persistence.redis.documents import RedisPersistedQueryStore
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres", "redis")

QUERY = "query Contract { __typename }"
HASH = sha256_hex(QUERY)


async def test_an_unknown_hash_is_none(backend: Backend) -> None:
    assert await backend.adapters.persisted_queries.get("0" * 64) is None


async def test_a_registered_document_is_found_by_its_hash(backend: Backend) -> None:
    store = backend.adapters.persisted_queries
    await store.put(HASH, QUERY)
    assert await store.get(HASH) == QUERY
    await store.put(HASH, QUERY)  # registering again is harmless
    assert await store.get(HASH) == QUERY


@pytest.mark.backends("redis")
async def test_another_process_finds_what_one_registered(backend: Backend) -> None:
    assert backend.redis is not None
    await backend.adapters.persisted_queries.put(HASH, QUERY)
    other = RedisPersistedQueryStore(backend.redis, prefix="karpov:")  # its own LRU
    assert await other.get(HASH) == QUERY
    assert 0 < await backend.redis.ttl(f"karpov:apq:{HASH}") <= 7 * 24 * 3600


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.backends("redis")
async def test_an_unreachable_redis_costs_only_the_cache(backend: Backend) -> None:
    dead = Redis.from_url(f"redis://127.0.0.1:{unused_port()}/0", socket_connect_timeout=0.2)
    local = LruPersistedQueryStore()
    store = RedisPersistedQueryStore(dead, prefix="karpov:", local=local)
    try:
        assert await store.get(HASH) is None  # no exception: a miss
        await store.put(HASH, QUERY)  # kept in this process
        assert await store.get(HASH) == QUERY
    finally:
        await dead.aclose()
