"""What both QR logins share: the session state, the events, and the HTTP helper for the
login pages (which, unlike ``musicu.fcg``, are browser pages answering HTML/JS/images).

A session is plain JSON (``QrSession.to_json``), so the process that started a login need
not be the one that polls it: the edge keeps it in Redis between polls.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from domain.music.errors import InvalidCredentialPayload, UpstreamBadAnswer, UpstreamUnreachable
from integrations.qqmusic.credential import QQCredential
from integrations.qqmusic.http_client import cookie_header

MAX_PAGE_BYTES = 2 * 1024 * 1024


class QrPlatform(enum.StrEnum):
    QQ = "qq"
    WECHAT = "wx"


class QrEvent(enum.StrEnum):
    INIT = "init"
    """Started, not polled yet."""
    WAITING = "waiting"
    """Nobody has scanned the code yet."""
    SCANNED = "scanned"
    """Scanned; waiting for the user to confirm on the phone."""
    DONE = "done"
    TIMEOUT = "timeout"
    """The code expired."""
    REFUSE = "refuse"
    """The user declined on the phone."""
    OTHER = "other"
    """A status the client does not know."""

    @property
    def terminal(self) -> bool:
        return self in (QrEvent.DONE, QrEvent.TIMEOUT, QrEvent.REFUSE)


@dataclass(frozen=True, slots=True)
class QrSession:
    platform: QrPlatform
    token: str = field(repr=False)
    """QQ: the ``qrsig`` cookie; WeChat: the QR ``uuid``. Whoever holds it can finish the
    login, so it is kept like a secret."""
    last_code: int | None = None
    """The last status code seen (WeChat's long poll resumes from it)."""

    def to_json(self) -> str:
        return json.dumps(
            {"platform": self.platform.value, "token": self.token, "last_code": self.last_code}
        )

    @classmethod
    def from_json(cls, text: str) -> QrSession:
        """Raises ``ValueError`` for anything that is not a session this module wrote."""
        data = json.loads(text)
        if not isinstance(data, Mapping):
            raise ValueError("not a QR session")
        token, last = data.get("token"), data.get("last_code")
        if not isinstance(token, str) or not token:
            raise ValueError("not a QR session")
        if last is not None and (isinstance(last, bool) or not isinstance(last, int)):
            raise ValueError("not a QR session")
        return cls(QrPlatform(str(data.get("platform"))), token, last)


@dataclass(frozen=True, slots=True)
class QrStart:
    session: QrSession
    image: str
    """The QR code as a ``data:`` URL, ready for an ``<img src>``."""
    expires_in: int
    """Seconds the code is offered for."""


@dataclass(frozen=True, slots=True)
class QrPoll:
    event: QrEvent
    session: QrSession
    """The state to keep for the next poll."""
    payload: bytes | None = field(default=None, repr=False)
    """On ``done``: the new credential, as the pool stores it (JSON)."""
    upstream_code: int | None = None


class QrLogin(Protocol):
    platform: QrPlatform

    async def start(self) -> QrStart:
        """Fetch a new QR code."""

    async def poll(self, session: QrSession) -> QrPoll:
        """One status check; on ``done`` the login is completed and its payload returned.
        Raises ``ProviderFailure`` subclasses when the upstream fails or refuses."""


def data_url(image: bytes, content_type: str | None, default_type: str) -> str:
    kind = (content_type or "").split(";")[0].strip()
    if not kind.startswith("image/"):
        kind = default_type
    return f"data:{kind};base64,{base64.b64encode(image).decode('ascii')}"


def credential_payload(answer: object) -> bytes:
    """The pool payload for the credential a login call answered."""
    try:
        return QQCredential.from_mapping(answer).to_payload()
    except InvalidCredentialPayload:
        raise UpstreamBadAnswer("QQ Music answered the login without a credential") from None


def host_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return False
    return any(host == h or host.endswith("." + h) for h in hosts)


class LoginPages:
    """GET/POST of login pages with explicit cookies, no redirects followed, failures as
    ``ProviderFailure``s."""

    def __init__(self, http: httpx.AsyncClient, user_agent: str, timeout_s: float) -> None:
        self._http = http
        self._user_agent = user_agent
        self._timeout_s = timeout_s

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        referer: str | None = None,
    ) -> httpx.Response:
        try:
            return await self._send(method, url, params, form, cookies, referer, self._timeout_s)
        except httpx.TimeoutException as exc:
            where = urlsplit(url).path or url
            raise UpstreamUnreachable(
                f"QQ login page timed out ({where}): {type(exc).__name__}"
            ) from None

    async def long_poll(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        referer: str,
        timeout_s: float,
    ) -> httpx.Response | None:
        """A GET the server may hold open until something happens; ``None`` when it was
        still open after ``timeout_s`` (nothing happened)."""
        try:
            return await self._send("GET", url, params, None, None, referer, timeout_s)
        except httpx.TimeoutException:
            return None

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        form: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        referer: str | None,
        timeout_s: float,
    ) -> httpx.Response:
        headers = {"User-Agent": self._user_agent}
        if referer:
            headers["Referer"] = referer
        if cookies:
            headers["Cookie"] = cookie_header(dict(cookies))
        where = urlsplit(url).path or url
        try:
            # httpx's own time-outs bound each read; this bounds the whole exchange.
            async with asyncio.timeout(timeout_s):
                response = await self._http.request(
                    method, url, params=params, data=form, headers=headers, timeout=timeout_s
                )
        except (TimeoutError, httpx.TimeoutException):
            raise httpx.TimeoutException(f"no answer within {timeout_s} s") from None
        except httpx.TransportError as exc:
            raise UpstreamUnreachable(
                f"QQ login page unreachable ({where}): {type(exc).__name__}"
            ) from None
        if response.status_code >= 400 or len(response.content) > MAX_PAGE_BYTES:
            raise UpstreamBadAnswer(
                f"QQ login page answered HTTP {response.status_code} ({where})",
                upstream_code=response.status_code,
            )
        return response
