"""Which of our source files one request runs through, and which data shapes it builds.

``python -m bench.request_path`` starts the app in-process on a throw-away SQLite database
(no server, no network), signs a user in, creates an API key, and then traces exactly one
``PATCH /v1/auth/api-keys/{id}`` with ``sys.setprofile``: every Python function call made
while that request is handled is attributed to the file that defines the function. Files
of this repository (``domain/``, ``persistence/``, ``integrations/``, ``resolvers/``,
``schema/``, ``rest/``, ``gateway/``) are printed; libraries are not. The count is the
answer to "how many of our files does one request cross".
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from gateway.app import create_app
from gateway.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "persistence", "integrations", "resolvers", "schema", "rest", "gateway")
PASSWORD = "Correct-Horse-42-Battery"


def _ours(filename: str) -> str | None:
    try:
        relative = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    return str(relative) if relative.parts[0] in PACKAGES else None


async def _traced_patch(directory: Path) -> set[str]:
    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{directory / 'karpov.db'}",
        master_key="ab" * 32,
        hibp_mode="off",
    )
    from persistence.migrate import upgrade_to_head

    await upgrade_to_head(settings.database_url)
    app = create_app(settings)
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            name = _ours(frame.f_code.co_filename)
            if name is not None:
                seen.add(name)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            credentials = {"email": "path@example.com", "password": PASSWORD}
            await client.get("/v1/config/runtime")  # the csrf_token cookie
            csrf = {"X-CSRF-Token": client.cookies["csrf_token"]}
            await client.post("/v1/auth/register", json=credentials, headers=csrf)
            login = await client.post("/v1/auth/login", json=credentials, headers=csrf)
            headers = _bearer(login.json()["sid"])
            created = await client.post("/v1/auth/api-keys", json={"name": "ci"}, headers=headers)
            key_id = created.json()["id"]
            body = {"name": "deploys", "rateLimitRpm": 60}
            # One untraced request first: imports and caches are not the request's path.
            warm = {"name": "warm-up", "rateLimitRpm": 30}
            await client.patch(f"/v1/auth/api-keys/{key_id}", json=warm, headers=headers)
            sys.setprofile(profile)
            try:
                response = await client.patch(
                    f"/v1/auth/api-keys/{key_id}", json=body, headers=headers
                )
            finally:
                sys.setprofile(None)
            assert response.status_code == 200, response.text
    return seen


def _bearer(token: str) -> dict[str, str]:
    # A header credential: no CSRF token needed, as for any API client.
    return {"Authorization": f"Bearer {token}"}


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        files = asyncio.run(_traced_patch(Path(directory)))
    for name in sorted(files):
        print(name)
    print(f"{len(files)} files on the path of PATCH /v1/auth/api-keys/{{id}}")


if __name__ == "__main__":
    main()
