"""``python -m bench.quota``: microseconds per quota decision against a Redis ``PING``.

One decision is what a metered API-key request costs the gate: five limits (key RPM, key
daily, plan QPS, plan daily, plan monthly) decided and reserved in one Lua script. Its
floor is one round trip to Redis, so it is measured against a ``PING`` on the same client:
sequential awaits (one request's view, no pipelining), in short interleaved rounds so drift
and other processes hit both alike, medians over the rounds. The target is a ratio of at
most 1.5. Printed alongside: a Lua script that does nothing but read the same five keys (the
floor any one-script design starts from) and the in-process gate's cost per decision.

The limits are far above what the run can use, so every decision is an admission (a
refusal does the same reads and skips the writes: admissions are the dearer case). The
keys live under a namespace of their own and are deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from redis.asyncio import Redis

from bench.load import event_loop_factory
from domain.quota.gate import CounterLimit, Limit, LimitKind, RateLimit
from domain.quota.ports import QuotaGate
from persistence.memory.quota import MemoryQuotaGate
from persistence.redis.quota import RedisQuotaGate

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
TARGET_RATIO = 1.5
ROUNDS = 40
OPS_PER_ROUND = 250
"""Short rounds, many of them: drift and other processes' bursts hit both sides alike."""
WARMUP_OPS = 1000


def request_limits(now: float) -> list[Limit]:
    """A metered call weighing 3 (the original's song URL) with an API key."""
    today = datetime.fromtimestamp(now, UTC).date()
    day_end = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    month_end = day_end + 31 * 86_400.0  # roughly: the bench only needs a bucket in the future
    day, month = today.strftime("%Y%m%d"), today.strftime("%Y-%m")
    key, user = "key:bench", "user:bench"
    big = 10**12  # never refuses within a run
    return [
        RateLimit(LimitKind.KEY_RPM, key, big, 60.0),
        CounterLimit(LimitKind.KEY_DAILY, key, big, day, day_end),
        RateLimit(LimitKind.PLAN_QPS, user, big, 1.0, cost=3),
        CounterLimit(LimitKind.PLAN_DAILY, user, big, day, day_end, cost=3),
        CounterLimit(LimitKind.PLAN_MONTHLY, user, big, month, month_end, cost=3),
    ]


async def per_op_us(op: Callable[[], Awaitable[object]], ops: int) -> float:
    start = time.perf_counter()
    for _ in range(ops):
        await op()
    return (time.perf_counter() - start) / ops * 1e6


def decide_with(gate: QuotaGate, limits: list[Limit]) -> Callable[[], Awaitable[object]]:
    async def decide() -> None:
        decision = await gate.reserve(limits, time.time())
        if not decision.allowed:
            raise RuntimeError(f"the bench's limits were meant never to refuse: {decision}")

    return decide


async def measure(
    redis_url: str, rounds: int = ROUNDS, ops: int = OPS_PER_ROUND
) -> dict[str, float]:
    client = Redis.from_url(redis_url)
    namespace = f"karpov:bench:quota:{secrets.token_hex(4)}"
    limits = request_limits(time.time())
    redis_ops: dict[str, Callable[[], Awaitable[object]]] = {
        "ping": client.ping,
        "floor": await floor_with(client, namespace, limits),
        "decision": decide_with(RedisQuotaGate(client, namespace=namespace), limits),
    }
    decide_in_memory = decide_with(MemoryQuotaGate(), limits)
    per_round: dict[str, list[float]] = {name: [] for name in [*redis_ops, "memory"]}
    try:
        for op in [*redis_ops.values(), decide_in_memory]:
            await per_op_us(op, WARMUP_OPS)
        for i in range(rounds):
            names = list(redis_ops)
            for name in names[i % 3 :] + names[: i % 3]:  # each goes first in turn
                per_round[name].append(await per_op_us(redis_ops[name], ops))
            per_round["memory"].append(await per_op_us(decide_in_memory, ops))
    finally:
        stale = [key async for key in client.scan_iter(match=f"{namespace}:*")]
        if stale:
            await client.delete(*stale)
        await client.aclose()
    median = {name: statistics.median(values) for name, values in per_round.items()}
    return {
        "decision_us": median["decision"],
        "ping_us": median["ping"],
        "ratio": median["decision"] / median["ping"],
        "memory_decision_us": median["memory"],
        "floor_us": median["floor"],
    }


async def floor_with(
    client: Redis, namespace: str, limits: list[Limit]
) -> Callable[[], Awaitable[object]]:
    """The same round trip as a decision, doing nothing: a Lua script that only reads the
    five keys, sent with the same keys and an argument of the same size. What is left of a
    decision above it is the gate's own work, in Redis and in Python."""
    keys = [f"{namespace}:floor:{i}" for i in range(len(limits))]
    argument = bytes(8 * (2 + 4 * len(limits)))
    sha = await client.script_load("redis.call('MGET', unpack(KEYS)) return 0")

    async def floor() -> None:
        await cast(Any, client).evalsha(sha, len(keys), *keys, argument)

    return floor


def run_quota_bench(redis_url: str = DEFAULT_REDIS_URL) -> dict[str, float]:
    """The figures of one run (own event loop), medians in µs: ``decision_us``, ``ping_us``,
    ``ratio`` (decision / ping, target ≤ 1.5), ``memory_decision_us`` (the in-process gate)
    and ``floor_us`` (a do-nothing script with the decision's keys and argument size)."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(measure(redis_url))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quota", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    args = parser.parse_args(argv)
    figures = run_quota_bench(args.redis_url)
    verdict = "meets" if figures["ratio"] <= TARGET_RATIO else "misses"
    print(
        f"quota decision (5 limits, Redis): {figures['decision_us']:8.1f} µs\n"
        f"Redis PING round trip:            {figures['ping_us']:8.1f} µs\n"
        f"ratio decision / PING:            {figures['ratio']:8.2f}  "
        f"({verdict} the target ≤ {TARGET_RATIO})\n"
        f"5-key script doing nothing:       {figures['floor_us']:8.1f} µs\n"
        f"quota decision (in process):      {figures['memory_decision_us']:8.1f} µs"
    )


if __name__ == "__main__":
    main()
