"""Contract of ``MusicCache``: Redis (across processes) and the in-process LRU."""

from __future__ import annotations

import asyncio

import pytest

from domain.clock import Clock, ManualClock
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "redis")


@pytest.fixture
def clock() -> Clock:
    return ManualClock()


async def test_an_entry_is_kept_until_its_ttl(backend: Backend, clock: ManualClock) -> None:
    cache = backend.adapters.music_cache
    assert await cache.get("music:v1:local:song:a") is None
    await cache.set("music:v1:local:song:a", b"\x00answer\xff", 0.3)
    assert await cache.get("music:v1:local:song:a") == b"\x00answer\xff"
    await cache.set("music:v1:local:song:b", b"gone", 0)  # never kept
    assert await cache.get("music:v1:local:song:b") is None
    # Redis expires by its own clock, the in-process cache by the bundle's.
    clock.advance(0.4)
    await asyncio.sleep(0.4 if backend.kind == "redis" else 0)
    assert await cache.get("music:v1:local:song:a") is None


@pytest.mark.backends("redis")
async def test_redis_entries_are_shared_and_prefixed(backend: Backend) -> None:
    assert backend.redis is not None
    await backend.adapters.music_cache.set("music:v1:local:search:x", b"1", 60)
    assert await backend.redis.get("karpov:music:v1:local:search:x") == b"1"
    ttl = await backend.redis.pttl("karpov:music:v1:local:search:x")
    assert 59_000 < ttl <= 60_000


async def test_an_entry_comes_with_the_seconds_it_has_left(
    backend: Backend, clock: ManualClock
) -> None:
    """perf (issue 18): what the music service needs to keep an answer in-process no
    longer than the shared entry lives."""
    cache = backend.adapters.music_cache
    assert await cache.get_with_ttl("music:v1:local:song:t") is None
    await cache.set("music:v1:local:song:t", b"v", 60)
    clock.advance(10)
    found = await cache.get_with_ttl("music:v1:local:song:t")
    assert found is not None and found[0] == b"v"
    if backend.kind == "redis":  # Redis counts by its own clock
        assert 59 < found[1] <= 60
    else:
        assert found[1] == pytest.approx(50)
