"""What ``make bench`` measures (issue 18): the cases, their targets, and the fixture they
share (a throw-away SQLite database with the demo catalog and a bench catalog, a user with
a session and an API key, limits far above what a run can use so every call is admitted
while every limit is still evaluated and charged).

Each case is one ``GET`` against the real application and, as its baseline, a bare
Starlette route in the same process answering the same JSON (``bench.server``): the bench
server keeps the case's first answer and the bare route renders it with Starlette's
``JSONResponse`` on every call.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from persistence.migrate import upgrade_to_head

EMAIL = "bench@example.com"
PASSWORD = "Correct-Horse-42-Battery"
HUGE = 10**9
"""Limits high enough never to refuse during a run."""
BENCH_SONGS = 24
"""Songs titled "Bench Tune N": ``search(query: "bench", first: 20)`` finds 20 of them."""
SONG_FIELDS = "title artists { name } album { title } durationMs"
SEARCH_FIELDS = "id title durationMs artists { name }"
BARE_PREFIX = "/__bare/"


@dataclass(frozen=True, slots=True)
class Fixture:
    sid: str
    key: str
    song_id: str
    """The local provider's id of the first demo song."""


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    title: str
    target: float
    """The least ratio to the bare route (issue 18)."""
    request: Callable[[Fixture], tuple[str, dict[str, str]]]

    @property
    def bare_path(self) -> str:
        return BARE_PREFIX + self.name


def _graphql(query: str) -> str:
    return "/graphql?query=" + quote(query)


CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case("a", "GET /v1/local/songs/:id, API key, Redis gate, cached song", 0.5,
             lambda f: (f"/v1/local/songs/{f.song_id}", {"X-API-Key": f.key})),
        Case("b", "GraphQL song(id){title artists{name} album{title} durationMs}, API key", 0.3,
             lambda f: (_graphql(f'{{ song(id: "local:song:{f.song_id}") {{ {SONG_FIELDS} }} }}'),
                        {"X-API-Key": f.key})),
        Case("c", "GraphQL search(provider: LOCAL, query, first: 20), 4 fields, API key", 0.2,
             lambda f: (_graphql(f'{{ search(provider: LOCAL, query: "bench", first: 20) '
                                 f"{{ nodes {{ ... on Song {{ {SEARCH_FIELDS} }} }} }} }}"),
                        {"X-API-Key": f.key})),
        Case("d", "GET /v1/auth/me, session", 0.5,
             lambda f: ("/v1/auth/me", {"X-Session-Id": f.sid})),
        Case("d2", "GraphQL { viewer { id email } } (GET), session", 0.3,
             lambda f: (_graphql("{ viewer { id email } }"), {"X-Session-Id": f.sid})),
    )
}  # fmt: skip


def prepare_database(path: Path) -> str:
    """A migrated SQLite database whose free plan never refuses within a run."""
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(upgrade_to_head(url))
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE plans SET qps = ?, daily_limit = ?, monthly_limit = ? WHERE id = 'free'",
            (HUGE, HUGE, HUGE),
        )
    return url


def import_demo(database_url: str, directory: Path) -> None:
    """The demo catalog plus ``BENCH_SONGS`` short tunes, imported as ``karpov catalog``
    would."""
    from domain.clock import SystemClock
    from domain.music.catalog import CatalogImporter
    from integrations.audio.scanner import MutagenScanner
    from integrations.audio.synth import Tags, write_demo, write_wav
    from persistence.sql.catalog import SqlCatalogStore
    from persistence.sql.engine import create_engine

    write_demo(directory)
    for n in range(1, BENCH_SONGS + 1):
        tags = Tags(f"Bench Tune {n}", ("Bench Band",), "Bench Album", "Bench Band", n, 2025)
        write_wav(directory / f"bench-{n:02d}.wav", tags, seconds=0.05)

    async def run() -> None:
        engine = create_engine(database_url)
        try:
            importer = CatalogImporter(SqlCatalogStore(engine), MutagenScanner(), SystemClock())
            await importer.import_directory(directory)
        finally:
            await engine.dispose()

    asyncio.run(run())


def flush_redis(url: str) -> None:
    from redis import Redis

    with Redis.from_url(url) as client:
        client.flushdb()


def redis_answers(url: str) -> bool:
    from redis import Redis

    try:
        with Redis.from_url(url, socket_timeout=1) as client:
            return bool(client.ping())
    except Exception:
        return False


def _ok(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: {response.status_code} {response.text}")
    return response.json()


async def prepare_async(client: httpx.AsyncClient) -> Fixture:
    """Register, sign in (the CSRF double submit), make an API key with huge limits, and
    find the demo's first song."""
    body = {"email": EMAIL, "password": PASSWORD}
    await client.get("/v1/config/runtime")  # sets the csrf_token cookie
    csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
    _ok(await client.post("/v1/auth/register", json=body, headers=csrf), "register")
    sid = str(_ok(await client.post("/v1/auth/login", json=body, headers=csrf), "login")["sid"])
    limits = {"rateLimitRpm": 1_000_000, "rateLimitDaily": HUGE}
    created = _ok(await client.post(
        "/v1/auth/api-keys", json={"name": "bench", **limits}, headers={"X-Session-Id": sid},
    ), "create key")  # fmt: skip
    key = str(created["plaintext"])
    found = _ok(
        await client.get("/v1/local/search/songs?q=morning", headers={"X-API-Key": key}), "search"
    )
    return Fixture(sid=sid, key=key, song_id=str(found["data"]["items"][0]["id"]))


async def check_and_capture(client: httpx.AsyncClient, fixture: Fixture) -> dict[str, int]:
    """Call every case once, check it answers 200 without GraphQL errors (and, for the
    metered cases, was measured against the limits), and hand its body to its bare route;
    returns each case's body size."""
    sizes: dict[str, int] = {}
    for case in CASES.values():
        path, headers = case.request(fixture)
        response = await client.get(path, headers=headers)
        body = _ok(response, f"case {case.name}")
        if isinstance(body, dict) and body.get("errors"):
            raise RuntimeError(f"case {case.name}: {response.text}")
        if case.name in ("a", "b", "c") and "RateLimit-Policy" not in response.headers:
            raise RuntimeError(f"case {case.name} was not measured against any limit")
        stored = await client.put(case.bare_path, content=response.content)
        if stored.status_code != 204:
            raise RuntimeError(f"bare {case.name}: {stored.status_code}")
        bare = await client.get(case.bare_path)
        if bare.json() != body:
            raise RuntimeError(f"bare {case.name} differs: {bare.text}")
        sizes[case.name] = len(response.content)
    return sizes
