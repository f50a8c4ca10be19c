"""``python -m bench.music``: the issue-13 benchmark.

Requests per second of a metered music query with an API key, ``GET /v1/local/songs/:id``
(the local catalog on SQLite, the quota gate in Redis), and of its GraphQL twin
(``GET /graphql?query={ song(id: ...) {...} }``), against a bare Starlette route answering
a song of the same shape, in the same server process and the same run. Each metered call
pays key verification, scopes, one quota admission (five limits), the music service's
cache lookup (Redis) and usage recording. Without Redis, the in-process gate and cache.

A benchmark reports, it does not gate: the exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx
from redis import Redis

from bench.__main__ import free_port, wait_healthy
from bench.load import Run, event_loop_factory, measure
from bench.metered import HOST, _api_key, _prepare_database, _redis_answers, _start
from bench.metered_server import BARE_SONG_PATH

DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
SONG_FIELDS = "id title durationMs artists { name } album { title }"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.music", description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--redis-url", default=os.environ.get("KARPOV_BENCH_REDIS_URL", DEFAULT_REDIS)
    )
    return parser.parse_args(argv)


def _import_demo(database_url: str, directory: Path) -> None:
    from domain.clock import SystemClock
    from domain.music.catalog import CatalogImporter
    from integrations.audio.scanner import MutagenScanner
    from integrations.audio.synth import write_demo
    from persistence.sql.catalog import SqlCatalogStore
    from persistence.sql.engine import create_engine

    async def run() -> None:
        write_demo(directory)
        engine = create_engine(database_url)
        try:
            importer = CatalogImporter(SqlCatalogStore(engine), MutagenScanner(), SystemClock())
            await importer.import_directory(directory)
        finally:
            await engine.dispose()

    asyncio.run(run())


def bench_music(args: argparse.Namespace, redis_url: str | None) -> dict[str, float]:
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    server_cpu, client_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    label = "Redis gate and cache" if redis_url else "in-process gate and cache"
    if redis_url:
        Redis.from_url(redis_url).flushdb()
    with tempfile.TemporaryDirectory(prefix="karpov-bench-music-") as tmp:
        database_url = _prepare_database(Path(tmp) / "karpov.db")
        _import_demo(database_url, Path(tmp) / "demo")
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
                keyed = {"X-API-Key": key}
                found = client.get("/v1/local/search/songs?q=morning", headers=keyed).json()
                song_id = found["data"]["items"][0]["id"]
                rest_path = f"/v1/local/songs/{song_id}"
                query = f'{{ song(id: "local:song:{song_id}") {{ {SONG_FIELDS} }} }}'
                gql_path = "/graphql?query=" + quote(query)
                for path in (rest_path, gql_path):
                    check = client.get(path, headers=keyed)
                    if check.status_code != 200 or "errors" in check.json():
                        raise RuntimeError(f"{path}: {check.status_code} {check.text}")
            targets = {
                "v1 song": (rest_path, keyed), "graphql": (gql_path, keyed),
                "bare": (BARE_SONG_PATH, {}),
            }  # fmt: skip
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
            return {}
        finally:
            if previous is not None:
                os.sched_setaffinity(0, previous)
            server.terminate()
            server.wait(10)
    rps = {name: statistics.median(r.rps for r in found) for name, found in runs.items()}
    bare = rps["bare"] or 1.0
    print(f"music ({label}): v1 song {rps['v1 song']:.0f} rps, graphql {rps['graphql']:.0f} "
          f"rps, bare {rps['bare']:.0f} rps; ratios v1/bare {rps['v1 song'] / bare:.2f}, "
          f"graphql/bare {rps['graphql'] / bare:.2f}")  # fmt: skip
    return rps


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print("karpov bench (issue 13): a metered music query with an API key")
    redis_ok = _redis_answers(args.redis_url)
    if not redis_ok:
        print(f"  Redis at {args.redis_url} does not answer: in-process gate and cache")
    bench_music(args, args.redis_url if redis_ok else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
