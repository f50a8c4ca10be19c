"""The process under test for the metered benchmark: the real Karpov app with one no-op
metered route, and a bare Starlette route answering the same JSON, behind one dispatcher
(one uvicorn worker, one event loop, one CPU).

``GET /v1/bench/metered`` with an API key pays everything a metered call pays: key
verification (cache hit), scopes, one quota admission covering the key's RPM and daily
limits and the plan's QPS, daily and monthly units (one Lua script with Redis, the
in-process gate without), usage recording; the handler itself does nothing.

Run as ``python -m bench.metered_server --port N [--cpu K]``; settings from ``KARPOV_*``.
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.server import _fastest
from domain.quota.metering import metered
from gateway.app import create_app
from gateway.logs import configure_logging
from gateway.settings import load_settings
from rest.envelope import Style
from rest.router import RestRequest, Route

METERED_PATH = "/v1/bench/metered"
BARE_PATH = "/__bare/metered"
BARE_SONG_PATH = "/__bare/song"  # music (issue 13): the baseline of `python -m bench.music`
BARE_SONG = {
    "id": "0" * 32, "provider": "local", "title": "Morning Light", "artist": "Aurora Lane",
    "artists": [{"id": "1" * 32, "name": "Aurora Lane"}], "durationSeconds": 2,
    "durationMs": 2000, "isVipOnly": False, "playable": True, "publishDate": "2024-01-01",
    "album": {"id": "2" * 32, "title": "First Rays",
              "cover": "http://localhost:8080/v1/local/covers/" + "3" * 32},
    "availableQualities": ["FLAC"], "isrc": "KRPV26000001",
}  # fmt: skip
BENCH_OPERATION = metered("benchMetered", "bench.noop", 1)


async def _noop(req: RestRequest) -> dict[str, bool]:
    return {"ok": True}


METERED_ROUTE = Route(
    "GET", METERED_PATH, _noop, Style.GIN, "A metered operation that does nothing",
    auth="session", twin="benchMetered",
)  # fmt: skip


def build_app() -> ASGIApp:
    settings = load_settings()
    configure_logging(settings.log_level)
    karpov = create_app(settings, extra_routes=[METERED_ROUTE])

    async def bare_metered(request: Request) -> Response:
        return JSONResponse({"code": 200, "message": "success", "data": {"ok": True}})

    # The baseline is a bare Starlette route rendering the same JSON, as in `make bench`.
    async def bare_song(request: Request) -> Response:
        return JSONResponse({"code": 200, "message": "success", "data": BARE_SONG})

    bare = Starlette(routes=[
        StarletteRoute(BARE_PATH, bare_metered, methods=["GET"]),
        StarletteRoute(BARE_SONG_PATH, bare_song, methods=["GET"]),
    ])  # fmt: skip

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in (BARE_PATH, BARE_SONG_PATH):
            await bare(scope, receive, send)
            return
        await karpov(scope, receive, send)

    return dispatch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.metered_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args(argv)
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    uvicorn.run(
        build_app(), host=args.host, port=args.port, workers=1,
        loop=_fastest("uvloop", "auto"), http=_fastest("httptools", "auto"),
        log_level="warning", access_log=False, proxy_headers=False, server_header=False,
        log_config=None,
    )  # fmt: skip


if __name__ == "__main__":
    main()
