"""``karpov catalog demo`` and ``karpov catalog import``, run as real subprocesses on a
fresh SQLite database (the "done when" path's second command): the demo writes and
imports five songs; importing again updates, never duplicates; the app then serves them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.api.harness import running_app
from tests.api.test_cli import MASTER_KEY, karpov, sqlite_file_url


async def test_demo_then_import_again_then_serve(tmp_path: Path) -> None:
    database = tmp_path / "karpov.db"
    settings = {
        "KARPOV_DATABASE_URL": sqlite_file_url(database), "KARPOV_MASTER_KEY": MASTER_KEY,
        "KARPOV_CATALOG_DIR": str(tmp_path / "music"),
    }  # fmt: skip
    demo = karpov("catalog", "demo", cwd=tmp_path, **settings)
    assert demo.returncode == 0, demo.stderr
    assert "5 new, 0 updated, 1 playlist(s), 0 skipped" in demo.stdout
    assert sorted(p.suffix for p in (tmp_path / "music" / "demo").iterdir()).count(".lrc") == 5

    again = karpov("catalog", "import", str(tmp_path / "music"), cwd=tmp_path, **settings)
    assert again.returncode == 0, again.stderr
    assert "0 new, 5 updated" in again.stdout
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM catalog_tracks").fetchone() == (5,)
        assert db.execute("SELECT count(*) FROM catalog_fts").fetchone() == (5,)

    missing = karpov("catalog", "import", str(tmp_path / "nowhere"), cwd=tmp_path, **settings)
    assert missing.returncode == 2 and "is not a directory" in missing.stderr

    async with running_app(sqlite_file_url(database), master_key=MASTER_KEY) as (api, _):
        browser = api.fresh()
        body = {"email": "cli@example.com", "password": "Correct-Horse-42-Battery"}
        await browser.post("/v1/auth/register", body)
        assert (await browser.post("/v1/auth/login", body)).status_code == 200
        found = await browser.get("/v1/local/search/songs?q=tide")
        assert found.json()["data"]["items"][0]["title"] == "Evening Tide"
