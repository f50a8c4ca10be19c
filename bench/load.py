"""A small, fast HTTP/1.1 load generator: an asyncio protocol per connection, keep-alive,
closed loop.

Each of C connections sends one request, waits for the status line, the headers and
exactly Content-Length body bytes, and starts over. There is no HTTP
library in the loop on purpose: the generator must stay far cheaper per request than the
server, otherwise it measures itself. ``Run.client_cpu`` tells whether it did: a generator
near 100% of its CPU is the bottleneck; one with slack is not.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

HEADER_END = b"\r\n\r\n"
CONTENT_LENGTH = b"\r\ncontent-length:"


@dataclass
class Run:
    """What one measured window saw; latencies are in seconds."""

    requests: int = 0
    non_2xx: int = 0
    answered: int = 0
    answered_2xx: int = 0
    """Every answer and every 2xx answer of the run, warm-up included."""
    duration: float = 0.0
    latencies: list[float] = field(default_factory=list)
    client_cpu: float = 0.0  # CPU seconds / wall seconds over the measured window
    server_cpu: float | None = None  # the same for the server, when a probe was given

    @property
    def rps(self) -> float:
        return self.requests / self.duration if self.duration else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        if len(self.latencies) < 2:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


def build_request(host: str, port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _content_length(head: bytes) -> int:
    lower = head.lower()
    start = lower.find(CONTENT_LENGTH)
    if start < 0:
        raise ValueError("response without Content-Length (chunked is not supported)")
    start += len(CONTENT_LENGTH)
    return int(lower[start : lower.index(b"\r\n", start)])


class _Connection(asyncio.Protocol):
    """One keep-alive connection in a closed loop, as a protocol: asyncio streams cost the
    generator about 60 µs per request (their reader, buffers and waiter futures), enough
    to make it, not the server, what case (e) measured when it shares a core with the
    second server process. Only responses that complete inside the measured window are
    counted (throughput = completions per second of steady state)."""

    def __init__(
        self, request: bytes, measure_from: float, measure_to: float, run: Run,
        done: asyncio.Future[None],
    ) -> None:  # fmt: skip
        self._request = request
        self._from = measure_from
        self._to = measure_to
        self._run = run
        self._done = done
        self._buffer = bytearray()
        self._started = 0.0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (uvloop's transports are not asyncio.Transport subclasses, but behave as one)
        self._transport = cast(asyncio.Transport, transport)
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        self._started = time.perf_counter()
        if self._started >= self._to:
            self._transport.close()
            return
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        end = buffer.find(HEADER_END)
        if end < 0:
            return
        head = bytes(buffer[: end + 2])
        total = end + len(HEADER_END) + _content_length(head)
        if len(buffer) < total:
            return
        if len(buffer) > total:
            raise RuntimeError("more than one response to one request")
        buffer.clear()
        done = time.perf_counter()
        run = self._run
        ok = head.startswith(b"2", 9)
        run.answered += 1
        run.answered_2xx += ok
        if self._from <= done <= self._to:
            run.requests += 1
            run.latencies.append(done - self._started)
            if not ok:
                run.non_2xx += 1
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._done.done():
            if exc is None:
                self._done.set_result(None)
            else:
                self._done.set_exception(exc)


async def _connection(
    host: str, port: int, request: bytes, measure_from: float, measure_to: float, run: Run
) -> None:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    await loop.create_connection(
        lambda: _Connection(request, measure_from, measure_to, run, done), host, port
    )
    await done


async def measure(
    host: str,
    port: int | Sequence[int],
    path: str,
    headers: dict[str, str] | None = None,
    *,
    connections: int = 32,
    warmup: float = 2.0,
    duration: float = 5.0,
    server_cpu: Callable[[], float | None] = lambda: None,
) -> Run:
    """Drive ``GET path`` with ``connections`` concurrent keep-alive connections for
    ``warmup`` seconds (uncounted), then ``duration`` seconds (counted). ``server_cpu``
    returns the server's CPU seconds so far (or None), to show who was saturated. Several
    ports: the connections are spread evenly over them (one server process each)."""
    ports = [port] if isinstance(port, int) else list(port)
    requests = [build_request(host, p, path, headers or {}) for p in ports]
    run = Run()
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + duration
    marks: list[tuple[float, float, float | None]] = []

    async def mark_at(moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - time.perf_counter()))
        marks.append((time.perf_counter(), time.process_time(), server_cpu()))

    markers = [asyncio.create_task(mark_at(moment)) for moment in (measure_from, measure_to)]
    await asyncio.gather(
        *(
            _connection(
                host,
                ports[i % len(ports)],
                requests[i % len(ports)],
                measure_from,
                measure_to,
                run,
            )
            for i in range(connections)
        )
    )
    await asyncio.gather(*markers)
    (wall0, cpu0, server0), (wall1, cpu1, server1) = marks
    run.duration = duration
    run.client_cpu = (cpu1 - cpu0) / (wall1 - wall0)
    if server0 is not None and server1 is not None:
        run.server_cpu = (server1 - server0) / (wall1 - wall0)
    return run


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (it is, with uvicorn[standard]): a cheaper client loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop
