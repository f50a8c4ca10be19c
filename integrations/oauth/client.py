"""authlib's async OAuth 2.0 client, and the small HTTP helpers the providers share.

authlib 1.9 prefers the ``httpx2`` package and warns once at import when it falls back to
``httpx``; we use ``httpx`` on purpose (the rest of Karpov does), so that one warning is
silenced here, at the only import of the client."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import authlib.deprecate  # noqa: F401  (registers its warning filter before ours below)
import httpx

from domain.clock import Clock
from domain.oauth.errors import EmptyTokenResponse
from domain.oauth.model import ProviderTokens

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = [
    "AsyncOAuth2Client",
    "RecentFailure",
    "ResponseTooLarge",
    "SharedFetch",
    "read_json",
    "tokens_from_response",
]

DEFAULT_TIMEOUT = 15.0
"""Seconds for each call to a provider (the original's 15 s), from the first byte sent to
the last byte read: httpx's own timeouts bound each phase (connect, each read), so a
server trickling its answer a byte at a time would never trip them. Every call therefore
also runs under ``asyncio.timeout`` of the same length."""
MAX_BODY_BYTES = 1024 * 1024
"""Profile and metadata answers are read up to 1 MiB (the original's limit)."""
FAILURE_MEMORY_SECONDS = 30.0
"""How long a failed discovery or key set fetch is remembered: callers meanwhile fail at
once instead of each waiting for the provider's timeout."""

T = TypeVar("T")


class ResponseTooLarge(ValueError):
    pass


class RecentFailure(Exception):
    """The last fetch failed less than ``FAILURE_MEMORY_SECONDS`` ago; not tried again."""


class SharedFetch(Generic[T]):
    """A provider document (discovery, key set) fetched at most one at a time.

    Callers that arrive while a fetch runs wait for it and share its outcome instead of
    fetching again one after another; a success is kept for ``ttl`` seconds; a failure is
    remembered for ``failure_ttl`` seconds, during which every caller fails at once with
    ``RecentFailure``. So a provider outage costs one timeout per ``failure_ttl``, not one
    per caller in turn. A cancelled fetch is not remembered (the next caller tries)."""

    def __init__(
        self,
        *,
        ttl: float,
        failure_ttl: float = FAILURE_MEMORY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._monotonic = monotonic
        self._value: T | None = None
        self._at = 0.0
        self._failed_at: float | None = None
        self._lock = asyncio.Lock()

    @property
    def last(self) -> T | None:
        """The last value fetched, fresh or not."""
        return self._value

    def clear(self) -> None:
        self._value = None

    def _usable(self, stale: T | None) -> T | None:
        value = self._value
        if value is None or value is stale or self._monotonic() - self._at >= self._ttl:
            return None
        return value

    def _raise_if_failed(self) -> None:
        if self._failed_at is not None and self._monotonic() - self._failed_at < self._failure_ttl:
            raise RecentFailure()

    async def get(self, fetch: Callable[[], Awaitable[T]], *, stale: T | None = None) -> T:
        """The value, fetched with ``fetch`` when none is fresh. ``stale``: a value the
        caller found wanting (a key set without the key id it needs): fetch a new one,
        unless another caller has already replaced it."""
        if (value := self._usable(stale)) is not None:
            return value
        self._raise_if_failed()
        async with self._lock:
            # Whoever held the lock may have just fetched, or just failed: share that.
            if (value := self._usable(stale)) is not None:
                return value
            self._raise_if_failed()
            try:
                value = await fetch()
            except Exception:
                self._failed_at = self._monotonic()
                raise
            self._value, self._at, self._failed_at = value, self._monotonic(), None
            return value


async def read_json(
    client: httpx.AsyncClient, url: str, *, max_bytes: int = MAX_BODY_BYTES, **kwargs: Any
) -> dict[str, Any]:
    """GET ``url`` and parse a JSON object, reading at most ``max_bytes``. Raises
    ``httpx.HTTPStatusError`` for a non-2xx answer and ``ValueError`` for anything but a
    JSON object."""
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    async with client.stream("GET", url, headers=headers, **kwargs) as response:
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise ResponseTooLarge(f"answer from {url} is larger than {max_bytes} bytes")
    data = json.loads(bytes(body))
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def tokens_from_response(
    token: dict[str, Any], *, requested_scopes: tuple[str, ...], clock: Clock
) -> ProviderTokens:
    """Map a token endpoint answer; ``EmptyTokenResponse`` when it holds no access token."""
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise EmptyTokenResponse()
    refresh = token.get("refresh_token")
    expires_in = token.get("expires_in")
    expires_at: datetime | None = None
    if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
        expires_at = clock.now() + timedelta(seconds=float(expires_in))
    scope = token.get("scope")
    scopes = tuple(scope.split()) if isinstance(scope, str) and scope.strip() else requested_scopes
    return ProviderTokens(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        expires_at=expires_at,
        scopes=scopes,
    )


def text_or_none(value: object, limit: int = 255) -> str | None:
    """A trimmed, bounded string claim, or ``None``."""
    if value is None or isinstance(value, bool | dict | list):
        return None
    text = str(value).strip()
    return text[:limit] or None
