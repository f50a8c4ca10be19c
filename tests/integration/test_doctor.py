"""``karpov doctor``, ``karpov --version`` and ``karpov worker`` without Redis, as a user
runs them (subprocesses): the effective configuration with secrets masked, one
``problem:`` line per failed check, exit 1 when there is one."""

from __future__ import annotations

import asyncio
import os

from tests.support.processes import KARPOV, ROOT, free_port
from tests.support.services import MASTER_KEY

SMTP_SECRET = "smtp-password-that-must-not-print"
ADMIN_SECRET = "admin-token-that-must-not-print"


async def karpov(*args: str, **env: str) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KARPOV_")}
    process = await asyncio.create_subprocess_exec(
        *KARPOV, *args, cwd=ROOT, env={**base, "PYTHONPATH": str(ROOT), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_doctor_masks_secrets_and_passes_a_good_configuration(sqlite_url: str) -> None:
    code, out = await karpov(
        "doctor", KARPOV_DATABASE_URL=sqlite_url, KARPOV_MASTER_KEY=MASTER_KEY,
        KARPOV_SMTP_PASSWORD=SMTP_SECRET, KARPOV_ADMIN_TOKENS=ADMIN_SECRET,
    )  # fmt: skip
    assert code == 0, out
    assert "ok: no problems found" in out and "problem:" not in out
    assert SMTP_SECRET not in out and ADMIN_SECRET not in out and MASTER_KEY not in out
    assert "smtp_password = ********" in out and "master_key = ********" in out
    assert f"database_url = {sqlite_url}" in out


async def test_doctor_names_each_problem_on_its_own_line(tmp_path: object) -> None:
    port = free_port()  # nothing listens there
    code, out = await karpov(
        "doctor", KARPOV_ENV="prod",
        KARPOV_DATABASE_URL=f"postgresql+asyncpg://karpov:db-secret@127.0.0.1:{port}/karpov",
        KARPOV_REDIS_URL=f"redis://127.0.0.1:{port}/0",
        KARPOV_PUBLIC_BASE_URL="http://api.example.com",
    )  # fmt: skip
    assert code == 1, out
    problems = [line for line in out.splitlines() if line.startswith("problem: ")]
    assert [p.split(":")[1].strip() for p in problems] == [
        "database", "redis", "KARPOV_MASTER_KEY", "KARPOV_PUBLIC_BASE_URL",
    ], problems  # fmt: skip
    assert "db-secret" not in out and "karpov:********@127.0.0.1" in out


async def test_version_and_a_worker_without_redis() -> None:
    code, out = await karpov("--version")
    assert (code, out.strip()) == (0, "karpov 0.1.0")
    code, out = await karpov("worker", KARPOV_MASTER_KEY=MASTER_KEY)
    assert code == 2 and "needs KARPOV_REDIS_URL" in out
