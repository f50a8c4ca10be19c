"""Contract of ``ThrottleStore``, run against every implementation."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from domain.security.model import BackoffRule, WindowRule
from domain.security.ports import ThrottleStore
from persistence.redis.throttle import RedisThrottleStore
from tests.contract.conftest import Backend

NOW = 1_767_225_600.25  # epoch seconds, with a fraction


pytestmark = pytest.mark.backends("memory", "redis")


@pytest.fixture
def store(backend: Backend) -> ThrottleStore:
    return backend.adapters.throttle


def rule(key: str = "login:alice", **overrides: float) -> BackoffRule:
    settings: dict[str, float] = {"free": 2, "base_seconds": 1.5, "max_seconds": 10.0}
    settings.update(overrides)
    return BackoffRule(
        key,
        free=int(settings["free"]),
        base_seconds=settings["base_seconds"],
        max_seconds=settings["max_seconds"],
        reset_after=int(settings.get("reset_after", 3600)),
    )


# -- back-off ----------------------------------------------------------------------------


async def test_free_attempts_then_a_wait_of_base_seconds(store: ThrottleStore) -> None:
    r = rule()

    assert await store.acquire([r], NOW) == 0
    assert await store.acquire([r], NOW) == 0
    assert await store.attempts(r.key) == 2

    assert await store.acquire([r], NOW) == pytest.approx(1.5)
    assert await store.acquire([r], NOW + 1.0) == pytest.approx(0.5)
    assert await store.attempts(r.key) == 2  # a refused attempt is not counted


async def test_the_wait_doubles_after_each_attempt_and_is_capped(store: ThrottleStore) -> None:
    r = rule()
    now = NOW
    for _ in range(2):
        assert await store.acquire([r], now) == 0

    waits = []
    for _ in range(6):
        wait = await store.acquire([r], now)
        waits.append(wait)
        now += wait  # wait exactly as long as told: then the attempt is allowed
        assert await store.acquire([r], now) == 0

    assert waits == pytest.approx([1.5, 3.0, 6.0, 10.0, 10.0, 10.0])
    assert await store.attempts(r.key) == 8


async def test_the_wait_counts_from_the_last_attempt(store: ThrottleStore) -> None:
    r = rule(free=1, base_seconds=4.0)
    assert await store.acquire([r], NOW) == 0

    assert await store.acquire([r], NOW + 3.0) == pytest.approx(1.0)
    assert await store.acquire([r], NOW + 4.0) == 0
    assert await store.acquire([r], NOW + 4.0) == pytest.approx(8.0)


async def test_reset_forgets_the_attempts(store: ThrottleStore) -> None:
    r = rule()
    for _ in range(2):
        await store.acquire([r], NOW)
    assert await store.acquire([r], NOW) > 0

    await store.reset(r.key)

    assert await store.attempts(r.key) == 0
    assert await store.acquire([r], NOW) == 0
    await store.reset("never-seen")  # no error


async def test_refund_takes_back_one_attempt_never_below_zero(store: ThrottleStore) -> None:
    r = rule(free=3)
    for _ in range(3):
        await store.acquire([r], NOW)

    await store.refund(r.key)
    assert await store.attempts(r.key) == 2
    assert await store.acquire([r], NOW) == 0  # the refunded attempt is free again

    for _ in range(5):
        await store.refund(r.key)
    assert await store.attempts(r.key) == 0
    await store.refund("never-seen")
    assert await store.attempts("never-seen") == 0
    assert await store.acquire([r], NOW) == 0
    assert await store.attempts(r.key) == 1


async def test_attempts_are_forgotten_after_reset_after(store: ThrottleStore) -> None:
    r = rule(reset_after=60)
    for _ in range(2):
        await store.acquire([r], NOW)
    assert await store.acquire([r], NOW + 1.0) > 0

    assert await store.acquire([r], NOW + 60.0) == 0
    assert await store.attempts(r.key) == 1


async def test_one_blocked_key_counts_nothing_on_the_others(store: ThrottleStore) -> None:
    user = rule("login:user", free=1, base_seconds=5.0)
    address = rule("login:ip", free=10)
    other = rule("login:other", free=1, base_seconds=2.0)
    assert await store.acquire([user], NOW) == 0

    wait = await store.acquire([address, user, other], NOW + 1.0)

    assert wait == pytest.approx(4.0)
    assert await store.attempts(address.key) == 0
    assert await store.attempts(other.key) == 0
    assert await store.attempts(user.key) == 1


async def test_the_longest_wait_is_returned(store: ThrottleStore) -> None:
    short = rule("a", free=1, base_seconds=2.0)
    long = rule("b", free=1, base_seconds=7.0)
    assert await store.acquire([short, long], NOW) == 0

    assert await store.acquire([short, long], NOW) == pytest.approx(7.0)


async def test_an_allowed_attempt_counts_on_every_key(store: ThrottleStore) -> None:
    rules = [rule("x"), rule("y"), rule("z")]

    assert await store.acquire(rules, NOW) == 0
    assert await store.acquire(rules[:2], NOW) == 0

    assert [await store.attempts(r.key) for r in rules] == [2, 2, 1]


async def test_concurrent_acquires_allow_exactly_the_free_attempts(
    store: ThrottleStore,
) -> None:
    r = rule(free=5, base_seconds=1.0)

    waits = await asyncio.gather(*(store.acquire([r], NOW) for _ in range(20)))

    assert sorted(waits)[:6] == [0, 0, 0, 0, 0, pytest.approx(1.0)]
    assert sum(1 for w in waits if w == 0) == 5
    assert await store.attempts(r.key) == 5


async def test_redis_backoff_keys_expire_after_reset_after(redis_client: Redis) -> None:
    store = RedisThrottleStore(redis_client, prefix="test:")
    await store.acquire([rule("login:alice", reset_after=120)], NOW)

    ttl = await redis_client.ttl("test:thr:login:alice")

    assert 110 <= ttl <= 120


# -- windows -----------------------------------------------------------------------------


async def test_window_allows_limit_hits_then_reports_when_it_reopens(
    store: ThrottleStore,
) -> None:
    w = WindowRule("code:email:a@example.com", limit=3, window_seconds=60)

    assert [await store.hit([w], NOW + i) for i in range(3)] == [0, 0, 0]
    assert await store.hit([w], NOW + 10) == pytest.approx(50.0)
    assert await store.hit([w], NOW + 59.5) == pytest.approx(0.5)

    assert await store.hit([w], NOW + 60) == 0  # a new window starts at this hit
    assert await store.hit([w], NOW + 61) == 0
    assert await store.hit([w], NOW + 62) == 0
    assert await store.hit([w], NOW + 63) == pytest.approx(57.0)


async def test_one_full_window_counts_nothing_on_the_others(store: ThrottleStore) -> None:
    cooldown = WindowRule("cooldown", limit=1, window_seconds=30)
    hourly = WindowRule("hourly", limit=2, window_seconds=3600)
    assert await store.hit([cooldown, hourly], NOW) == 0

    assert await store.hit([cooldown, hourly], NOW + 10) == pytest.approx(20.0)

    # The refused hit was not counted on the hourly window: two more fit after the cooldown.
    assert await store.hit([cooldown, hourly], NOW + 30) == 0
    assert await store.hit([hourly], NOW + 31) == pytest.approx(3569.0)


async def test_window_limit_zero_always_refuses(store: ThrottleStore) -> None:
    assert await store.hit([WindowRule("closed", limit=0, window_seconds=60)], NOW) == 60.0


async def test_concurrent_hits_allow_exactly_the_limit(store: ThrottleStore) -> None:
    w = WindowRule("code:ip:198.51.100.4", limit=5, window_seconds=3600)

    waits = await asyncio.gather(*(store.hit([w], NOW) for _ in range(20)))

    assert sum(1 for wait in waits if wait == 0) == 5
    assert all(wait == pytest.approx(3600.0) for wait in waits if wait != 0)


async def test_redis_window_keys_expire_with_the_window(redis_client: Redis) -> None:
    store = RedisThrottleStore(redis_client, prefix="test:")
    await store.hit([WindowRule("code:ip:x", limit=5, window_seconds=300)], NOW)

    ttl = await redis_client.ttl("test:win:code:ip:x")

    assert 290 <= ttl <= 300


async def test_empty_rule_lists_allow(store: ThrottleStore) -> None:
    assert await store.acquire([], NOW) == 0
    assert await store.hit([], NOW) == 0
