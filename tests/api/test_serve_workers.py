"""Issue 12, item 5: ``karpov serve --workers N`` (N > 1) without Redis refuses to start with
one line saying why, instead of silently multiplying every limit, throttle and key cache by
the number of processes."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_cli import MASTER_KEY, karpov, sqlite_file_url


def test_several_workers_without_redis_refuse_to_start(tmp_path: Path) -> None:
    result = karpov(
        "serve", "--workers", "2", "--port", "1", cwd=tmp_path,
        KARPOV_DATABASE_URL=sqlite_file_url(tmp_path / "k.db"), KARPOV_MASTER_KEY=MASTER_KEY,
    )  # fmt: skip
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--workers 2" in lines[0] and "KARPOV_REDIS_URL" in lines[0]
    assert not (tmp_path / "k.db").exists()  # refused before anything was touched
