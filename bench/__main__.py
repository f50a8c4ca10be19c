"""``python -m bench`` (``make bench``): the issue-18 cases, each as a ratio to a bare
Starlette route answering the same JSON in the same server process and the same run.

One server process (``bench.server``) pinned to one CPU, the load generator (``bench.load``)
in this process pinned to another, a throw-away SQLite database with the demo catalog, the
quota gate and the music cache in Redis (``--redis-url``; without Redis, in process, and
the figures say so). Each case and its bare route are measured in interleaved rounds (case,
bare, then bare, case, ...) so drift and other processes hit both alike; medians are
reported. Then:

(e) case (a) on two server processes (one per CPU, the load spread over both) against one,
    in interleaved rounds, and whether the limits stayed exact (every admitted call, and
    only those, charged to the key's daily counter);
(f) case (a)'s p99 latency while 10 password logins per second run, against its p99
    without them, in interleaved rounds.

A benchmark reports, it does not gate: the exit code is 0 whether the targets are met or
not. Every line of the summary names the case, its figures, its target and PASS/BELOW.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import cases
from bench.load import Run, event_loop_factory, measure

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
TARGET_TWO_PROCESSES = 1.7
TARGET_LOGIN_P99 = 2.0
LOGINS_PER_SECOND = 10.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds per run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="runs per endpoint (>= 3)")
    parser.add_argument("--cases", default=",".join(cases.CASES), help="e.g. a,b")
    parser.add_argument("--skip-e", action="store_true", help="skip two processes (e)")
    parser.add_argument("--skip-f", action="store_true", help="skip logins (f)")
    parser.add_argument(
        "--redis-url", default=os.environ.get("KARPOV_BENCH_REDIS_URL", DEFAULT_REDIS),
        help="flushed first; default $KARPOV_BENCH_REDIS_URL or " + DEFAULT_REDIS,
    )  # fmt: skip
    return parser.parse_args(argv)


# -- processes ------------------------------------------------------------------------------


def pick_cpus() -> tuple[int | None, int | None]:
    """Server on one CPU, generator on another, so neither steals the other's cycles."""
    if not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(
    port: int, database_url: str, redis_url: str | None, cpu: int | None, log: Path
) -> subprocess.Popen[bytes]:
    """Only our KARPOV_* settings reach the server: a temp database, a random master key
    (so nothing is written under ./var), no breach check (registration needs no network)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
    env |= {
        "KARPOV_DATABASE_URL": database_url,
        "KARPOV_MASTER_KEY": MASTER_KEY,
        "KARPOV_HIBP_MODE": "off",
        "KARPOV_LOG_LEVEL": "warning",
    }
    if redis_url:
        env["KARPOV_REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "bench.server", "--host", HOST, "--port", str(port)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    with log.open("ab") as out:
        # Own session: a terminal Ctrl-C reaches only us, and we stop the server in order.
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


MASTER_KEY = secrets.token_hex(32)
"""One per bench run, shared by its server processes (they read the same database)."""


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def server_cpu_probe(pid: int) -> float | None:
    """The server's user+system CPU seconds from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """Non-idle CPU seconds of the whole machine since boot (Linux); None elsewhere."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # - idle, iowait


def other_load(pids: Callable[[], list[int]]) -> Callable[[], float | None]:
    """Start a meter of the CPU used by processes other than ours (servers, Redis aside);
    calling the result returns it in CPUs (1.0 = one core busy)."""

    def ours() -> float | None:
        machine = machine_busy_seconds()
        servers = [server_cpu_probe(pid) for pid in pids()]
        if machine is None or any(s is None for s in servers):
            return None
        return machine - sum(s for s in servers if s is not None) - time.process_time()

    start, wall = ours(), time.monotonic()

    def stop() -> float | None:
        end = ours()
        if start is None or end is None:
            return None
        return (end - start) / (time.monotonic() - wall)

    return stop


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited ({server.returncode})")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server not ready after 60 s")


def pin(cpus: set[int] | None) -> None:
    if cpus is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus)


# -- figures ------------------------------------------------------------------------------


@dataclass
class Figures:
    runs: dict[str, list[Run]] = field(default_factory=dict)
    scripts: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per case: the gate scripts Redis ran per answered request and their Redis CPU (µs)
    per request, per run."""

    def add(self, name: str, run: Run) -> None:
        self.runs.setdefault(name, []).append(run)

    def rps(self, name: str) -> float:
        return statistics.median(run.rps for run in self.runs[name])

    def p99(self, name: str) -> float:
        return statistics.median(run.percentile(99) for run in self.runs[name])

    def merged(self, name: str) -> Run:
        return Run(latencies=[x for run in self.runs[name] for x in run.latencies])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "BELOW"


async def _run(label: str, figures: Figures, name: str, coroutine: Any) -> Run:
    run: Run = await coroutine
    figures.add(name, run)
    server = "" if run.server_cpu is None else f"  server CPU {run.server_cpu:.0%}"
    print(f"  {label:<10} {name:<14} {run.rps:9.0f} rps  p99 {run.percentile(99) * 1e3:6.2f} ms"
          f"  non-2xx {run.non_2xx}{server}  client CPU {run.client_cpu:.0%}",
          flush=True)  # fmt: skip
    return run


def gate_script_stats(redis_url: str | None) -> tuple[int, int] | None:
    """Scripts Redis has run so far (``EVALSHA`` and ``EVAL``: the quota gate's) and the
    microseconds it spent in them, from ``INFO commandstats`` (server-wide: on a quiet
    machine, the bench's own)."""
    if redis_url is None:
        return None
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        stats: dict[str, Any] = client.info("commandstats")  # type: ignore[assignment]
    finally:
        client.close()
    found = [stats.get(f"cmdstat_{name}", {}) for name in ("evalsha", "eval")]
    return sum(int(s.get("calls", 0)) for s in found), sum(int(s.get("usec", 0)) for s in found)


async def measure_cases(
    args: argparse.Namespace, port: int, fixture: cases.Fixture, pid: int, figures: Figures,
    redis_url: str | None = None,
) -> None:  # fmt: skip
    names = [n for n in args.cases.split(",") if n]
    for round_ in range(args.rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            case = cases.CASES[name]
            path, headers = case.request(fixture)
            pair = [(name, path, headers), (f"{name} bare", case.bare_path, {})]
            for label, at, sent in pair if round_ % 2 == 0 else pair[::-1]:
                before = gate_script_stats(redis_url)
                run = await _run(f"round {round_ + 1}", figures, label, measure(
                    HOST, port, at, sent, connections=args.connections, warmup=args.warmup,
                    duration=args.duration, server_cpu=lambda: server_cpu_probe(pid),
                ))  # fmt: skip
                after = gate_script_stats(redis_url)
                if before is not None and after is not None and run.answered:
                    figures.scripts.setdefault(label, []).append((
                        (after[0] - before[0]) / run.answered,
                        (after[1] - before[1]) / run.answered,
                    ))  # fmt: skip


async def key_daily_remaining(base: str, key: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        response = await client.get("/v1/usage/rate-limit", headers={"X-API-Key": key})
        body = response.json()
    for limit in body["data"]["limits"]:
        if limit["name"] == "key_daily":
            return int(limit["remaining"])
    raise RuntimeError(f"no key_daily limit in {body}")


async def measure_two_processes(
    args: argparse.Namespace, ports: tuple[int, int], fixture: cases.Fixture,
    client_cpu: set[int] | None, figures: Figures,
) -> bool:  # fmt: skip
    """(e): case (a) on one process then on two, interleaved; True when the key's daily
    counter moved by exactly the admitted calls (plus the second read of it)."""
    path, headers = cases.CASES["a"].request(fixture)
    base = f"http://{HOST}:{ports[0]}"
    before = await key_daily_remaining(base, fixture.key)
    admitted = refused = 0
    everywhere = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    for round_ in range(args.rounds):
        pair: list[tuple[str, list[int]]] = [("a, 1 proc", [ports[0]]), ("a, 2 procs", list(ports))]
        for label, targets in pair if round_ % 2 == 0 else pair[::-1]:
            # One process: the generator keeps its own CPU; two: every CPU is a server's, so
            # the generator runs wherever the scheduler finds room.
            pin(everywhere if len(targets) == 2 else client_cpu)
            run = await _run(f"round {round_ + 1}", figures, label, measure(
                HOST, targets, path, headers, connections=args.connections, warmup=args.warmup,
                duration=args.duration,
            ))  # fmt: skip
            admitted += run.answered_2xx
            refused += run.answered - run.answered_2xx
    pin(client_cpu)
    after = await key_daily_remaining(base, fixture.key)
    charged = before - after - 1  # the second read of the counter is charged too
    print(f"  (e) key daily counter: {charged} charged, {admitted} answered 200, {refused} "
          "answered otherwise (a 503 whose script Redis ran after the gate's timeout counts "
          "until its late reply refunds it)")  # fmt: skip
    # Exact: every call answered 200 was charged, and nothing else was, but for calls the
    # gate gave up waiting on (answered 503) whose script Redis still ran and whose refund
    # (persistence.redis.quota, "Late replies") had not landed when the counter was read.
    return admitted <= charged <= admitted + refused


async def _logins(base: str, stop: asyncio.Event, done: list[float]) -> None:
    """``LOGINS_PER_SECOND`` password logins, paced (open loop), each on its own request."""
    body = {"email": cases.EMAIL, "password": cases.PASSWORD}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await client.get("/v1/config/runtime")
        csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}

        async def one() -> None:
            started = time.perf_counter()
            response = await client.post("/v1/auth/login", json=body, headers=csrf)
            if response.status_code == 200:
                done.append(time.perf_counter() - started)

        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        n = 0
        while not stop.is_set():
            tasks.append(asyncio.create_task(one()))
            n += 1
            await asyncio.sleep(max(0.0, start + n / LOGINS_PER_SECOND - time.perf_counter()))
        await asyncio.gather(*tasks, return_exceptions=True)


async def measure_logins(
    args: argparse.Namespace, port: int, fixture: cases.Fixture, pid: int, figures: Figures
) -> list[float]:
    """(f): case (a) idle and while logins run, interleaved; the logins' latencies."""
    path, headers = cases.CASES["a"].request(fixture)
    logins: list[float] = []
    for round_ in range(args.rounds):
        pair = ["a, idle", "a, logins"]
        for label in pair if round_ % 2 == 0 else pair[::-1]:
            stop = asyncio.Event()
            driver = (
                asyncio.create_task(_logins(f"http://{HOST}:{port}", stop, logins))
                if label == "a, logins" else None
            )  # fmt: skip
            await _run(f"round {round_ + 1}", figures, label, measure(
                HOST, port, path, headers, connections=args.connections, warmup=args.warmup,
                duration=args.duration, server_cpu=lambda: server_cpu_probe(pid),
            ))  # fmt: skip
            if driver is not None:
                stop.set()
                await driver
    return logins


def report(
    args: argparse.Namespace, figures: Figures, sizes: dict[str, int], exact: bool | None,
    logins: list[float] | None, others: float | None, redis: bool,
) -> None:  # fmt: skip
    print("\nkarpov bench (issue 18): medians of", args.rounds, "interleaved rounds,",
          "Redis gate and cache" if redis else "IN-PROCESS gate and cache (no Redis)")  # fmt: skip
    print(f"{'case':<5} {'rps':>8} {'bare rps':>9} {'ratio':>6} {'target':>7}  verdict  "
          f"{'p50 ms':>6} {'p99 ms':>6}  body  what")  # fmt: skip
    for name in [n for n in args.cases.split(",") if n]:
        case = cases.CASES[name]
        rps, bare = figures.rps(name), figures.rps(f"{name} bare")
        ratio = rps / bare if bare else 0.0
        merged = figures.merged(name)
        label = "(d′)" if name == "d2" else f"({name})"
        p50, p99 = merged.percentile(50) * 1e3, merged.percentile(99) * 1e3
        print(f"{label:<5} {rps:>8.0f} {bare:>9.0f} {ratio:>6.2f} {case.target:>7.2f}  "
              f"{verdict(ratio >= case.target):<7}  {p50:>6.2f} {p99:>6.2f}  "
              f"{sizes.get(name, 0):>4}  {case.title}")  # fmt: skip
    scripts = [
        f"({n}) {statistics.median(c for c, _ in v):.2f} scripts, "
        f"{statistics.median(u for _, u in v):.1f} µs"
        for n in [n for n in args.cases.split(",") if n]
        if (v := figures.scripts.get(n))
    ]
    if scripts:
        print("Redis per call (gate scripts run, Redis CPU in them): " + "; ".join(scripts))
    if exact is not None:
        one, two = figures.rps("a, 1 proc"), figures.rps("a, 2 procs")
        ratio = two / one if one else 0.0
        print(f"(e)   {two:>8.0f} {one:>9.0f} {ratio:>6.2f} {TARGET_TWO_PROCESSES:>7.2f}  "
              f"{verdict(ratio >= TARGET_TWO_PROCESSES and exact):<7}  two processes vs one, "
              f"case (a); limits exact: {'yes' if exact else 'NO'}")  # fmt: skip
    if logins is not None:
        idle, busy = figures.p99("a, idle"), figures.p99("a, logins")
        ratio = busy / idle if idle else 0.0
        rate = len(logins) / (args.rounds * (args.warmup + args.duration))
        login_p50 = statistics.median(logins) * 1e3 if logins else float("nan")
        print(f"(f)   p99 {busy * 1e3:.2f} ms with logins / {idle * 1e3:.2f} ms idle = "
              f"{ratio:.2f}   target <= {TARGET_LOGIN_P99:.2f}   "
              f"{'PASS' if ratio <= TARGET_LOGIN_P99 else 'ABOVE'}   (logins answered "
              f"{rate:.1f}/s of {LOGINS_PER_SECOND:g}/s, median {login_p50:.0f} ms)")  # fmt: skip
    if others is not None and others > 0.1:
        print(f"note: other processes used {others:.0%} of a CPU meanwhile; figures are noisy")


async def run_bench(
    args: argparse.Namespace, database_url: str, redis_url: str | None, tmp: Path
) -> int:
    server_cpu, client_cpu = pick_cpus()
    client_cpus = {client_cpu} if client_cpu is not None else None
    log = tmp / "server.log"
    ports = (free_port(), free_port())
    servers = [start_server(ports[0], database_url, redis_url, server_cpu, log)]
    try:
        pin(client_cpus)
        base = f"http://{HOST}:{ports[0]}"
        await asyncio.to_thread(wait_healthy, base, servers[0])
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            fixture = await cases.prepare_async(client)
            sizes = await cases.check_and_capture(client, fixture)
        pinning = "unpinned" if server_cpu is None else f"server CPU {server_cpu}, " \
            f"client CPU {client_cpu}"  # fmt: skip
        print(f"karpov bench: {args.connections} connections, {args.rounds} rounds x "
              f"({args.warmup:g} s warm-up + {args.duration:g} s), {pinning}")  # fmt: skip
        others = other_load(lambda: [s.pid for s in servers])
        figures = Figures()
        await measure_cases(args, ports[0], fixture, servers[0].pid, figures, redis_url)
        logins = None
        if not args.skip_f:
            logins = await measure_logins(args, ports[0], fixture, servers[0].pid, figures)
        exact = None
        if not args.skip_e:
            second_cpu = client_cpu if client_cpu is not None else None
            servers.append(start_server(ports[1], database_url, redis_url, second_cpu, log))
            await asyncio.to_thread(wait_healthy, f"http://{HOST}:{ports[1]}", servers[1])
            exact = await measure_two_processes(args, ports, fixture, client_cpus, figures)
        report(args, figures, sizes, exact, logins, others(), redis_url is not None)
    except (OSError, RuntimeError, httpx.HTTPError) as error:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        print(f"bench: {type(error).__name__}: {error}\nserver log:\n{tail}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            stop_server(server)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the servers
    redis_url: str | None = args.redis_url
    if not cases.redis_answers(args.redis_url):
        print(f"bench: Redis at {args.redis_url} does not answer: in-process gate and cache, "
              "single process only (case (e) skipped)", file=sys.stderr)  # fmt: skip
        redis_url, args.skip_e = None, True
    with tempfile.TemporaryDirectory(prefix="karpov-bench-") as tmp:
        database_url = cases.prepare_database(Path(tmp) / "karpov.db")
        cases.import_demo(database_url, Path(tmp) / "demo")
        if redis_url:
            cases.flush_redis(redis_url)
        try:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                return runner.run(run_bench(args, database_url, redis_url, Path(tmp)))
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
