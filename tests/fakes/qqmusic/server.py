"""The fake QQ Music on a real loopback socket (uvicorn on its own thread, port 0), for
tests that need real TCP: time-outs, connection errors, other processes."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from tests.fakes.qqmusic.app import FakeQQMusic

_START_TIMEOUT = 10.0


class LoopbackServer:
    def __init__(self, fake: FakeQQMusic) -> None:
        self.fake = fake
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.origin = ""

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind(("127.0.0.1", 0))
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
            target=server.run, kwargs={"sockets": [listener]}, name="fake-qqmusic", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                listener.close()
                raise RuntimeError("the fake QQ Music server did not start")
            time.sleep(0.002)
        self._server, self._thread, self._socket = server, thread, listener
        self.origin = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=_START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> LoopbackServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
