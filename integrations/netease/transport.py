"""POSTing encrypted forms to NetEase and reading the answers.

One ``NeteaseTransport`` per process: it owns the concurrency cap and the client identity
(device id, cookie defaults); the login to use (a credential's cookie) is passed per call.
``send`` returns any readable answer, whatever its code (the login routes pass those
through); ``call`` raises the ``ProviderFailure`` an error code stands for.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from domain.clock import Clock, SystemClock
from domain.music.errors import UpstreamBadAnswer, UpstreamUnreachable
from integrations.netease import codes
from integrations.netease.config import NeteaseConfig
from integrations.netease.cookies import (
    ANONYMOUS_COOKIE,
    CSRF_COOKIE,
    LOGIN_COOKIE,
    SetCookie,
    parse_set_cookies,
)
from integrations.netease.crypto import (
    SecretKeySource,
    decrypt_eapi_response,
    eapi_form,
    random_secret_key,
    weapi_form,
)

log = logging.getLogger("karpov.integrations.netease")

MAX_ANSWER_BYTES = 32 * 1024 * 1024
"""The largest answer read (decoded). A playlist of 100,000 track ids is a few MB; past
this an answer is refused rather than held in memory."""

_COOKIE_SAFE = "-_.!~*'()"
"""What JavaScript's ``encodeURIComponent`` leaves alone (the public clients use it)."""


class Crypto(enum.StrEnum):
    WEAPI = "weapi"
    EAPI = "eapi"


@dataclass(frozen=True, slots=True)
class Answer:
    body: dict[str, Any]
    code: int
    """The JSON ``code`` (the HTTP status when the JSON has none)."""
    http_status: int
    set_cookies: tuple[SetCookie, ...]

    @property
    def message(self) -> str:
        return codes.answer_message(self.body)


class NeteaseTransport:
    def __init__(
        self,
        http: httpx.AsyncClient,
        config: NeteaseConfig | None = None,
        *,
        clock: Clock | None = None,
        secret_keys: SecretKeySource = random_secret_key,
        token_hex: Callable[[int], str] = secrets.token_hex,
    ) -> None:
        self._http = http
        self._config = config or NeteaseConfig()
        self._clock = clock or SystemClock()
        self._secret_keys = secret_keys
        self._token_hex = token_hex
        self._slots = asyncio.Semaphore(self._config.max_concurrency)
        # One device per process, as one installed client would be.
        self._device_id = token_hex(16).upper()
        self._nuid = token_hex(16)

    @property
    def config(self) -> NeteaseConfig:
        return self._config

    @property
    def token_hex(self) -> Callable[[int], str]:
        return self._token_hex

    async def call(
        self,
        crypto: Crypto,
        api_path: str,
        data: Mapping[str, Any],
        cookie: Mapping[str, str] | None = None,
    ) -> Answer:
        """``send``, raising the ``ProviderFailure`` for any code but 200."""
        answer = await self.send(crypto, api_path, data, cookie)
        failure = codes.failure_for(answer.code, answer.message)
        if failure is not None:
            # Missing or unlicensed content is an everyday answer, not trouble.
            level = logging.WARNING if failure.retryable else logging.INFO
            log.log(
                level,
                "NetEase refused a call",
                extra={"api_path": api_path, "upstream_code": answer.code},
            )
            raise failure
        return answer

    async def send(
        self,
        crypto: Crypto,
        api_path: str,
        data: Mapping[str, Any],
        cookie: Mapping[str, str] | None = None,
    ) -> Answer:
        """POST ``data`` to ``api_path`` (``/api/...``) with ``cookie`` (a login's pairs, or
        none). Raises ``UpstreamUnreachable`` (transport) or ``UpstreamBadAnswer``
        (unreadable answer) only."""
        if not api_path.startswith("/api/"):
            raise ValueError("NetEase API paths start with /api/")
        pairs = dict(cookie or {})
        if crypto is Crypto.WEAPI:
            url, form, headers = self._weapi_request(api_path, data, pairs)
        else:
            url, form, headers = self._eapi_request(api_path, data, pairs)
        if self._config.real_ip:
            headers["X-Real-IP"] = self._config.real_ip
            headers["X-Forwarded-For"] = self._config.real_ip
        status, content, set_cookies = await self._exchange(url, form, headers, api_path)
        body = self._read(status, content, api_path)
        return Answer(
            body=body,
            code=codes.answer_code(body, status),
            http_status=status,
            set_cookies=tuple(parse_set_cookies(set_cookies)),
        )

    # -- requests --------------------------------------------------------------------

    def _identity_cookie(self, pairs: Mapping[str, str]) -> dict[str, str]:
        identity = self._config.identity
        merged = {
            "os": identity.os,
            "appver": identity.appver,
            "osver": identity.osver,
            "channel": identity.channel,
            "deviceId": self._device_id,
            "_ntes_nuid": self._nuid,
            "__remember_me": "true",
        }
        merged.update(pairs)  # a login's own values win, as in the public clients
        return merged

    def _weapi_request(
        self, api_path: str, data: Mapping[str, Any], pairs: dict[str, str]
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        cookie = self._identity_cookie(pairs)
        payload = {**data, "csrf_token": cookie.get(CSRF_COOKIE, "")}
        form = weapi_form(payload, secret_key=self._secret_keys(), rsa_key=self._config.weapi_key)
        headers = {
            "User-Agent": self._config.web_user_agent,
            "Referer": self._config.api_url,
            "Origin": self._config.api_url,
            "Cookie": _cookie_header(cookie),
        }
        return f"{self._config.api_url}/weapi/{api_path[5:]}", form, headers

    def _eapi_request(
        self, api_path: str, data: Mapping[str, Any], pairs: dict[str, str]
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        cookie = self._identity_cookie(pairs)
        now_ms = int(self._clock.now().timestamp() * 1000)
        header = {
            "osver": cookie["osver"],
            "deviceId": cookie["deviceId"],
            "os": cookie["os"],
            "appver": cookie["appver"],
            "versioncode": self._config.identity.versioncode,
            "mobilename": "",
            "buildver": str(now_ms // 1000),
            "resolution": self._config.identity.resolution,
            "__csrf": cookie.get(CSRF_COOKIE, ""),
            "channel": cookie["channel"],
            "requestId": f"{now_ms}_{int(self._token_hex(2), 16) % 1000:04d}",
        }
        for name in (LOGIN_COOKIE, ANONYMOUS_COOKIE):
            if cookie.get(name):
                header[name] = cookie[name]
        payload = {**data, "header": header, "e_r": self._config.encrypted_answers}
        headers = {"User-Agent": self._config.client_user_agent, "Cookie": _cookie_header(header)}
        return f"{self._config.api_url}/eapi/{api_path[5:]}", eapi_form(api_path, payload), headers

    # -- exchange --------------------------------------------------------------------

    async def _exchange(
        self, url: str, form: dict[str, str], headers: dict[str, str], api_path: str
    ) -> tuple[int, bytes, list[str]]:
        timeout = self._config.timeout
        async with self._slots:
            try:
                # asyncio.timeout bounds the whole exchange, body included, and holds for
                # transports that ignore httpx's own timeouts (ASGI apps in tests).
                async with (
                    asyncio.timeout(timeout),
                    self._http.stream(
                        "POST", url, data=form, headers=headers, timeout=timeout
                    ) as response,
                ):
                    content = await _read_capped(response)
                    return response.status_code, content, response.headers.get_list("set-cookie")
            except (TimeoutError, httpx.HTTPError) as exc:
                # The exception text can carry the URL; log the type only.
                log.warning(
                    "NetEase call failed in transport",
                    extra={"api_path": api_path, "error": type(exc).__name__},
                )
                raise UpstreamUnreachable(f"NetEase unreachable ({type(exc).__name__})") from None
            except _AnswerTooLarge:
                log.warning("NetEase answered too much", extra={"api_path": api_path})
                raise UpstreamBadAnswer("NetEase answered more than we read") from None

    def _read(self, status: int, content: bytes, api_path: str) -> dict[str, Any]:
        body: Any = None
        if content.lstrip()[:1] in (b"{", b"["):
            try:
                body = json.loads(content)
            except ValueError:
                body = None  # AES blocks can start with a brace too (1 in 128): decrypt below
        if body is None:
            try:
                # An eapi answer asked with e_r: AES blocks, not JSON.
                body = decrypt_eapi_response(content)
            except (ValueError, OSError):
                body = None
        if not isinstance(body, dict):
            log.warning(
                "NetEase answered something unreadable",
                extra={"api_path": api_path, "status": status},
            )
            raise UpstreamBadAnswer(
                f"NetEase answered HTTP {status} with an unreadable body", upstream_code=status
            )
        return body


class _AnswerTooLarge(Exception):
    pass


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise _AnswerTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _cookie_header(pairs: Mapping[str, str]) -> str:
    return "; ".join(
        f"{quote(name, safe=_COOKIE_SAFE)}={quote(value, safe=_COOKIE_SAFE)}"
        for name, value in pairs.items()
    )
