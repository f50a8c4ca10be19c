"""The fake NetEase on loopback: uvicorn on its own thread, bound to port 0 so parallel
test runs never race for a port. Sync and async tests (and other processes) reach it over
real TCP::

    with FakeNeteaseServer() as server:
        config = NeteaseConfig(api_url=server.base_url, weapi_key=...)

The ``fake`` attribute is the ``FakeNetease`` it serves (state, knobs, recorded calls);
its ``asyncio`` knobs (``gate``) belong to the server's loop and are not for use here.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType

import uvicorn

from tests.fakes.netease.app import FakeNetease

_HOST = "127.0.0.1"
_START_TIMEOUT = 10.0


class FakeNeteaseServer:
    def __init__(self, fake: FakeNetease | None = None) -> None:
        self.fake = fake or FakeNetease()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("the fake NetEase server is not running (call start())")
        return f"http://{_HOST}:{self._port}"

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the fake NetEase server is already running")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind((_HOST, 0))
        config = uvicorn.Config(
            self.fake.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [listener]}, name="fake-netease", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                listener.close()
                raise RuntimeError("the fake NetEase server did not start")
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

    def __enter__(self) -> FakeNeteaseServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> FakeNeteaseServer:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
