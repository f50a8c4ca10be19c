"""The one httpx client the QQ Music integration talks through.

Its cookie jar keeps nothing: every request states its cookies itself (a login's cookies
on music calls, a QR session's on login calls), so an upstream ``Set-Cookie`` can never
leak one account's session into another account's request.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpx

from integrations.qqmusic.config import QQMusicConfig


class _ForgetfulJar(CookieJar):
    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def new_http_client(
    config: QQMusicConfig, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(config.timeout_s),
        limits=httpx.Limits(max_connections=config.max_concurrency * 2),
        follow_redirects=False,
        cookies=_ForgetfulJar(),
    )


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items() if value)


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """The cookies a response sets, by name, read from its ``Set-Cookie`` headers without
    domain rules (the login flows carry them to the next step themselves). A cookie set
    to an empty value (a deletion) is left out."""
    found: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        name, sep, value = header.split(";", 1)[0].partition("=")
        if sep and name.strip() and value.strip():
            found[name.strip()] = value.strip()
    return found
