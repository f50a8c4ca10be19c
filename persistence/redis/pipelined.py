"""perf (issue 18): a lean Redis client for the quota gate, whose one script call per
request is the hot path of every metered call.

redis-py spends far longer per command than Redis does (≈ 90 µs of client work for a
script call: the pool, retries, observability hooks, its parser). This client keeps one
connection, writes every command issued during one event-loop tick in one ``write``
(commands keep their order: Redis answers them in that order, each script still atomic on
its own, so coalescing changes nothing about what is decided) and reads the replies with
``hiredis``. What it offers is what ``RedisQuotaGate`` calls: ``execute_command``,
``exists`` and ``aclose``; failures raise redis-py's exception types, so callers map them
as before:

* an unreachable Redis: ``redis.exceptions.ConnectionError`` (a refused or lost connection
  fails every command waiting on it; the next command connects again);
* a Redis that does not answer within ``timeout`` seconds: ``redis.exceptions.TimeoutError``
  for every command waiting; the connection takes no more commands (a late reply must not
  be taken for the next command's), and the next command connects again. A command sent
  with ``on_late`` keeps the old connection open for up to ``LATE_REPLY_WINDOW`` seconds
  to read its reply: Redis may still run it (a script that reserves quota, issue 18), and
  ``on_late(reply)`` lets the caller undo what it did; without one the connection is
  dropped at once;
* an error reply: ``ResponseError`` (``NoScriptError`` for ``NOSCRIPT``).

URLs as redis-py takes them: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://``
(TLS) and ``unix://path?db=N``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

LATE_REPLY_WINDOW = 30.0
"""Seconds a timed-out connection stays open for the replies of its ``on_late`` commands."""

LateReply = Callable[[Any], None]
"""Called with the reply (or a ``ResponseError``) of a command that timed out, if it comes."""


def _encode(arg: bytes | str | int | float) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, bool):
        raise TypeError("a bool is not a Redis argument")
    return repr(arg).encode()


def pack(args: tuple[Any, ...]) -> bytes:
    """One command in RESP."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = _encode(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _error(reply: hiredis.ReplyError) -> ResponseError:
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return ResponseError(message)


class _Connection(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._reader = hiredis.Reader()
        self._pending: deque[tuple[asyncio.Future[Any], float, LateReply | None]] = deque()
        self._out: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self._watchdog: asyncio.TimerHandle | None = None
        self.closed = False
        """No more commands: failed, closed, or timed out and reading late replies."""
        self.draining = False
        """Timed out, open only for the late replies of ``on_late`` commands."""

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        pending = self._pending
        while pending:
            reply = reader.gets()
            if reply is False:
                return
            future, _, on_late = pending.popleft()
            if future.done():
                if on_late is not None and self.draining:
                    _deliver_late(on_late, _error(reply) if isinstance(reply, hiredis.ReplyError)
                                  else reply)  # fmt: skip
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(_error(reply))
            else:
                future.set_result(reply)
        if self.draining and not pending and self._transport is not None:
            self._stop_watchdog()
            self._transport.close()  # every late reply read

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"connection to Redis lost: {exc!r}"))

    # -- commands -----------------------------------------------------------------------

    def send(self, command: bytes, on_late: LateReply | None = None) -> asyncio.Future[Any]:
        if self.closed or self._transport is None:
            raise RedisConnectionError("connection to Redis closed")
        future: asyncio.Future[Any] = self._loop.create_future()
        now = time.monotonic()
        self._pending.append((future, now, on_late))
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(command)
        if self._watchdog is None:
            self._watchdog = self._loop.call_at(self._loop.time() + self._timeout, self._check)
        return future

    def _flush(self) -> None:
        out, self._out = self._out, []
        if out and self._transport is not None and not self.closed:
            self._transport.write(b"".join(out))

    def _check(self) -> None:
        """The oldest command waiting for longer than the timeout fails every waiting
        command; a draining connection whose window has passed is dropped."""
        self._watchdog = None
        if not self._pending:
            return
        if self.draining:
            lost = sum(1 for _, _, on_late in self._pending if on_late is not None)
            log.warning("Redis sent no reply to %d timed-out command(s) within %s s",
                        lost, LATE_REPLY_WINDOW)  # fmt: skip
            self._fail(RedisTimeoutError("late replies not received"))
            return
        oldest = self._pending[0][1]
        left = oldest + self._timeout - time.monotonic()
        if left <= 0:
            self._time_out(RedisTimeoutError(f"Redis did not answer within {self._timeout} s"))
            return
        self._watchdog = self._loop.call_at(self._loop.time() + left, self._check)

    def _time_out(self, error: Exception) -> None:
        """Fail every waiting command. Commands not yet written are dropped (Redis never
        sees them); if a written one asked for its late reply, keep reading until every
        written command is answered or ``LATE_REPLY_WINDOW`` has passed."""
        unsent, self._out = len(self._out), []
        for _ in range(unsent):
            future, _, _ = self._pending.pop()
            if not future.done():
                future.set_exception(error)
        # Only what timed out now is handed its late reply: a command whose caller was
        # cancelled before keeps what Redis did, as it would have without the timeout.
        waiting = deque(
            (future, sent, None if future.done() else on_late)
            for future, sent, on_late in self._pending
        )
        if not any(on_late is not None for _, _, on_late in waiting):
            self._fail(error)
            return
        self._pending = waiting
        self.closed = self.draining = True
        for future, _, _ in waiting:
            if not future.done():
                future.set_exception(error)
        self._stop_watchdog()
        self._watchdog = self._loop.call_at(self._loop.time() + LATE_REPLY_WINDOW, self._check)

    def _stop_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _fail(self, error: Exception) -> None:
        self.closed = True
        self.draining = False
        self._stop_watchdog()
        if self._transport is not None:
            self._transport.abort()
        while self._pending:
            future, _, _ = self._pending.popleft()
            if not future.done():
                future.set_exception(error)

    def close(self) -> None:
        self._fail(RedisConnectionError("client closed"))


def _deliver_late(on_late: LateReply, reply: Any) -> None:
    try:
        on_late(reply)
    except Exception:  # the reader must go on with the next reply
        log.exception("a late Redis reply's handler failed")


class PipelinedRedis:
    """See the module docstring. Must be used from one event loop."""

    accepts_late_replies = True
    """``execute_command`` takes ``on_late`` (``RedisQuotaGate`` asks for it by this)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        options = parse_url(url)
        self._timeout = timeout
        self._host = str(options.get("host", "localhost"))
        self._port = int(options.get("port", 6379))
        self._path: str | None = options.get("path")
        self._db = int(options.get("db", 0) or 0)
        self._username: str | None = options.get("username")
        self._password: str | None = options.get("password")
        cls = options.get("connection_class")
        self._unix = cls is UnixDomainSocketConnection
        self._tls = cls is SSLConnection
        self._connection: _Connection | None = None
        self._draining: list[_Connection] = []
        """Timed-out connections still reading late replies (closed by ``aclose``)."""
        self._connecting: asyncio.Future[_Connection] | None = None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()

        def protocol() -> _Connection:
            return _Connection(self._timeout)

        try:
            async with asyncio.timeout(self._timeout):
                if self._unix:
                    assert self._path is not None
                    _, connection = await loop.create_unix_connection(protocol, self._path)
                else:
                    context = ssl.create_default_context() if self._tls else None
                    _, connection = await loop.create_connection(
                        protocol, self._host, self._port, ssl=context
                    )
                setup: list[tuple[Any, ...]] = []
                if self._password is not None:
                    auth = (self._username, self._password) if self._username else (self._password,)
                    setup.append(("AUTH", *auth))
                if self._db:
                    setup.append(("SELECT", self._db))
                for command in setup:
                    await connection.send(pack(command))
        except TimeoutError:
            raise RedisTimeoutError(f"no connection to Redis within {self._timeout} s") from None
        except OSError as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc!r}") from exc
        return connection

    async def _ready(self) -> _Connection:
        connection = self._connection
        if connection is not None and not connection.closed:
            return connection
        if connection is not None and connection.draining and connection not in self._draining:
            self._draining = [c for c in self._draining if c.draining] + [connection]
        if self._connecting is None:
            self._connecting = asyncio.ensure_future(self._connect())
        connecting = self._connecting
        try:
            connection = await asyncio.shield(connecting)
        finally:
            if self._connecting is connecting and connecting.done():
                self._connecting = None
                if not connecting.cancelled():
                    connecting.exception()  # retrieved
        self._connection = connection
        return connection

    async def execute_command(
        self, *args: Any, on_late: LateReply | None = None, **options: Any
    ) -> Any:
        """The raw reply (bytes never decoded); ``options`` (redis-py's) are ignored.
        ``on_late``: see the module docstring."""
        connection = self._connection
        if connection is None or connection.closed:
            connection = await self._ready()
        return await connection.send(pack(args), on_late)

    async def exists(self, *names: str) -> int:
        return int(await self.execute_command("EXISTS", *names))

    async def ping(self) -> bool:
        return bool(await self.execute_command("PING") == b"PONG")

    async def aclose(self) -> None:
        for connection in self._draining:
            connection.close()
        self._draining = []
        if self._connection is not None:
            self._connection.close()
            self._connection = None
