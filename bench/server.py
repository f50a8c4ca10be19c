"""The process under test: the real Karpov app and bare Starlette routes behind one
dispatcher (one uvicorn worker, one event loop, one CPU when ``--cpu`` is given).

``GET /__bare/<case>`` is the baseline of a case of ``bench.cases``: a plain Starlette route
rendering, with ``JSONResponse`` on every call, the JSON the case's real route answered
(handed over once by the bench with ``PUT /__bare/<case>``). Both share the process, the
loop and the CPU, so the ratio of their throughputs is what Karpov does per request.

Run as ``python -m bench.server --port N [--cpu K]``; settings come from ``KARPOV_*``.
Several processes may share one port (``SO_REUSEPORT``, ``--reuse-port``): the kernel
spreads the connections over them (case (e)).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bench.cases import BARE_PREFIX
from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.settings import load_settings


def build_bare_app() -> Starlette:
    bodies: dict[str, Any] = {}

    async def bare(request: Request) -> Response:
        body = bodies.get(request.path_params["case"])
        if body is None:
            return JSONResponse({"message": "PUT the body first"}, 404)
        return JSONResponse(body)

    async def store(request: Request) -> Response:
        bodies[request.path_params["case"]] = json.loads(await request.body())
        return Response(status_code=204)

    return Starlette(routes=[
        Route(BARE_PREFIX + "{case}", bare, methods=["GET"]),
        Route(BARE_PREFIX + "{case}", store, methods=["PUT"]),
    ])  # fmt: skip


class Dispatcher:
    """``/__bare/...`` to the bare app, everything else (lifespan included) to Karpov."""

    def __init__(self, karpov: Starlette) -> None:
        self.karpov = karpov
        self.bare = build_bare_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(BARE_PREFIX):
            await self.bare(scope, receive, send)
            return
        await self.karpov(scope, receive, send)


def build_app() -> Dispatcher:
    settings = load_settings()
    configure_logging(settings.log_level)
    # As `karpov serve` (gateway.asgi); BENCH_GC_DEFAULTS=1 measures CPython's defaults.
    tune = os.environ.get("BENCH_GC_DEFAULTS", "0") != "1"
    return Dispatcher(create_app(settings, tune_gc_on_start=tune))


def _fastest(module: str, fallback: str) -> str:
    return module if importlib.util.find_spec(module) else fallback


def _socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one CPU")
    parser.add_argument("--reuse-port", action="store_true")
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    config = uvicorn.Config(
        build_app(), workers=1, loop=_fastest("uvloop", "auto"),
        http=_fastest("httptools", "auto"), log_level="warning", access_log=False,
        proxy_headers=False, server_header=False, log_config=None,  # as `karpov serve`
    )  # fmt: skip
    server = uvicorn.Server(config)
    server.run(sockets=[_socket(args.host, args.port, args.reuse_port)])


if __name__ == "__main__":
    main()
