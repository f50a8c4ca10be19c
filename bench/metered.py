"""``python -m bench.metered``: the issue-5 benchmarks.

(a) Requests per second of an API-key-authenticated metered call that does no other work
    (``GET /v1/bench/metered``) against a bare Starlette route answering the same bytes, in
    the same server process and the same run (target ratio >= 0.4). Measured with the
    in-process gate (embedded default) and, when Redis answers, with the Redis gate.
(b) Microseconds per API-key verification on a cache hit (target <= 50 us), in process.
(c) Microseconds per quota decision against a Redis ``PING`` round trip (target <= 1.5x),
    from ``bench.quota``.

A benchmark reports, it does not gate: the exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from redis import Redis

from bench.__main__ import free_port, wait_healthy
from bench.load import Run, event_loop_factory, measure
from bench.metered_server import BARE_PATH, METERED_PATH
from persistence.migrate import upgrade_to_head

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.4
TARGET_VERIFY_US = 50.0
EMAIL = "bench@example.com"
PASSWORD = "Correct-Horse-42-Battery"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
# Limits high enough never to refuse during the run, so every request is admitted, yet
# every one of the five limits is evaluated and charged.
HUGE = 10**9


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.metered", description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--redis-url", default=os.environ.get("KARPOV_BENCH_REDIS_URL", DEFAULT_REDIS)
    )
    return parser.parse_args(argv)


def _redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_timeout=1).ping())
    except Exception:
        return False


def _prepare_database(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(upgrade_to_head(url))
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE plans SET qps = ?, daily_limit = ?, monthly_limit = ? WHERE id = 'free'",
            (HUGE, HUGE, HUGE),
        )
    return url


def _start(port: int, database_url: str, redis_url: str | None, cpu: int | None, log: Path
           ) -> subprocess.Popen[bytes]:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
    env |= {
        "KARPOV_DATABASE_URL": database_url,
        "KARPOV_MASTER_KEY": secrets.token_hex(32),
        "KARPOV_HIBP_MODE": "off",
        "KARPOV_LOG_LEVEL": "warning",
    }
    if redis_url:
        env["KARPOV_REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "bench.metered_server", "--port", str(port)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip


def _api_key(client: httpx.Client) -> str:
    body = {"email": EMAIL, "password": PASSWORD}
    client.get("/v1/config/runtime")  # sets the csrf_token cookie (the double submit)
    csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
    for path in ("/v1/auth/register", "/v1/auth/login"):
        response = client.post(path, json=body, headers=csrf)
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    sid = response.json()["sid"]
    created = client.post(
        "/v1/auth/api-keys",
        json={"name": "bench", "rateLimitRpm": 1_000_000, "rateLimitDaily": HUGE},
        headers={"X-Session-Id": sid},
    )
    if created.status_code != 200:
        raise RuntimeError(f"create key: {created.status_code} {created.text}")
    key = str(created.json()["plaintext"])
    check = client.get(METERED_PATH, headers={"X-API-Key": key})
    bare = client.get(BARE_PATH)
    if check.status_code != 200 or check.json() != bare.json():
        raise RuntimeError(f"bodies differ: {check.status_code} {check.text} / {bare.text}")
    if "RateLimit-Policy" not in check.headers:
        raise RuntimeError("the metered call was not measured against any limit")
    return key


def bench_http(args: argparse.Namespace, redis_url: str | None) -> float:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    label = "Redis gate" if redis_url else "in-process gate"
    if redis_url:
        Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory(prefix="karpov-bench-metered-") as tmp:
        database_url = _prepare_database(Path(tmp) / "karpov.db")
        port = free_port()
        log = Path(tmp) / "server.log"
        server = _start(port, database_url, redis_url, server_cpu, log)
        previous = os.sched_getaffinity(0) if client_cpu is not None else None
        try:
            if client_cpu is not None:
                os.sched_setaffinity(0, {client_cpu})
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
                wait_healthy(client, server)
                key = _api_key(client)
            targets = {"metered": (METERED_PATH, {"X-API-Key": key}), "bare": (BARE_PATH, {})}
            runs: dict[str, list[Run]] = {name: [] for name in targets}
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                for round_ in range(args.rounds):
                    names = list(targets) if round_ % 2 == 0 else list(targets)[::-1]
                    for name in names:
                        path, headers = targets[name]
                        run = runner.run(measure(
                            HOST, port, path, headers, connections=args.connections,
                            warmup=args.warmup, duration=args.duration,
                        ))  # fmt: skip
                        runs[name].append(run)
                        print(f"  {label}, round {round_ + 1}: {name:<8} {run.rps:9.0f} rps"
                              f"  non-2xx {run.non_2xx}", flush=True)  # fmt: skip
        except (OSError, RuntimeError) as error:
            print(f"bench: {error}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
            return 0.0
        finally:
            if previous is not None:
                os.sched_setaffinity(0, previous)
            server.terminate()
            server.wait(10)
    metered = statistics.median(r.rps for r in runs["metered"])
    bare = statistics.median(r.rps for r in runs["bare"])
    ratio = metered / bare if bare else 0.0
    verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW"
    print(f"(a) {label}: metered {metered:.0f} rps / bare {bare:.0f} rps = {ratio:.2f}"
          f"   target >= {TARGET_RATIO}   {verdict}")  # fmt: skip
    return ratio


def bench_verification(iterations: int = 50_000) -> float:
    """Microseconds per verification of a cached key (the hot path of every request)."""
    from domain.accounts.model import Role, User, UserStatus
    from domain.apikeys.format import KeyHasher, display_prefix, generate_key, last4
    from domain.apikeys.model import ApiKey
    from domain.apikeys.verifier import ApiKeyVerifier
    from domain.clock import SystemClock
    from persistence.memory.apikeys import MemoryApiKeyStore
    from persistence.memory.uow import MemoryUnitOfWorkFactory

    async def run() -> float:
        now = datetime.now(UTC)
        hasher = KeyHasher(secrets.token_bytes(32))
        plaintext = generate_key()
        uow = MemoryUnitOfWorkFactory()
        store = MemoryApiKeyStore(uow.api_key_tables)
        key = ApiKey(
            id="k1", user_id="u1", key_hash=hasher.hash(plaintext),
            prefix=display_prefix(plaintext), last4=last4(plaintext), name="bench",
            description="", scopes=("music:read",), ip_allowlist=("203.0.113.0/24",),
            rate_limit_rpm=60, rate_limit_daily=1000, enabled=True, created_at=now,
            updated_at=now,
        )  # fmt: skip
        owner = User("u1", "b@example.com", None, UserStatus.ACTIVE, Role.USER, now, now)
        async with uow() as unit:
            await unit.users.add(owner)
            await unit.api_keys.add(key)
            await unit.commit()

        async def owners(user_id: str) -> User | None:
            return owner

        verifier = ApiKeyVerifier(store=store, owners=owners, hasher=hasher, clock=SystemClock(),
                                  cache_ttl=3600)  # fmt: skip
        await verifier.verify(plaintext, "203.0.113.7")  # warm the cache
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(iterations):
                await verifier.verify(plaintext, "203.0.113.7")
            best = min(best, (time.perf_counter() - start) / iterations * 1e6)
        return best

    micros = asyncio.run(run())
    verdict = "PASS" if micros <= TARGET_VERIFY_US else "ABOVE"
    print(f"(b) key verification, cache hit: {micros:.1f} us   target <= "
          f"{TARGET_VERIFY_US:.0f} us   {verdict}")  # fmt: skip
    return micros


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print("karpov bench (issue 5): API keys and the quota gate")
    bench_verification()
    redis_ok = _redis_answers(args.redis_url)
    if redis_ok:
        from bench.quota import run_quota_bench

        figures = run_quota_bench(args.redis_url)
        print(f"(c) quota decision {figures['decision_us']:.1f} us vs Redis PING "
              f"{figures['ping_us']:.1f} us = {figures['ratio']:.2f}x   target <= 1.5x   "
              f"{'PASS' if figures['ratio'] <= 1.5 else 'ABOVE'}")  # fmt: skip
    else:
        print(f"(c) skipped: Redis at {args.redis_url} does not answer")
    bench_http(args, None)
    if redis_ok:
        bench_http(args, args.redis_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
