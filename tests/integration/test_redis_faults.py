"""Issue 12, items 3 and 4, measured: a private ``redis-server`` on a free port is killed,
restarted EMPTY, and paused (SIGSTOP) while requests keep coming, on PostgreSQL.

Throughout: no 500, ever; a refusal is 503 with a stable ``…_UNAVAILABLE`` code and
``Retry-After``; no request waits on a hung Redis for much more than a second; ``/readyz``
answers within a second and names Redis. Sessions live in the database, so a signed-in
user stays signed in while Redis is down, after it comes back empty, and while it hangs;
everything recovers without restarting the application.

Runs where PostgreSQL and Redis are configured (CI), like every PostgreSQL/Redis test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from tests.api.harness import STRONG_PASSWORD, Api, running_app
from tests.conftest import REDIS_URL_VAR
from tests.fakes.hibp_server import FakeHibpServer

HUNG_BOUND = 3.0
"""A request while Redis hangs: its ~1 s client timeout, plus a database fallback and a
loaded machine's slack (redis-py's default would wait without bound)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A throw-away ``redis-server`` without persistence: a restart comes back empty."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (CI installs it with Redis)")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        pytest.fail("the private redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.kill()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if not os.environ.get(REDIS_URL_VAR):
        pytest.skip(f"{REDIS_URL_VAR} is not set")
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Seen:
    name: str
    status: int
    elapsed: float
    text: str
    retry_after: str | None


@dataclass
class Load:
    """Requests a client keeps making: a signed-in browser, sign-in attempts of every
    throttled kind, an API key, and GraphQL."""

    browser: Api
    anonymous: Api
    key: str
    seen: list[Seen] = field(default_factory=list)

    async def one(self, name: str, call: object) -> Seen:
        started = time.perf_counter()
        response: httpx.Response = await call  # type: ignore[misc]
        seen = Seen(name, response.status_code, time.perf_counter() - started, response.text,
                    response.headers.get("retry-after"))  # fmt: skip
        assert response.headers.get("x-request-id"), (name, response.status_code)
        self.seen.append(seen)
        return seen

    def calls(self, n: int) -> list[tuple[str, object]]:
        wrong = {"email": "alice@example.com", "password": "wrong-password-1"}
        a = self.anonymous
        return [
            ("me (session)", self.browser.get("/v1/auth/me")),
            ("me (api key)", a.http.get("/v1/auth/me", headers={"X-API-Key": self.key})),
            ("login", a.post("/v1/auth/login", wrong)),
            ("register", a.post("/v1/auth/register",
                                {"email": f"u{n}-{time.monotonic_ns()}@example.com",
                                 "password": STRONG_PASSWORD})),
            ("reset request", a.post("/v1/auth/password/reset/request",
                                     {"email": "alice@example.com"})),
            ("send code", a.post("/v1/auth/email/send-code", {"email": "bob@example.com"})),
            ("totp verify", a.post("/v1/auth/totp/verify",
                                   {"challengeId": "no-such-challenge", "code": "123456"})),
            ("graphql login", a.post("/graphql", json={"query": (
                'mutation { accountLogin(input: {email: "alice@example.com", '
                'password: "wrong-password-1"}) { errors { code } } }')})),
            ("graphql viewer", self.browser.post("/graphql",
                                                 json={"query": "{ viewer { id } }"})),
        ]  # fmt: skip

    async def round(self, n: int) -> list[Seen]:
        return list(await asyncio.gather(*(self.one(name, c) for name, c in self.calls(n))))


def no_500(seen: list[Seen]) -> None:
    bad = [(s.name, s.status, s.text) for s in seen if s.status >= 500 and s.status != 503]
    assert not bad, bad
    internal = [
        (s.name, s.text) for s in seen if '"INTERNAL"' in s.text or "internal error" in s.text
    ]
    assert not internal, internal
    for s in seen:
        if s.status == 503:
            assert "_UNAVAILABLE" in s.text, (s.name, s.text)
            assert s.retry_after and int(s.retry_after) >= 1, (s.name, s.retry_after)


def by_name(seen: list[Seen], name: str) -> list[Seen]:
    return [s for s in seen if s.name == name]


async def ready_within_a_second(api: Api) -> httpx.Response:
    started = time.perf_counter()
    response = await api.http.get("/readyz")
    assert time.perf_counter() - started < 1.5, "readyz took too long"
    return response


async def eventually(check: Callable[[], bool], within: float) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    pytest.fail("the condition did not become true in time")


async def wait_ready(api: Api, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (await api.http.get("/readyz")).status_code == 200:
            return
        await asyncio.sleep(0.1)
    pytest.fail("/readyz did not recover")


async def test_redis_killed_restarted_empty_and_paused_under_load(
    pg_url: str, pg_engine: object, private_redis: PrivateRedis
) -> None:
    async with running_app(pg_url, redis_url=private_redis.url, hibp=FakeHibpServer({})) as (
        browser,
        _,
    ):
        creds = {"email": "alice@example.com", "password": STRONG_PASSWORD}
        assert (await browser.post("/v1/auth/register", creds)).status_code == 200
        assert (await browser.post("/v1/auth/login", creds)).status_code == 200
        created = await browser.post("/v1/auth/api-keys", {"name": "load"})
        assert created.status_code == 200, created.text
        load = Load(browser, browser.fresh(), created.json()["plaintext"])
        await load.anonymous.prime_csrf()

        # Up: everything answers.
        up = await load.round(0)
        no_500(up)
        assert by_name(up, "me (session)")[0].status == 200

        # Killed: sign-in paths refuse cleanly, the session keeps working.
        private_redis.kill()
        down: list[Seen] = []
        for n in range(1, 4):
            down += await load.round(n)
        no_500(down)
        assert all(s.status == 200 for s in by_name(down, "me (session)")), down
        assert all(s.status == 200 for s in by_name(down, "graphql viewer")), down
        for name in ("login", "register", "reset request", "send code", "totp verify"):
            refused = by_name(down, name)
            assert all(s.status == 503 for s in refused), (name, refused)
            assert all("REDIS_UNAVAILABLE" in s.text for s in refused), (name, refused)
        assert all("REDIS_UNAVAILABLE" in s.text for s in by_name(down, "graphql login"))
        readiness = await ready_within_a_second(browser)
        assert readiness.status_code == 503 and "redis" in readiness.text

        # Restarted empty: recovery without restarting the application; nobody signed out.
        private_redis.start()
        await wait_ready(browser)
        await asyncio.sleep(0.5)
        back = await load.round(10)
        no_500(back)
        assert by_name(back, "me (session)")[0].status == 200
        assert by_name(back, "login")[0].status in (401, 429)  # judged again, not 503
        assert (await browser.get("/v1/auth/me")).status_code == 200

        # Paused: every request answers within the bound; the session still works.
        private_redis.pause()
        try:
            hung: list[Seen] = []
            for n in range(20, 22):
                hung += await load.round(n)
            no_500(hung)
            slow = [(s.name, round(s.elapsed, 2)) for s in hung if s.elapsed > HUNG_BOUND]
            assert not slow, slow
            assert all(s.status == 200 for s in by_name(hung, "me (session)")), hung
            readiness = await ready_within_a_second(browser)
            assert readiness.status_code == 503 and "redis" in readiness.text
        finally:
            private_redis.resume()
        await wait_ready(browser)
        await asyncio.sleep(0.5)
        resumed = await load.round(30)
        no_500(resumed)
        assert not [s for s in resumed if s.status == 503], resumed  # recovered
        assert (await browser.get("/v1/auth/me")).status_code == 200


# -- harden (issue 12, item 4): a Redis restarted empty grants no fresh quota -------------

DAILY, WEIGHT = 100, 3  # the free plan's daily units; the metered test operation's weight


async def test_a_redis_restarted_empty_grants_no_extra_quota_under_load(
    pg_url: str, pg_engine: object, private_redis: PrivateRedis
) -> None:
    from domain.clock import ManualClock
    from tests.api.test_api_keys import start_of_test_day
    from tests.support.metered import METERED_ROUTE, MeteredQuery

    clock = ManualClock(start_of_test_day())
    async with running_app(
        pg_url, redis_url=private_redis.url, hibp=FakeHibpServer({}), clock=clock,
        query=MeteredQuery, extra_routes=[METERED_ROUTE],
    ) as (browser, _):  # fmt: skip
        creds = {"email": "units@example.com", "password": STRONG_PASSWORD}
        assert (await browser.post("/v1/auth/register", creds)).status_code == 200
        assert (await browser.post("/v1/auth/login", creds)).status_code == 200
        admitted = 0
        statuses: list[int] = []
        running = True

        async def caller() -> None:
            nonlocal admitted
            while running:
                response = await browser.get("/v1/test/metered")
                statuses.append(response.status_code)
                assert response.status_code in (200, 429, 503), response.text
                if response.status_code == 200:
                    admitted += 1
                await asyncio.sleep(0.01)

        async def ticker() -> None:
            while running:
                clock.advance(1)  # keeps the plan's QPS from deciding
                await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(caller()) for _ in range(3)]
        tasks.append(asyncio.create_task(ticker()))
        try:
            # 45 of the 100 units used, then Redis goes.
            await eventually(lambda: admitted >= 15, within=30)
            await asyncio.sleep(1.5)  # the usage of those calls reaches the roll-ups
            private_redis.kill()
            await asyncio.sleep(0.5)
            private_redis.start()  # empty: no persistence
            await wait_ready(browser)
            # Load goes on until the day's units are used up again.
            await eventually(lambda: statuses[-20:].count(429) == 20, within=30)
        finally:
            running = False
            await asyncio.gather(*tasks)
        assert statuses[-20:].count(429) == 20, statuses[-40:]
        # Without the restore, the restart would have handed out another 33 calls.
        assert admitted <= DAILY // WEIGHT, (admitted, statuses)
        assert admitted >= DAILY // WEIGHT - 3, (admitted, statuses)
        limits = (await browser.get("/v1/usage/rate-limit")).json()["data"]["limits"]
        daily = next(entry for entry in limits if entry["name"].lower() == "plan_daily")
        assert daily["remaining"] < WEIGHT, daily
