"""Have I Been Pwned "Pwned Passwords" range API client (k-anonymity).

Only the first five hex characters of the password's SHA-1 leave the process; the API
answers with every known suffix under that prefix (padded with decoy rows of count 0, since
we send ``Add-Padding: true``) and the match happens locally. Nothing derived from the
password beyond that prefix is sent, logged or kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic

import httpx

from domain.accounts.errors import BreachCheckUnavailable

log = logging.getLogger("karpov.integrations.hibp")

PREFIX_LENGTH = 5
USER_AGENT = "karpov-hibp/1.0"


class _MalformedRow(Exception):
    """The row for the looked-up suffix has a count that is not a number."""


@dataclass(frozen=True, slots=True)
class _RangeTable:
    """The real (non-padding) rows of one range response.

    Stored as one compact upper-case string (about 40 KB per prefix) rather than a dict,
    which would take three times the memory for the ~1,000 rows of a typical prefix.
    """

    rows: str
    """``"\\nSUFFIX:COUNT\\nSUFFIX:COUNT\\n"``: only rows with a count above zero."""
    malformed: frozenset[str]
    """Suffixes whose count could not be parsed."""

    @classmethod
    def parse(cls, body: str) -> _RangeTable:
        rows: list[str] = []
        malformed: set[str] = set()
        for line in body.splitlines():
            suffix, sep, raw_count = line.partition(":")
            if not sep:
                continue
            suffix = suffix.strip().upper()
            raw_count = raw_count.strip()
            if not (raw_count.isascii() and raw_count.isdigit()):
                malformed.add(suffix)
                continue
            count = int(raw_count)
            if count > 0:  # count 0 marks a padding row (Add-Padding), never a real hit
                rows.append(f"{suffix}:{count}")
        return cls(rows="\n" + "\n".join(rows) + "\n", malformed=frozenset(malformed))

    def count(self, suffix: str) -> int:
        if suffix in self.malformed:
            raise _MalformedRow
        start = self.rows.find(f"\n{suffix}:")
        if start < 0:
            return 0
        start += len(suffix) + 2
        return int(self.rows[start : self.rows.index("\n", start)])


class _RangeCache:
    """A small LRU of prefix → range table whose entries expire after ``ttl`` seconds.

    Safe to keep in memory: a range response is public data, identical for every caller,
    and the key is the same 5-character prefix the API itself sees. Neither the password,
    its full hash nor its suffix is stored, so the cache reveals no more than k-anonymity
    already gives away.
    """

    def __init__(self, max_entries: int, ttl: float) -> None:
        self._max_entries = max_entries
        self._ttl = ttl
        self._entries: OrderedDict[str, tuple[float, _RangeTable]] = OrderedDict()

    def get(self, prefix: str) -> _RangeTable | None:
        entry = self._entries.get(prefix)
        if entry is None:
            return None
        expires_at, table = entry
        if monotonic() >= expires_at:
            del self._entries[prefix]
            return None
        self._entries.move_to_end(prefix)
        return table

    def put(self, prefix: str, table: _RangeTable) -> None:
        if self._max_entries <= 0:
            return
        self._entries[prefix] = (monotonic() + self._ttl, table)
        self._entries.move_to_end(prefix)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


class HibpClient:
    """Implements ``domain.accounts.ports.BreachedPasswordChecker``."""

    def __init__(
        self,
        range_url: str,
        *,
        http: httpx.AsyncClient,
        timeout: float = 5.0,
        cache_size: int = 1024,
        cache_ttl: float = 3600.0,
    ) -> None:
        self._range_url = range_url
        self._http = http
        self._timeout = timeout
        self._cache = _RangeCache(cache_size, cache_ttl)

    async def times_pwned(self, password: str) -> int:
        """How often ``password`` appears in HIBP (0 = never).

        Raises ``BreachCheckUnavailable`` on a timeout, a transport error, a non-200 answer
        or an unparsable count on our row."""
        # SHA-1 is what the API is keyed by; it protects nothing here.
        digest = hashlib.sha1(
            password.encode("utf-8", "surrogatepass"), usedforsecurity=False
        ).hexdigest()
        digest = digest.upper()
        prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
        table = self._cache.get(prefix)
        if table is None:
            table = await self._fetch(prefix)
            if not table.malformed:
                self._cache.put(prefix, table)
        try:
            return table.count(suffix)
        except _MalformedRow:
            log.warning(
                "HIBP range response has an unparsable count on the matching row",
                extra={"prefix_length": len(prefix)},
            )
            raise BreachCheckUnavailable() from None

    async def _fetch(self, prefix: str) -> _RangeTable:
        headers = {"Add-Padding": "true", "User-Agent": USER_AGENT}
        try:
            # asyncio.timeout bounds the whole exchange, body included, and also holds for
            # transports that ignore httpx's own timeout (ASGI apps in tests).
            async with asyncio.timeout(self._timeout):
                response = await self._http.get(
                    self._range_url + prefix, headers=headers, timeout=self._timeout
                )
        except (TimeoutError, httpx.HTTPError) as exc:
            # The exception text would carry the URL (and so the prefix): log its type only.
            log.warning(
                "HIBP range request failed",
                extra={"error": type(exc).__name__, "prefix_length": len(prefix)},
            )
            raise BreachCheckUnavailable() from None
        if response.status_code != httpx.codes.OK:
            log.warning(
                "HIBP range request answered an unexpected status",
                extra={"status": response.status_code, "prefix_length": len(prefix)},
            )
            raise BreachCheckUnavailable()
        return _RangeTable.parse(response.text)
