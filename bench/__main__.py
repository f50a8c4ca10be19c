"""``python -m bench``: throughput of ``GET /v1/auth/me`` against a bare Starlette route.

One server process (``bench.server``) on one CPU, the load generator in this process on
another, a throw-away SQLite database in a temp dir. The two endpoints are measured in
interleaved rounds (me, bare, bare, me, ...) so thermal or background drift hits both alike;
the medians and their ratio are printed. A benchmark reports, it does not gate: the exit code
is 0 whether the ratio meets the target or not.
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
from pathlib import Path

import httpx

from bench.load import Run, event_loop_factory, measure
from bench.server import BARE_PATH, ME_PATH
from persistence.migrate import upgrade_to_head

HOST = "127.0.0.1"
TARGET_RATIO = 0.5
EMAIL = "bench@example.com"
PASSWORD = "Correct-Horse-42-Battery"
ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="uncounted seconds per run")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="runs per endpoint")
    return parser.parse_args(argv)


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
    port: int, database_url: str, cpu: int | None, log: Path
) -> subprocess.Popen[bytes]:
    """Only our KARPOV_* settings reach the server: a temp database, a random master key
    (so nothing is written under ./var) and an unreachable breach-check URL (fail-open, so
    registration needs no network)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
    env |= {
        "KARPOV_DATABASE_URL": database_url,
        "KARPOV_MASTER_KEY": secrets.token_hex(32),
        "KARPOV_HIBP_URL": f"http://{HOST}:9/range/",
        "KARPOV_HIBP_MODE": "fail-open",
        "KARPOV_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "bench.server", "--host", HOST, "--port", str(port)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    with log.open("wb") as out:
        # Own session: a terminal Ctrl-C reaches only us, and we stop the server in order.
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


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


def other_load(server_pid: int) -> Callable[[], float | None]:
    """Start a meter of the CPU used by processes other than ours; calling the result
    returns it in CPUs (1.0 = one core busy). A shared machine makes the figures noisy."""

    def ours() -> float | None:
        server, machine = server_cpu_probe(server_pid), machine_busy_seconds()
        if server is None or machine is None:
            return None
        return machine - server - time.process_time()

    start, wall = ours(), time.monotonic()

    def stop() -> float | None:
        end = ours()
        if start is None or end is None:
            return None
        return (end - start) / (time.monotonic() - wall)

    return stop


def wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited ({server.returncode})")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server not healthy after 60 s")


def sign_in(client: httpx.Client) -> str:
    """Register and log in, as a browser would (the CSRF double submit)."""
    body = {"email": EMAIL, "password": PASSWORD}
    client.get("/v1/config/runtime")  # sets the csrf_token cookie
    csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
    for path in ("/v1/auth/register", "/v1/auth/login"):
        response = client.post(path, json=body, headers=csrf)
        if response.status_code >= 300:
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")
    return str(response.json()["sid"])


def check_same_body(client: httpx.Client, sid: str) -> int:
    """The first ``/v1/auth/me`` body becomes the bare route's body; check both agree."""
    me = client.get(ME_PATH, headers={"X-Session-Id": sid})
    bare = client.get(BARE_PATH)
    if me.status_code != 200 or bare.status_code != 200 or me.json() != bare.json():
        raise RuntimeError(f"bodies differ: {me.status_code} {me.text} / {bare.text}")
    return len(me.content)


def run_rounds(
    args: argparse.Namespace, port: int, sid: str, server_pid: int
) -> dict[str, list[Run]]:
    targets = {
        f"GET {ME_PATH}": (ME_PATH, {"X-Session-Id": sid}),
        f"GET {BARE_PATH}": (BARE_PATH, {}),
    }
    runs: dict[str, list[Run]] = {name: [] for name in targets}
    names = list(targets)
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                path, headers = targets[name]
                run = runner.run(
                    measure(
                        HOST, port, path, headers,
                        connections=args.connections, warmup=args.warmup,
                        duration=args.duration, server_cpu=lambda: server_cpu_probe(server_pid),
                    )
                )  # fmt: skip
                runs[name].append(run)
                print(f"  round {round_ + 1}: {name:<18} {run.rps:9.0f} rps", flush=True)
    return runs


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def report(runs: dict[str, list[Run]], others: float | None) -> None:
    print()
    print(
        f"{'endpoint':<18} {'rps (median)':>12} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'non-2xx':>7} {'server CPU':>10} {'client CPU':>10}   rounds (rps)"
    )
    medians = {}
    for name, series in runs.items():
        merged = Run(latencies=[x for run in series for x in run.latencies])
        medians[name] = statistics.median(run.rps for run in series)
        server = [run.server_cpu for run in series if run.server_cpu is not None]
        print(
            f"{name:<18} {medians[name]:>12.0f} {merged.percentile(50) * 1e3:>7.2f} "
            f"{merged.percentile(99) * 1e3:>7.2f} {sum(run.non_2xx for run in series):>7} "
            f"{_pct(statistics.median(server) if server else None):>10} "
            f"{_pct(statistics.median(run.client_cpu for run in series)):>10}   "
            + " ".join(f"{run.rps:.0f}" for run in series)
        )
    me, bare = medians.values()
    ratio = me / bare if bare else 0.0
    verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW"
    print(f"\nme/bare = {ratio:.2f}   target >= {TARGET_RATIO:.2f}   {verdict}")
    if others is not None and others > 0.1:
        print(f"note: other processes used {others:.0%} of a CPU meanwhile; figures are noisy")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` stops the server
    server_cpu, client_cpu = pick_cpus()
    with tempfile.TemporaryDirectory(prefix="karpov-bench-") as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/karpov.db"
        asyncio.run(upgrade_to_head(database_url))
        port = free_port()
        log = Path(tmp) / "server.log"
        server = start_server(port, database_url, server_cpu, log)
        try:
            if client_cpu is not None:
                os.sched_setaffinity(0, {client_cpu})
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
                wait_healthy(client, server)
                sid = sign_in(client)
                size = check_same_body(client, sid)
            pinning = (
                "unpinned"
                if server_cpu is None
                else f"server CPU {server_cpu}, client CPU {client_cpu}"
            )
            print(
                f"karpov bench: {args.connections} connections, {args.rounds} rounds x "
                f"({args.warmup:g} s warm-up + {args.duration:g} s), {size}-byte body, {pinning}"
            )
            others = other_load(server.pid)
            runs = run_rounds(args, port, sid, server.pid)
            report(runs, others())
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        except (OSError, RuntimeError) as error:
            tail = log.read_text(errors="replace")[-3000:]
            print(f"bench: {type(error).__name__}: {error}\nserver log:\n{tail}", file=sys.stderr)
            return 1
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
