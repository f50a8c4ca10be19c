"""A real Karpov on a loopback port (uvicorn in a thread of the test process), for clients
that speak HTTP themselves: headless Chromium, Node scripts, gql. Also the tools those
tests need, found or failed loudly (never skipped: CI installs them, see ``.ci/run``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import uvicorn
from starlette.types import ASGIApp

from domain.accounts.passwords import Argon2PasswordHasher
from gateway.app import create_app
from gateway.container import build_container
from gateway.settings import Settings, load_settings
from tests.api.harness import ADMIN_TOKEN

CLIENTS_DIR = Path(__file__).resolve().parent.parent / "clients"


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serve(
    app: ASGIApp,
    *,
    lifespan: Literal["auto", "on", "off"] = "on",
    sock: socket.socket | None = None,
) -> Iterator[str]:
    """``app`` on ``http://127.0.0.1:<free port>`` (or on ``sock``) until the block ends."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def live_settings(database_url: str, **overrides: Any) -> Settings:
    overrides.setdefault("admin_tokens", ADMIN_TOKEN)
    overrides.setdefault("hibp_mode", "off")
    overrides.setdefault("master_key", "ab" * 32)
    return load_settings(database_url=database_url, **overrides)


@contextmanager
def live_karpov(
    database_url: str, *, own_base_url: bool = False, **overrides: Any
) -> Iterator[str]:
    """The real application (``create_app``) with a cheap password hash; yields its base
    URL (``http://127.0.0.1:<port>``). ``own_base_url``: that URL is also the public base
    URL, so the absolute links it hands out (pay pages, play URLs) lead back to it."""
    sock = free_socket()
    if own_base_url:
        overrides.setdefault("public_base_url", f"http://127.0.0.1:{sock.getsockname()[1]}")
    settings = live_settings(database_url, **overrides)
    cheap = Argon2PasswordHasher(time_cost=1, memory_cost_kib=64)

    async def factory(s: Settings) -> Any:
        return await build_container(s, hasher=cheap)

    with serve(create_app(settings, container_factory=factory), sock=sock) as url:
        yield url


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.fail("chromium is not installed (Debian: apt-get install -y chromium; .ci/run does)")
    return path


def chromium_dump_dom(chromium: str, url: str, profile: Path, budget_ms: int = 10000) -> str:
    """Load ``url`` in headless Chromium and return the DOM after ``budget_ms`` of virtual
    time (scripts and their fetches run meanwhile)."""
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update",
        "--disable-default-apps", "--disable-extensions", "--disable-sync", "--no-first-run",
        "--no-default-browser-check", "--mute-audio", f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}", "--dump-dom", url,
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("headless chromium did not finish within 120 s")
    if result.returncode != 0 and not result.stdout:
        pytest.fail(f"chromium failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def require_node() -> str:
    """``node``, with ``tests/clients/node_modules`` installed: ``npm ci`` when absent or
    older than the lock file (a pull that adds a package must not leave a stale install)."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js 20+ and npm are required for the client tests (.ci/run checks)")
    installed = CLIENTS_DIR / "node_modules" / ".package-lock.json"
    lock = CLIENTS_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENTS_DIR, capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(
                f"npm ci failed in {CLIENTS_DIR}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
    return node


def run_node(script: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    node = require_node()
    env = {**os.environ, "NODE_NO_WARNINGS": "1"}
    return subprocess.run(
        [node, str(CLIENTS_DIR / script), *args], cwd=CLIENTS_DIR, capture_output=True,
        text=True, timeout=timeout, check=False, env=env,
    )  # fmt: skip
