"""issue 18: the quota gate on Redis Cluster (``RedisClusterQuotaGate``), on our own three
primaries (``tests.support.redis_cluster``): the whole ``QuotaGate`` contract again, users
whose state lives on every primary, exact limits under concurrency, a primary emptied (only
its users lose their state, and only they are restored from the roll-ups), and a request
with limits of mixed owners refused as the programming error it is."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster

from domain.clock import ManualClock
from domain.quota.coalescing import CoalescingGate
from domain.quota.errors import QuotaExceeded, QuotaUnavailable
from domain.quota.gate import CounterLimit, Limit, LimitKind, QuotaStoreUnavailable, RateLimit
from domain.quota.metering import Metered
from domain.quota.plans import Plan
from domain.quota.ports import QuotaGate
from domain.quota.service import Caller, QuotaService
from gateway.container import quota_gate_client
from persistence.memory.apikeys import MemoryPlanCatalog
from persistence.redis import quota as quota_module
from persistence.redis.quota import RedisClusterQuotaGate, owner_slot, quota_gate
from tests.contract import test_quota_gate as contract
from tests.support.redis_cluster import OwnRedisCluster

NOW = contract.NOW

# Every contract test that takes only the ``gate`` (the in-process specifics aside) runs
# here against the cluster gate: a contract limit's owner is "" (one slot for them all).
globals().update(contract.gate_only_tests())


@pytest.fixture
async def cluster(redis_cluster: OwnRedisCluster) -> AsyncIterator[RedisCluster]:
    """The deployment's cluster client (``KARPOV_QUOTA_REDIS_URL=redis+cluster://…``), on
    primaries emptied before the test."""
    client = quota_gate_client(redis_cluster.url, 5.0)
    assert isinstance(client, RedisCluster)
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield client
    await client.aclose()


@pytest.fixture
def gate(cluster: RedisCluster) -> QuotaGate:
    return RedisClusterQuotaGate(cluster)


def node_of(cluster: RedisCluster, user: str) -> ClusterNode:
    node = cluster.get_node_from_key(f"karpov:quota:{{u:{user}}}:x")
    assert node is not None
    return node


def spread_users(cluster: RedisCluster, per_primary: int = 4) -> list[str]:
    """``per_primary`` users on each primary (12 on three)."""
    primaries = cluster.get_primaries()
    assert len(primaries) == 3
    taken: Counter[str] = Counter()
    users: list[str] = []
    i = 0
    while len(users) < per_primary * len(primaries):
        user, i = f"user-{i}", i + 1
        node = node_of(cluster, user).name
        if taken[node] < per_primary:
            taken[node] += 1
            users.append(user)
    return users


SEVEN = Plan("seven", "Seven", "", 0, "CNY", "monthly", 0, 7, 1000, 80, False, 0, 9)
"""Seven units a day (no QPS limit): what the concurrent bursts measure."""


class RollUps:
    """The usage roll-ups: the units each user was admitted (``UsedUnits``)."""

    def __init__(self) -> None:
        self.units: Counter[str] = Counter()

    async def units_by_user(self, day: date) -> tuple[dict[str, int], dict[str, int]]:
        return dict(self.units), dict(self.units)


def service(gate: QuotaGate, rollups: RollUps) -> QuotaService:
    from zoneinfo import ZoneInfo

    return QuotaService(gate, MemoryPlanCatalog([SEVEN]), ManualClock(),
                        timezone=ZoneInfo("UTC"), used=rollups)  # fmt: skip


def caller(user: str) -> Caller:
    """A user calling with an API key: the key's daily count and the plan's day and month
    (limits of two subjects, one owner)."""
    return Caller(user, SEVEN.id, key_id=f"key-of-{user}", key_daily=100)


async def burst(quota: QuotaService, users: list[str], each: int, rollups: RollUps) -> Counter[str]:
    """``each`` concurrent metered calls per user, all users at once: who was admitted."""
    call = Metered("song.detail", 1)

    async def one(user: str) -> str | None:
        try:
            await quota.admit(caller(user), [call])
        except QuotaExceeded:
            return None
        rollups.units[user] += 1
        return user

    done = await asyncio.gather(*(one(user) for user in users for _ in range(each)))
    return Counter(user for user in done if user is not None)


@pytest.mark.parametrize("coalesced", [False, True], ids=["one-call-each", "coalesced"])
async def test_twelve_users_on_three_primaries_are_admitted_exactly_their_limit(
    cluster: RedisCluster, coalesced: bool
) -> None:
    """Alone, and behind the deployment's tick coalescing (``CoalescingGate``)."""
    users = spread_users(cluster)
    rollups = RollUps()
    gate: QuotaGate = quota_gate(cluster, restorable=True)
    quota = service(CoalescingGate(gate) if coalesced else gate, rollups)
    assert await quota.restore_if_lost() is True  # a new cluster: every slot from the roll-ups

    admitted = await burst(quota, users, 70, rollups)  # 840 admissions at once

    assert admitted == dict.fromkeys(users, 7)
    # Each user's keys (of two subjects) live together on its primary, on all three.
    for node in cluster.get_primaries():
        mine = [user for user in users if node_of(cluster, user).name == node.name]
        assert len(mine) == 4
        client = Redis(host=node.host, port=int(node.port))
        try:
            names = {name.decode() for name in await client.keys("karpov:quota:{u:*")}
        finally:
            await client.aclose()
        assert {name.split("}")[0].removeprefix("karpov:quota:{u:") for name in names} == set(mine)


async def test_an_emptied_primary_loses_only_its_users_and_only_they_are_restored(
    cluster: RedisCluster, redis_cluster: OwnRedisCluster
) -> None:
    users = spread_users(cluster)
    rollups = RollUps()
    gate = quota_gate(cluster, restorable=True)
    assert isinstance(gate, RedisClusterQuotaGate)
    quota = service(gate, rollups)
    assert await quota.restore_if_lost() is True
    assert await quota.restore_if_lost() is False  # whole: not checked again
    assert await burst(quota, users, 3, rollups) == dict.fromkeys(users, 3)

    wiped = cluster.get_primaries()[0]
    lost = [user for user in users if node_of(cluster, user).name == wiped.name]
    kept = [user for user in users if user not in lost]
    direct = {
        node.name: Redis(host=node.host, port=int(node.port)) for node in cluster.get_primaries()
    }
    try:
        await direct[wiped.name].flushall()  # that primary restarted without persistence
        assert sorted(await gate.lost_slots()) == sorted(
            slot for slot, node in enumerate(_slot_owners(cluster)) if node == wiped.name
        )
        # The other primaries' users carry on; the emptied one's are refused, not let in fresh.
        assert await burst(quota, kept[:1], 1, rollups) == {kept[0]: 1}
        with pytest.raises(QuotaUnavailable):
            await quota.admit(caller(lost[0]), [Metered("song.detail", 1)])

        for client in direct.values():
            await client.config_resetstat()
        assert await quota.restore_if_lost() is True  # after that refusal: restored
        restores = {name: await _evals(client) for name, client in direct.items()}
    finally:
        for client in direct.values():
            await client.aclose()
    # Only the emptied primary was written to: one restore per slot it serves.
    lost_slots = sum(1 for node in _slot_owners(cluster) if node == wiped.name)
    assert restores == {name: lost_slots if name == wiped.name else 0 for name in direct}

    # The limits stay exact: 7 a day for everyone, wherever their state was.
    again = await burst(quota, users, 70, rollups)
    assert again == {user: 4 for user in lost} | {kept[0]: 3} | {u: 4 for u in kept[1:]}
    assert rollups.units == dict.fromkeys(users, 7)
    # The key's own daily count is no plan usage (not in the roll-ups): the emptied
    # primary's users lost theirs, the others kept it.
    for user in users:
        status = await quota.status(caller(user))
        [key_daily] = [r for r in status.limits if r.name is LimitKind.KEY_DAILY]
        assert key_daily.remaining == (100 - 4 if user in lost else 100 - 7), user


def _slot_owners(cluster: RedisCluster) -> list[str]:
    """The name of the primary serving each slot."""
    return [cluster.nodes_manager.slots_cache[slot][0].name for slot in range(16384)]


async def _evals(client: Redis) -> int:
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_eval", {}).get("calls", 0))


async def test_limits_of_mixed_owners_in_one_request_are_a_programming_error(
    cluster: RedisCluster,
) -> None:
    gate = RedisClusterQuotaGate(cluster, restorable=True)
    mixed: list[Limit] = [
        RateLimit(LimitKind.KEY_RPM, "key:k1", 10, 60.0, owner="alice"),
        CounterLimit(LimitKind.PLAN_DAILY, "user:bob", 10, "20260101", NOW + 3600, owner="bob"),
    ]
    assert owner_slot("alice") != owner_slot("bob")

    with pytest.raises(ValueError, match="different owners"):
        await gate.reserve(mixed, NOW)
    with pytest.raises(ValueError, match="different owners"):
        await gate.peek(mixed, NOW)


async def test_each_primary_runs_a_script_it_does_not_know(
    cluster: RedisCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NOSCRIPT on whichever primary a user's slot is on: EVAL there, then on."""
    for script in (quota_module._GATE_SCRIPT, quota_module._REFUND_SCRIPT):
        monkeypatch.setattr(script, "sha", "0" * 40)
    gate = RedisClusterQuotaGate(cluster)
    for user in spread_users(cluster, 1):
        limit = CounterLimit(LimitKind.PLAN_DAILY, f"user:{user}", 2, "d", NOW + 60, owner=user)
        reservation = (await gate.reserve([limit], NOW)).reservation
        assert reservation is not None
        await gate.refund(reservation, NOW)
        assert (await gate.reserve([limit], NOW)).states[0].remaining == 1
        assert (await gate.peek([limit], NOW))[0].remaining == 1


async def test_a_cluster_down_refuses_as_unavailable_and_is_used_again_when_back(
    redis_cluster: OwnRedisCluster, tmp_path: Path
) -> None:
    """Every primary stopped: each decision fails within the gate's timeout as
    ``QuotaStoreUnavailable`` (the configured policy applies); back again (empty, with its
    cluster configuration), the same client finds it without a restart of the process."""
    own = OwnRedisCluster(tmp_path / "own")  # not the session's: this one is stopped
    own.start()
    client = quota_gate_client(own.url, 0.25)
    try:
        assert isinstance(client, RedisCluster)
        gate = RedisClusterQuotaGate(client)
        users = [f"user-{i}" for i in range(12)]

        def daily(user: str) -> list[Limit]:
            return [
                CounterLimit(LimitKind.PLAN_DAILY, f"user:{user}", 5, "d", NOW + 60, owner=user)
            ]

        for user in users:
            assert (await gate.reserve(daily(user), NOW)).allowed
        await asyncio.to_thread(own.stop)
        for user in users:
            started = time.monotonic()
            with pytest.raises(QuotaStoreUnavailable):
                await gate.reserve(daily(user), NOW)
            assert time.monotonic() - started < 3.0
        await asyncio.to_thread(own.restart)
        for user in users:
            [state] = (await gate.reserve(daily(user), NOW)).states
            assert state.remaining == 4  # emptied: a bare gate (no marker) starts again
    finally:
        await client.aclose()
        own.stop()
