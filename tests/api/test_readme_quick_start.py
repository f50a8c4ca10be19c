"""The README's quick start, run as printed (curl and python3, as a newcomer types it)
against a real server; only the base URL differs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.live import live_karpov

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start_script() -> str:
    text = README.read_text()
    start = text.index("## Quick start")
    end = re.compile(r"^#{2,3} ", re.M).search(text, start + 1)
    assert end is not None
    section = text[start : end.start()]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the quick start has a /v1 and a GraphQL block"
    return "set -euo pipefail\n" + "\n".join(blocks)


def test_the_readme_quick_start_works_as_printed(sqlite_url: str, tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is required (the README's quick start uses it)")
    script = quick_start_script()
    assert "B=http://127.0.0.1:8080" in script
    with live_karpov(sqlite_url) as base:
        done = subprocess.run(
            ["bash", "-c", script.replace("B=http://127.0.0.1:8080", f"B={base}")],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert '"email":"me@example.com"' in out  # registered, then /v1/auth/me with the key
    assert "HTTP/1.1 200 OK" in out
    assert (
        '{"data":{"viewer":{"email":"me@example.com","apiKeys":{"nodes":[{"name":"my first key"'
        in out
    )
    assert '"rateLimit":{"plan":{"name":' in out
