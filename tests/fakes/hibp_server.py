"""A fake Have I Been Pwned "Pwned Passwords" range API.

Speaks the real wire protocol, so our real ``HibpClient`` runs end to end against it:
``GET /range/{5 hex}`` answers ``text/plain`` rows ``SUFFIX:COUNT`` (35 upper-case hex, CRLF
separated, sorted by suffix); with ``Add-Padding: true`` decoy rows of count 0 bring the
answer to 800-1,000 rows; a malformed prefix gets 400. Knobs let a test make it fail
(``status``), hang (``delay``) or answer in unusual but legal shapes.

Use it through ``httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app), ...)``.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

_PREFIX = re.compile(r"^[0-9A-Fa-f]{5}$")


def sha1_hex(password: str) -> str:
    """The upper-case SHA-1 hex of the UTF-8 password, as the API keys it."""
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    """Header names lower-cased."""


class FakeHibpServer:
    def __init__(
        self,
        breached: Mapping[str, int] | None = None,
        *,
        padded_rows: tuple[int, int] = (800, 1000),
        seed: int = 0,
    ) -> None:
        self.status = 200
        """Answer every range request with this status (the body is an error text)."""
        self.delay = 0.0
        """Seconds to wait before answering (to exercise the client's timeout)."""
        self.line_ending = "\r\n"
        self.lowercase = False
        """Send suffixes in lower case (the client must match case-insensitively)."""
        self.requests: list[RecordedRequest] = []
        self._padded_rows = padded_rows
        self._random = random.Random(seed)
        self._counts: dict[str, int] = {}
        self._padding_collisions: set[str] = set()
        self._extra_lines: dict[str, list[str]] = {}
        for password, count in (breached or {}).items():
            self.add_breached(password, count)
        self.app = Starlette(routes=[Route("/range/{prefix}", self._range, methods=["GET"])])

    # -- configuration ---------------------------------------------------------------

    def add_breached(self, password: str, count: int) -> None:
        if count <= 0:
            raise ValueError("a breached password has a positive count")
        self._counts[sha1_hex(password)] = count

    def add_padding_collision(self, password: str) -> None:
        """Make padded answers include a decoy row (count 0) with this password's suffix."""
        self._padding_collisions.add(sha1_hex(password))

    def add_raw_line(self, prefix: str, line: str) -> None:
        """Append a verbatim line to every answer for ``prefix`` (e.g. a malformed row)."""
        self._extra_lines.setdefault(prefix.upper(), []).append(line)

    # -- the API -----------------------------------------------------------------------

    async def _range(self, request: Request) -> Response:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                headers={name.lower(): value for name, value in request.headers.items()},
            )
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            return PlainTextResponse("upstream failure", status_code=self.status)
        prefix = request.path_params["prefix"]
        if not _PREFIX.match(prefix):
            return PlainTextResponse("The hash prefix was not in a valid format", status_code=400)
        padded = request.headers.get("add-padding", "").lower() == "true"
        lines = self._rows(prefix.upper(), padded) + self._extra_lines.get(prefix.upper(), [])
        return PlainTextResponse(self.line_ending.join(lines))

    def _rows(self, prefix: str, padded: bool) -> list[str]:
        rows = {h[5:]: count for h, count in self._counts.items() if h.startswith(prefix)}
        if padded:
            for full_hash in self._padding_collisions:
                if full_hash.startswith(prefix):
                    rows.setdefault(full_hash[5:], 0)
            target = self._random.randint(*self._padded_rows)
            while len(rows) < target:
                rows.setdefault(f"{self._random.getrandbits(140):035X}", 0)
        lines = [f"{suffix}:{count}" for suffix, count in sorted(rows.items())]
        return [line.lower() for line in lines] if self.lowercase else lines
