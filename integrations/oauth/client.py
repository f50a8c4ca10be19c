"""authlib's async OAuth 2.0 client, and the small HTTP helpers the providers share.

authlib 1.9 prefers the ``httpx2`` package and warns once at import when it falls back to
``httpx``; we use ``httpx`` on purpose (the rest of Karpov does), so that one warning is
silenced here, at the only import of the client."""

from __future__ import annotations

import json
import warnings
from datetime import datetime, timedelta
from typing import Any

import authlib.deprecate  # noqa: F401  (registers its warning filter before ours below)
import httpx

from domain.clock import Clock
from domain.oauth.errors import EmptyTokenResponse
from domain.oauth.model import ProviderTokens

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

__all__ = ["AsyncOAuth2Client", "ResponseTooLarge", "read_json", "tokens_from_response"]

DEFAULT_TIMEOUT = 15.0
"""Seconds for each call to a provider (the original's 15 s)."""
MAX_BODY_BYTES = 1024 * 1024
"""Profile and metadata answers are read up to 1 MiB (the original's limit)."""


class ResponseTooLarge(ValueError):
    pass


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
