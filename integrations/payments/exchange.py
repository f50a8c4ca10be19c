"""One HTTP exchange with a payment provider, and how its failures are reported.

Every failure becomes ``PaymentProviderFailed`` (502/50200 at the edges) with a message
safe to show the buyer; what went wrong is logged at WARNING with the provider, the
operation and the error *type* only. Exception texts and answer bodies are not logged as
they are: a URL in an httpx error can carry the merchant key (the epay order query sends
it in the query string), and a provider's error text is arbitrary. A provider's own error
message (``msg``, ``errmsg``, ``error_msg``) is logged truncated, with every configured
secret and every ``key=`` query value masked.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from domain.billing.errors import PaymentProviderFailed
from integrations.payments.log_redaction import redact_url_secrets

DEFAULT_TIMEOUT = 15.0
"""Seconds for one exchange, first byte sent to last byte read (the original's 15 s). httpx
bounds each phase; ``asyncio.timeout`` bounds the whole, so a trickling answer ends too."""
MAX_ANSWER_BYTES = 256 * 1024
_DETAIL_LIMIT = 200

log = logging.getLogger("karpov.integrations.payments")


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    status: int
    headers: httpx.Headers
    body: bytes

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object (a UTF-8 byte order mark tolerated), else ``None``."""
        try:
            data = json.loads(self.body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return None
        return data if isinstance(data, dict) else None


class _TooLarge(Exception):
    pass


async def exchange(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    provider: str,
    operation: str,
    time_limit: float = DEFAULT_TIMEOUT,
    follow_redirects: bool = True,
    params: Mapping[str, str] | None = None,
    data: Mapping[str, str] | None = None,
    json_body: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProviderAnswer:
    """Send one request; ``PaymentProviderFailed`` when it cannot complete (any answer,
    whatever its status, is returned for the caller to judge)."""
    try:
        async with asyncio.timeout(time_limit):
            request = http.build_request(
                method,
                url,
                params=params,
                data=data,
                json=json_body,
                headers=headers,
                timeout=time_limit,
            )
            response = await http.send(request, stream=True, follow_redirects=follow_redirects)
            try:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        raise _TooLarge
            finally:
                await response.aclose()
    except (TimeoutError, httpx.HTTPError, _TooLarge) as exc:
        # Never the exception text: an httpx error can quote the URL, key included.
        log.warning(
            "payment provider exchange failed",
            extra={"provider": provider, "operation": operation, "error": type(exc).__name__},
        )
        raise PaymentProviderFailed() from None
    return ProviderAnswer(response.status_code, response.headers, bytes(body))


def provider_failed(
    *,
    provider: str,
    operation: str,
    reason: str,
    status: int | None = None,
    detail: object = None,
    secrets: Iterable[str] = (),
) -> PaymentProviderFailed:
    """Log why a provider's answer is refused and return the error to raise."""
    extra: dict[str, Any] = {"provider": provider, "operation": operation, "reason": reason}
    if status is not None:
        extra["status"] = status
    if detail is not None and detail != "":
        extra["provider_message"] = scrub(str(detail), secrets)
    log.warning("payment provider answer refused", extra=extra)
    return PaymentProviderFailed()


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` truncated, with every secret (and every ``key=`` query value) masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return redact_url_secrets(text)[:_DETAIL_LIMIT]
