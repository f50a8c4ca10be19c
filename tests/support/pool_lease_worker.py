"""One "API process" for the two-process pool test: the application's pool service on
the shared database and Redis, making ``--calls`` upstream calls with leased credentials
(``--parallel`` at a time), each to the fake upstream at ``--upstream``.

Run as ``python -m tests.support.pool_lease_worker``; prints ``done <calls> <refused>``."""

from __future__ import annotations

import argparse
import asyncio
import os

import httpx
from redis.asyncio import Redis

from domain.clock import SystemClock
from domain.leases import LeaseResult
from gateway.adapters import Adapters
from gateway.bootstrap import build_services
from persistence.sql.engine import create_engine
from tests.support.services import offline, unit_settings


async def run(upstream: str, calls: int, parallel: int) -> tuple[int, int]:
    engine = create_engine(os.environ["KARPOV_DATABASE_URL"])
    redis = Redis.from_url(os.environ["KARPOV_REDIS_URL"])
    clock = SystemClock()
    adapters = Adapters.sql(engine, redis, quota_redis=redis, clock=clock, outbound=offline())
    pool = build_services(adapters, unit_settings(), clock).pool
    remaining = calls
    refused = 0
    async with httpx.AsyncClient(timeout=30) as http:

        async def caller() -> None:
            nonlocal remaining, refused
            while remaining > 0:
                remaining -= 1  # this task makes the next call
                lease = await pool.acquire("netease", "song")
                while lease is None:
                    refused += 1
                    await asyncio.sleep(0.002)
                    lease = await pool.acquire("netease", "song")
                try:
                    headers = {"X-Credential": lease.secret.credential_id}
                    (await http.get(upstream, headers=headers)).raise_for_status()
                finally:
                    await pool.release(lease, LeaseResult.OK)

        await asyncio.gather(*(caller() for _ in range(parallel)))
    await redis.aclose()
    await engine.dispose()
    return calls, refused


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=6)
    args = parser.parse_args()
    done, refused = asyncio.run(run(args.upstream, args.calls, args.parallel))
    print(f"done {done} {refused}", flush=True)


if __name__ == "__main__":
    main()
