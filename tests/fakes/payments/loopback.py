"""Serve any ASGI app on 127.0.0.1 (a free port) from its own thread, for loopback tests.

async with LoopbackServer(fake.app) as server:
    ... server.base_url ...
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

_HOST = "127.0.0.1"
_START_TIMEOUT = 10.0


class LoopbackServer:
    def __init__(self, app: ASGIApp, *, name: str = "fake-payments") -> None:
        self._app = app
        self._name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the loopback server is not running")
        return f"http://{_HOST}:{self._port}"

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind((_HOST, 0))  # port 0: parallel test runs never race for a port
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name=self._name, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                listener.close()
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.002)
        self._server, self._thread, self._socket = server, thread, listener
        self._port = int(listener.getsockname()[1])

    def stop(self) -> None:
        server, thread, listener = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._port = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout=_START_TIMEOUT)
        if listener is not None:
            listener.close()

    async def __aenter__(self) -> LoopbackServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
