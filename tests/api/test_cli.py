"""The ``karpov`` command, run as a real subprocess: migrate, bootstrap-admin, export-schema,
openapi, configuration errors, and a ``serve`` smoke test."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from rest.routes import ROUTES
from schema.build import SDL_PATH
from tests.api.harness import running_app

REPO = Path(__file__).resolve().parents[2]
MASTER_KEY = "cd" * 32
PASSWORD_LINE = re.compile(r"Password \(shown once\): (\S+)")
TIMEOUT = 120


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
    env["PYTHONPATH"] = str(REPO)  # this working tree, whatever is installed
    env.update(settings)
    return env


def karpov(*args: str, cwd: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=cwd,
        env=clean_env(**settings),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def sqlite_file_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@dataclass
class Bootstrapped:
    database_url: str
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    password: str


@pytest.fixture
def bootstrapped(tmp_path: Path) -> Bootstrapped:
    url = sqlite_file_url(tmp_path / "cli.db")
    settings = {"KARPOV_DATABASE_URL": url, "KARPOV_MASTER_KEY": MASTER_KEY}
    migrated = karpov("migrate", cwd=tmp_path, **settings)
    assert migrated.returncode == 0, migrated.stderr
    first = karpov("bootstrap-admin", "--email", "root@example.com", cwd=tmp_path, **settings)
    assert first.returncode == 0, first.stderr
    second = karpov("bootstrap-admin", "--email", "root@example.com", cwd=tmp_path, **settings)
    assert second.returncode == 0, second.stderr
    passwords = PASSWORD_LINE.findall(first.stderr)
    assert len(passwords) == 1, first.stderr
    return Bootstrapped(url, first, second, passwords[0])


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("karpov")
    assert script.is_file()
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0
    for command in ("serve", "migrate", "bootstrap-admin", "export-schema", "openapi"):
        assert command in result.stdout


def test_migrate_succeeds_and_is_idempotent(tmp_path: Path) -> None:
    settings = {
        "KARPOV_DATABASE_URL": sqlite_file_url(tmp_path / "m.db"),
        "KARPOV_MASTER_KEY": MASTER_KEY,
    }
    for _ in range(2):
        result = karpov("migrate", cwd=tmp_path, **settings)
        assert result.returncode == 0, result.stderr
        assert "latest revision" in result.stdout
    assert (tmp_path / "m.db").stat().st_size > 0


def test_bootstrap_admin_prints_a_password_once_to_stderr(bootstrapped: Bootstrapped) -> None:
    password = bootstrapped.password
    assert re.fullmatch(r"[A-Z2-7]{39}", password), password  # 24 random bytes, base32
    assert password not in bootstrapped.first.stdout
    assert "root@example.com" in bootstrapped.first.stderr


def test_bootstrap_admin_again_changes_nothing_and_prints_no_password(
    bootstrapped: Bootstrapped,
) -> None:
    again = bootstrapped.second
    assert "already exists" in again.stdout + again.stderr
    assert "Password" not in again.stdout + again.stderr
    assert bootstrapped.password not in again.stdout + again.stderr


async def test_the_bootstrapped_admin_can_log_in_as_superadmin(
    bootstrapped: Bootstrapped,
) -> None:
    async with running_app(bootstrapped.database_url) as (api, _):
        login = await api.post(
            "/v1/auth/login",
            {"email": "root@example.com", "password": bootstrapped.password},
        )
        assert login.status_code == 200, login.text
        me = await api.get("/v1/auth/me")
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "superadmin"
        assert me.json()["status"] == "active"
        users = await api.get("/v1/admin/users")
        assert users.status_code == 200, users.text


def test_export_schema_writes_the_committed_sdl(tmp_path: Path) -> None:
    output = tmp_path / "schema.graphql"
    result = karpov("export-schema", "--output", str(output), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert output.read_text() == SDL_PATH.read_text()


def test_openapi_prints_json_and_yaml_of_the_same_document(tmp_path: Path) -> None:
    as_json = karpov("openapi", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    as_yaml = karpov("openapi", "--format", "yaml", cwd=tmp_path)
    assert as_yaml.returncode == 0, as_yaml.stderr
    document = yaml.safe_load(as_yaml.stdout)
    assert document == json.loads(as_json.stdout)
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {route.path for route in ROUTES}


def test_openapi_writes_to_a_file(tmp_path: Path) -> None:
    output = tmp_path / "openapi.yaml"
    result = karpov("openapi", "--format", "yaml", "--output", str(output), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(output.read_text())["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "command",
    [
        ["migrate"],
        ["bootstrap-admin", "--email", "root@example.com"],
        ["openapi"],
        ["serve", "--port", "1"],
        pytest.param(
            ["export-schema", "--output", "out.graphql"],
        ),
    ],
    ids=lambda c: c[0],
)
def test_a_bad_setting_stops_every_command_with_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    result = karpov(
        *command, cwd=tmp_path, KARPOV_DATABASE_URL="mysql://x", KARPOV_MASTER_KEY=MASTER_KEY
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "KARPOV_DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var").exists()


# -- serve ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(KARPOV_DATABASE_URL=sqlite_file_url(tmp_path / "var" / "serve.db")),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"karpov serve exited with {process.returncode}:\n{log.read()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"/healthz did not answer 200 within 20 s:\n{log.read()}")
            time.sleep(0.1)
        yield base, tmp_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def test_serve_answers_health_readiness_and_graphiql(served: tuple[str, Path]) -> None:
    base, cwd = served
    health = httpx.get(f"{base}/healthz", timeout=5)
    assert (health.status_code, health.text) == (200, "ok")
    assert health.headers["x-content-type-options"] == "nosniff"
    assert "server" not in health.headers  # server_header=False
    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert (ready.status_code, ready.text) == (200, "ready")  # SQLite was migrated
    page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "graphiql" in page.text.lower()
    config = httpx.get(f"{base}/v1/config/runtime", timeout=5)
    assert config.status_code == 200
    assert config.json()["code"] == 200
    # No KARPOV_MASTER_KEY: one was generated into ./var with mode 0600.
    key_file = cwd / "var" / "master.key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


# -- issue 11: the newcomer path -----------------------------------------------------------


def test_serve_says_where_to_go_and_the_landing_page_links_there(
    served: tuple[str, Path],
) -> None:
    base, cwd = served
    printed = (cwd / "serve.log").read_text()
    for where in ("/graphql", "/v1/docs", "/healthz"):
        assert f"{base}{where}" in printed, printed
    landing = httpx.get(f"{base}/", timeout=5)
    assert landing.status_code == 200
    assert landing.headers["content-type"].startswith("text/html")
    for link in ('href="/graphql"', 'href="/v1/docs"', 'href="/healthz"'):
        assert link in landing.text
    # The SQLite file (every account) is readable by its owner only.
    database = cwd / "var" / "serve.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_version_and_help_on_every_option(tmp_path: Path) -> None:
    from gateway.cli import build_parser

    version = karpov("--version", cwd=tmp_path)
    assert version.returncode == 0
    assert re.fullmatch(r"karpov \S+\n", version.stdout), version.stdout
    parser = build_parser()
    parsers = [parser]
    while parsers:
        current = parsers.pop()
        for action in current._actions:
            if action.choices and isinstance(action.choices, dict):
                parsers.extend(action.choices.values())  # subcommands
            elif action.option_strings:
                assert action.help, (current.prog, action.option_strings)


def test_export_schema_prints_to_stdout_and_writes_nothing(tmp_path: Path) -> None:
    before = SDL_PATH.stat().st_mtime_ns
    result = karpov("export-schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SDL_PATH.read_text()
    assert SDL_PATH.stat().st_mtime_ns == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]], ids=lambda c: c[0])
def test_an_unreachable_database_is_one_clear_line(tmp_path: Path, command: list[str]) -> None:
    url = "postgresql+asyncpg://karpov:secret@127.0.0.1:1/karpov"
    result = karpov(*command, cwd=tmp_path, KARPOV_DATABASE_URL=url, KARPOV_MASTER_KEY=MASTER_KEY)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot use the database" in lines[0]
    assert "127.0.0.1:1" in lines[0]
    assert "secret" not in lines[0]  # the password is hidden
    assert "Traceback" not in result.stderr
