"""The process under test: the real Karpov app and a bare Starlette app behind one dispatcher.

Both apps share one uvicorn worker, one event loop and one CPU, so the only difference between
``GET /v1/auth/me`` and ``GET /__bare/me`` is what Karpov does per request (middleware,
session lookup, routing, serialisation): the ratio of their throughputs is the overhead.

Run as ``python -m bench.server --port N [--cpu K]``; settings come from ``KARPOV_*``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.settings import load_settings

BARE_PATH = "/__bare/me"
ME_PATH = "/v1/auth/me"


def build_bare_app(captured: dict[str, Any]) -> Starlette:
    """A plain Starlette app whose one endpoint renders the body ``/v1/auth/me`` returned,
    so both routes serialise and send the same JSON."""

    async def bare_me(request: Request) -> Response:
        body = captured.get("me")
        if body is None:
            return JSONResponse({"message": f"call {ME_PATH} once first"}, 503)
        return JSONResponse(body)

    return Starlette(routes=[Route(BARE_PATH, bare_me, methods=["GET"])])


def build_dispatcher(karpov: ASGIApp) -> ASGIApp:
    """Route ``/__bare/me`` to the bare app, everything else (lifespan included) to Karpov.

    The first successful ``/v1/auth/me`` body is teed off and becomes the bare app's body;
    after that the Karpov path pays one dict lookup and one string comparison, nothing more.
    """
    captured: dict[str, Any] = {}
    bare = build_bare_app(captured)

    async def capture_me(scope: Scope, receive: Receive, send: Send) -> None:
        status = 0
        chunks: list[bytes] = []

        async def tee(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await karpov(scope, receive, tee)
        if status == 200 and "me" not in captured:
            captured["me"] = json.loads(b"".join(chunks))

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == BARE_PATH:
                await bare(scope, receive, send)
                return
            if path == ME_PATH and "me" not in captured:
                await capture_me(scope, receive, send)
                return
        await karpov(scope, receive, send)

    return dispatch


def build_app() -> ASGIApp:
    settings = load_settings()
    configure_logging(settings.log_level)
    return build_dispatcher(create_app(settings))


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) else fallback


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    uvicorn.run(
        build_app(),
        host=args.host,
        port=args.port,
        workers=1,
        loop=_fastest("uvloop", "auto"),
        http=_fastest("httptools", "auto"),
        log_level="warning",
        access_log=False,
        proxy_headers=False,  # as `karpov serve`
        server_header=False,
        log_config=None,
    )


if __name__ == "__main__":
    main()
