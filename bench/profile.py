"""``python -m bench.profile``: where the server's CPU goes per request, without HTTP.

The real application (``bench.server``'s, with its bare routes) is driven in this
process through ASGI calls, ``--concurrency`` requests at a time, so the figures are the
application's own CPU per request: no socket, no HTTP parser, no load generator. With
``--cprofile`` the hottest functions are printed (cumulative and own time).

    python -m bench.profile --case a --redis-url redis://127.0.0.1:6379/3 --cprofile

Cases are ``bench.cases``' (a, b, c, d, d2); ``--bare`` drives the case's bare route.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import event_loop_factory

HOST = "127.0.0.1"


def _environment(database_url: str, redis_url: str | None) -> None:
    for name in [k for k in os.environ if k.startswith("KARPOV_")]:
        del os.environ[name]
    os.environ |= {
        "KARPOV_DATABASE_URL": database_url,
        "KARPOV_MASTER_KEY": secrets.token_hex(32),
        "KARPOV_HIBP_MODE": "off",
        "KARPOV_LOG_LEVEL": "warning",
    }
    if redis_url:
        os.environ["KARPOV_REDIS_URL"] = redis_url


class _Sink:
    """An ASGI ``send`` that keeps the status and the body."""

    __slots__ = ("body", "status")

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        else:
            self.body += message.get("body", b"")


async def _receive() -> Any:
    return {"type": "http.request", "body": b"", "more_body": False}


def _scope(path: str, headers: dict[str, str]) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", f"{HOST}:8000".encode())]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (HOST, 50000), "server": (HOST, 8000),
    }  # fmt: skip


async def _drive(app: Any, path: str, headers: dict[str, str], total: int, concurrency: int
                 ) -> int:  # fmt: skip
    failures = 0

    async def worker(n: int) -> None:
        nonlocal failures
        for _ in range(n):
            sink = _Sink()
            await app(_scope(path, headers), _receive, sink)
            if sink.status != 200:
                failures += 1

    share = total // concurrency
    await asyncio.gather(*(worker(share) for _ in range(concurrency)))
    return failures


async def _run(args: argparse.Namespace) -> None:
    from bench import cases
    from bench.server import build_app

    if True:
        app = build_app()
        async with app.karpov.router.lifespan_context(app.karpov):
            import httpx

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                fixture = await cases.prepare_async(client)
                await cases.check_and_capture(client, fixture)
            case = cases.CASES[args.case]
            path, headers = case.request(fixture)
            if args.bare:
                path, headers = case.bare_path, {}
            failures = await _drive(app, path, headers, args.warmup, args.concurrency)
            profiler = cProfile.Profile() if args.cprofile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            failures += await _drive(app, path, headers, args.requests, args.concurrency)
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    n = args.requests
    what = (
        f"the bare route of case {args.case}" if args.bare else f"case {args.case} ({case.title})"
    )
    if args.memory and not args.bare:
        what += " [in-process gate: --memory]"
    print(f"{what}: {cpu / n * 1e6:.1f} µs CPU, "
          f"{wall / n * 1e6:.1f} µs wall per request over {n}; non-200: {failures}")  # fmt: skip
    if profiler:
        stats = pstats.Stats(profiler)
        # Deterministic, unlike the timings on a shared machine: how many Python and
        # built-in function calls (coroutine resumptions included) one request makes.
        print(f"function calls per request: {stats.total_calls / n:.0f}")  # type: ignore[attr-defined]
        if args.dump:
            stats.dump_stats(args.dump)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--case", default="a")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("KARPOV_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
        help="the Redis the gate uses; its database is FLUSHED first (default: db 13)",
    )
    parser.add_argument("--memory", action="store_true", help="no Redis: in-process gate")
    parser.add_argument("--bare", action="store_true", help="the case's bare route")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="with --cprofile: also write the stats (pstats) here")
    args = parser.parse_args(argv)
    from bench import cases

    with tempfile.TemporaryDirectory(prefix="karpov-profile-") as tmp:
        database_url = cases.prepare_database(Path(tmp) / "karpov.db")
        cases.import_demo(database_url, Path(tmp) / "demo")
        redis_url = None if args.memory else args.redis_url
        if redis_url:
            if not cases.redis_answers(redis_url):
                parser.exit(
                    2, f"bench.profile: no Redis answers at {redis_url} (the Redis gate's "
                    "cases need one; --memory uses the in-process gate)\n",
                )  # fmt: skip
            cases.flush_redis(redis_url)
        _environment(database_url, redis_url)
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(_run(args))


if __name__ == "__main__":
    main()
