"""TOTP secrets at rest: the raw columns hold key-ring blobs, never the secret; recovery
codes are stored hashed; ``karpov keys rotate`` (in process and as a real subprocess)
re-encrypts every secret under a new key version and sign-in keeps working."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import ManualClock
from tests.api.harness import STRONG_PASSWORD, Api, running_app
from tests.fakes.hibp_server import FakeHibpServer

REPO = Path(__file__).resolve().parents[2]
MASTER_KEY = "ab" * 32  # the harness's default
STEP = 30


@dataclass
class Env:
    api: Api
    app: Any
    clock: ManualClock
    database_url: str

    @property
    def engine(self) -> AsyncEngine:
        return self.app.state.container.engine  # type: ignore[no-any-return]

    def code(self, secret: str, offset: float = 0) -> str:
        return pyotp.TOTP(secret).at(self.clock.now() + timedelta(seconds=offset))


@pytest_asyncio.fixture(loop_scope="session")
async def env(backend: tuple[str, str | None], hibp: FakeHibpServer) -> AsyncIterator[Env]:
    database_url, redis_url = backend
    clock = ManualClock(datetime.now(UTC))
    async with running_app(database_url, redis_url=redis_url, hibp=hibp, clock=clock) as (
        api,
        app,
    ):
        yield Env(api, app, clock, database_url)


# -- helpers ---------------------------------------------------------------------------


async def signed_in(env: Env, email: str) -> Api:
    browser = env.api.fresh()
    await browser.post("/v1/auth/register", {"email": email, "password": STRONG_PASSWORD})
    response = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert response.status_code == 200 and "sid" in response.json(), response.text
    return browser


async def begin(browser: Api) -> str:
    response = await browser.post("/v1/auth/totp/enable", {})
    assert response.status_code == 200, response.text
    return str(response.json()["secretBase32"])


async def confirm(env: Env, browser: Api, secret: str) -> dict[str, Any]:
    response = await browser.post("/v1/auth/totp/enable/confirm", {"code": env.code(secret)})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def user_id(browser: Api) -> str:
    return str((await browser.get("/v1/auth/me")).json()["id"])


async def raw_factor(engine: AsyncEngine, uid: str) -> tuple[bytes | None, bytes | None]:
    """(secret_enc, pending_secret_enc) exactly as the database holds them."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT secret_enc, pending_secret_enc FROM user_totp WHERE user_id = :u"),
                {"u": uid},
            )
        ).one()
    return (None if row[0] is None else bytes(row[0]), None if row[1] is None else bytes(row[1]))


async def raw_recovery_hashes(engine: AsyncEngine, uid: str) -> list[Any]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT code_hash FROM totp_recovery_codes WHERE user_id = :u"), {"u": uid}
        )
        return [row[0] for row in rows]


async def key_versions(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT version FROM key_versions ORDER BY version"))
        return [int(row[0]) for row in rows]


def blob_version(blob: bytes) -> int:
    return int.from_bytes(blob[2:6], "big")


def assert_sealed(blob: bytes | None, secret: str) -> None:
    """A key-ring blob that reveals nothing of ``secret`` in any spelling."""
    assert blob is not None
    assert blob.startswith(b"K1")
    raw_secret = base64.b32decode(secret)
    for needle in (
        secret.encode(),
        secret.lower().encode(),
        raw_secret,
        secret.encode("utf-16-le"),
    ):
        assert needle not in blob
    assert secret not in blob.hex().upper()
    assert raw_secret.hex() not in blob.hex()
    assert len(blob) >= 6 + 12 + len(secret) + 16  # header, nonce, ciphertext, tag


async def sign_in_with_totp(env: Env, email: str, secret: str) -> None:
    """A full challenge sign-in at the next time step (so the code is fresh)."""
    env.clock.advance(STEP)
    browser = env.api.fresh()
    login = await browser.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert login.json()["totpRequired"] is True, login.text
    done = await browser.post(
        "/v1/auth/totp/verify",
        {"challengeId": login.json()["challengeId"], "code": env.code(secret)},
    )
    assert done.status_code == 200, done.text
    assert (await browser.get("/v1/auth/me")).json()["email"] == email


# -- at rest ---------------------------------------------------------------------------


async def test_pending_and_enabled_secrets_are_stored_encrypted(env: Env) -> None:
    browser = await signed_in(env, "rest@example.com")
    uid = await user_id(browser)
    secret = await begin(browser)
    enabled, pending = await raw_factor(env.engine, uid)
    assert enabled is None
    assert_sealed(pending, secret)

    await confirm(env, browser, secret)
    enabled, pending = await raw_factor(env.engine, uid)
    assert pending is None
    assert_sealed(enabled, secret)

    async with env.engine.connect() as conn:  # nowhere else in the table either
        row = (
            await conn.execute(text("SELECT * FROM user_totp WHERE user_id = :u"), {"u": uid})
        ).one()
    for value in row:
        if isinstance(value, bytes | bytearray | memoryview):
            assert secret.encode() not in bytes(value)
        else:
            assert secret not in str(value)


async def test_blobs_use_fresh_nonces_and_are_bound_to_their_owner(env: Env) -> None:
    alice = await signed_in(env, "alice@example.com")
    bob = await signed_in(env, "bob@example.com")
    alice_id, bob_id = await user_id(alice), await user_id(bob)
    await confirm(env, alice, await begin(alice))
    bob_secret = await begin(bob)
    await confirm(env, bob, bob_secret)
    first, _ = await raw_factor(env.engine, alice_id)
    second, _ = await raw_factor(env.engine, bob_id)
    assert first is not None and second is not None and first != second
    assert first[6:18] != second[6:18]  # fresh nonces

    # Copy Alice's blob into Bob's row: it must not decrypt as Bob's secret.
    async with env.engine.begin() as conn:
        await conn.execute(
            text("UPDATE user_totp SET secret_enc = :b WHERE user_id = :u"),
            {"b": first, "u": bob_id},
        )
    env.clock.advance(STEP)
    phone = env.api.fresh()
    login = await phone.post(
        "/v1/auth/login", {"email": "bob@example.com", "password": STRONG_PASSWORD}
    )
    response = await phone.post(
        "/v1/auth/totp/verify",
        {"challengeId": login.json()["challengeId"], "code": env.code(bob_secret)},
    )
    assert response.status_code == 500, response.text
    assert "sid" not in phone.http.cookies


async def test_recovery_codes_are_stored_hashed(env: Env) -> None:
    browser = await signed_in(env, "hash@example.com")
    uid = await user_id(browser)
    codes = (await confirm(env, browser, await begin(browser)))["recoveryCodes"]
    hashes = await raw_recovery_hashes(env.engine, uid)
    assert len(hashes) == 10 and len(set(hashes)) == 10
    stored = " ".join(hashes).upper()
    for code in codes:
        for spelling in (code, code.replace("-", ""), code[:5], code[6:]):
            assert spelling.upper() not in stored
    assert all(len(h) == 64 for h in hashes)


# -- key rotation ----------------------------------------------------------------------


async def test_rotation_reencrypts_every_secret_and_sign_in_keeps_working(env: Env) -> None:
    enabled = await signed_in(env, "on@example.com")
    pending = await signed_in(env, "pending@example.com")
    enabled_id, pending_id = await user_id(enabled), await user_id(pending)
    secret = await begin(enabled)
    await confirm(env, enabled, secret)
    pending_secret = await begin(pending)
    await signed_in(env, "plain@example.com")  # no factor: nothing to rotate

    before, _ = await raw_factor(env.engine, enabled_id)
    _, pending_before = await raw_factor(env.engine, pending_id)
    assert before is not None and pending_before is not None
    start = blob_version(before)
    assert blob_version(pending_before) == start
    assert await key_versions(env.engine) == [start]

    rotation = env.app.state.container.services.key_rotation
    for expected in (start + 1, start + 2):
        report = await rotation.rotate()
        assert (report.version, report.reencrypted, report.remaining) == (expected, 2, 0)
        after, _ = await raw_factor(env.engine, enabled_id)
        _, pending_after = await raw_factor(env.engine, pending_id)
        assert after is not None and blob_version(after) == expected
        assert pending_after is not None and blob_version(pending_after) == expected
        assert_sealed(after, secret)
        assert_sealed(pending_after, pending_secret)
        assert await key_versions(env.engine) == list(range(start, expected + 1))
        await sign_in_with_totp(env, "on@example.com", secret)

    # The pending enrolment survived both rotations and can still be confirmed.
    await confirm(env, pending, pending_secret)
    await sign_in_with_totp(env, "pending@example.com", pending_secret)
    # New secrets are sealed under the newest version.
    late = await signed_in(env, "late@example.com")
    await confirm(env, late, await begin(late))
    blob, _ = await raw_factor(env.engine, await user_id(late))
    assert blob is not None and blob_version(blob) == start + 2


async def test_rotation_with_nothing_stored_only_adds_a_version(env: Env) -> None:
    rotation = env.app.state.container.services.key_rotation
    first = await rotation.rotate()
    assert (first.reencrypted, first.remaining) == (0, 0)
    second = await rotation.rotate()
    assert second.version == first.version + 1
    assert (await key_versions(env.engine))[-2:] == [first.version, second.version]


def karpov_cli(
    *args: str, database_url: str, master_key: str = MASTER_KEY
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
    environment.update(
        PYTHONPATH=str(REPO), KARPOV_DATABASE_URL=database_url, KARPOV_MASTER_KEY=master_key
    )
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_keys_rotate_command_reencrypts_under_a_running_app(
    sqlite_url: str, hibp: FakeHibpServer
) -> None:
    """Another process rotates the SQLite file the app is serving: the app learns the new
    key version from the blob and keeps signing users in."""
    clock = ManualClock(datetime.now(UTC))
    async with running_app(sqlite_url, hibp=hibp, clock=clock) as (api, app):
        env = Env(api, app, clock, sqlite_url)
        browser = await signed_in(env, "cli@example.com")
        uid = await user_id(browser)
        secret = await begin(browser)
        await confirm(env, browser, secret)
        await sign_in_with_totp(env, "cli@example.com", secret)  # the app has loaded the ring
        before, _ = await raw_factor(env.engine, uid)
        assert before is not None

        for rotation in (1, 2):
            result = karpov_cli("keys", "rotate", database_url=sqlite_url)
            assert result.returncode == 0, result.stderr
            version = blob_version(before) + rotation
            assert f"key version {version} is current" in result.stdout, result.stdout
            assert "re-encrypted 1 secret(s)" in result.stdout, result.stdout
            after, _ = await raw_factor(env.engine, uid)
            assert after is not None and blob_version(after) == version
            assert_sealed(after, secret)
            await sign_in_with_totp(env, "cli@example.com", secret)


async def test_the_keys_rotate_command_with_a_wrong_master_key_changes_nothing(
    sqlite_url: str, hibp: FakeHibpServer
) -> None:
    """A mistyped master key must fail without storing anything: a key version wrapped
    under the wrong key would make every later load of the key ring fail."""
    clock = ManualClock(datetime.now(UTC))
    async with running_app(sqlite_url, hibp=hibp, clock=clock) as (api, app):
        env = Env(api, app, clock, sqlite_url)
        browser = await signed_in(env, "key@example.com")
        uid = await user_id(browser)
        secret = await begin(browser)
        await confirm(env, browser, secret)
        before, _ = await raw_factor(env.engine, uid)
        versions = await key_versions(env.engine)

        wrong = karpov_cli("keys", "rotate", database_url=sqlite_url, master_key="ef" * 32)
        assert wrong.returncode != 0
        assert "ef" * 32 not in wrong.stdout + wrong.stderr
        assert await raw_factor(env.engine, uid) == (before, None)
        assert await key_versions(env.engine) == versions

        right = karpov_cli("keys", "rotate", database_url=sqlite_url)
        assert right.returncode == 0, right.stderr
        await sign_in_with_totp(env, "key@example.com", secret)
