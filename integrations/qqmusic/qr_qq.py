"""QQ account login by QR code (ptlogin2), ending in a QQ Music credential.

1. ``ptqrshow`` answers the QR image and sets the ``qrsig`` cookie (the session token).
2. ``ptqrlogin`` (with ``ptqrtoken = hash33(qrsig)``) answers
   ``ptuiCB('<code>','0','<url>',…)``: 66 waiting, 67 scanned, 65 expired, 68 declined,
   0 confirmed, with ``<url>`` the ``check_sig`` address that turns the scan into cookies.
3. ``check_sig`` and the redirects after it set cookies hop by hop; ``p_skey`` is needed.
4. ``graph.qq.com/oauth2.0/authorize`` (``g_tk = hash33(p_skey, 5381)``) answers a redirect
   whose ``code`` parameter is a QQ Connect code for QQ Music's app.
5. ``QQConnectLogin.LoginServer.QQLogin`` on ``musicu.fcg`` trades the code for the login.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from urllib.parse import parse_qs, urljoin, urlsplit

from domain.music.errors import UpstreamAuthFailed, UpstreamBadAnswer
from integrations.qqmusic import calls
from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import QQ_LOGIN
from integrations.qqmusic.hashing import g_tk, hash33
from integrations.qqmusic.http_client import set_cookies
from integrations.qqmusic.qr_common import (
    LoginPages,
    QrEvent,
    QrPlatform,
    QrPoll,
    QrSession,
    QrStart,
    credential_payload,
    data_url,
    host_allowed,
)
from integrations.qqmusic.transport import MusicuTransport

QQ_MUSIC_PTLOGIN_APP = "716027609"
QQ_MUSIC_CONNECT_APP = "100497308"
PTLOGIN_DOMAIN_ID = "383"
LOGIN_JUMP = "https://graph.qq.com/oauth2.0/login_jump"
MUSIC_REDIRECT = "https://y.qq.com/portal/wx_redirect.html?login_type=1&surl=https://y.qq.com/"
PTLOGIN_REFERER = "https://xui.ptlogin2.qq.com/"
MAX_HOPS = 10

_EVENTS = {
    0: QrEvent.DONE,
    66: QrEvent.WAITING,
    67: QrEvent.SCANNED,
    65: QrEvent.TIMEOUT,
    68: QrEvent.REFUSE,
}
_CALLBACK = re.compile(r"ptuiCB\((?P<args>.*)\)", re.DOTALL)
_ARGUMENT = re.compile(r"'((?:\\.|[^'\\])*)'")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class QQQrLogin:
    platform = QrPlatform.QQ

    def __init__(self, config: QQMusicConfig, pages: LoginPages, transport: MusicuTransport):
        self._config = config
        self._pages = pages
        self._transport = transport
        self._ptlogin = config.ptlogin_url.rstrip("/")
        self._graph = config.graph_url.rstrip("/")
        self._login_hosts = (
            *config.login_hosts,
            *(urlsplit(u).hostname or "" for u in (config.ptlogin_url, config.graph_url)),
        )

    async def start(self) -> QrStart:
        response = await self._pages.request(
            "GET",
            f"{self._ptlogin}/ptqrshow",
            params={
                "appid": QQ_MUSIC_PTLOGIN_APP,
                "e": "2",
                "l": "M",
                "s": "3",
                "d": "72",
                "v": "4",
                "t": f"0.{secrets.randbelow(10**16):016d}",
                "daid": PTLOGIN_DOMAIN_ID,
                "pt_3rd_aid": QQ_MUSIC_CONNECT_APP,
            },
            referer=PTLOGIN_REFERER,
        )
        qrsig = set_cookies(response).get("qrsig")
        if not qrsig or not response.content:
            raise UpstreamBadAnswer("ptlogin2 answered no QR code")
        image = data_url(response.content, response.headers.get("content-type"), "image/png")
        return QrStart(QrSession(QrPlatform.QQ, qrsig), image, self._config.qr_ttl_s)

    async def poll(self, session: QrSession) -> QrPoll:
        response = await self._pages.request(
            "GET",
            f"{self._ptlogin}/ptqrlogin",
            params={
                "u1": LOGIN_JUMP,
                "ptqrtoken": str(hash33(session.token)),
                "ptredirect": "0",
                "h": "1",
                "t": "1",
                "g": "1",
                "from_ui": "1",
                "ptlang": "2052",
                "action": f"0-0-{int(time.time() * 1000)}",
                "js_ver": "20102616",
                "js_type": "1",
                "pt_uistyle": "40",
                "aid": QQ_MUSIC_PTLOGIN_APP,
                "daid": PTLOGIN_DOMAIN_ID,
                "pt_3rd_aid": QQ_MUSIC_CONNECT_APP,
                "has_onekey": "1",
            },
            cookies={"qrsig": session.token},
            referer=PTLOGIN_REFERER,
        )
        args = _callback_arguments(response.text)
        code = int(args[0]) if args and args[0].isdigit() else None
        event = _EVENTS.get(code, QrEvent.OTHER) if code is not None else QrEvent.OTHER
        polled = QrSession(session.platform, session.token, code)
        if event is not QrEvent.DONE:
            return QrPoll(event, polled, upstream_code=code)
        if len(args) < 3 or not args[2]:
            raise UpstreamBadAnswer("ptlogin2 confirmed the scan without a check_sig address")
        payload = await self._finish(args[2])
        return QrPoll(QrEvent.DONE, polled, payload, upstream_code=code)

    async def _finish(self, check_sig_url: str) -> bytes:
        cookies = await self._follow(check_sig_url)
        p_skey = cookies.get("p_skey")
        if not p_skey:
            raise UpstreamAuthFailed("the QQ login gave no p_skey cookie")
        response = await self._pages.request(
            "POST",
            f"{self._graph}/oauth2.0/authorize",
            form={
                "response_type": "code",
                "client_id": QQ_MUSIC_CONNECT_APP,
                "redirect_uri": MUSIC_REDIRECT,
                "scope": "get_user_info,get_app_friends",
                "state": "state",
                "switch": "",
                "from_ptlogin": "1",
                "src": "1",
                "update_auth": "1",
                "openapi": "1010_1030",
                "g_tk": str(g_tk(p_skey)),
                "auth_time": str(int(time.time() * 1000)),
                "ui": str(uuid.uuid4()),
            },
            cookies=cookies,
        )
        location = response.headers.get("location", "")
        code = parse_qs(urlsplit(location).query).get("code", [""])[0]
        if not code:
            raise UpstreamAuthFailed("QQ Connect did not authorise QQ Music")
        answer = await self._transport.call(
            calls.qq_connect_login(code), None, comm={"tmeLoginType": QQ_LOGIN}
        )
        return credential_payload(answer)

    async def _follow(self, url: str) -> dict[str, str]:
        """Walk the ``check_sig`` redirect chain (only through QQ's hosts), collecting every
        cookie set on the way."""
        if not host_allowed(url, self._login_hosts):
            raise UpstreamBadAnswer("ptlogin2 pointed the login at an unexpected host")
        cookies: dict[str, str] = {}
        for _ in range(MAX_HOPS):
            response = await self._pages.request(
                "GET", url, cookies=cookies, referer=PTLOGIN_REFERER
            )
            cookies.update(set_cookies(response))
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or not location:
                break
            url = urljoin(url, location)
            if not host_allowed(url, self._login_hosts):
                break
        return cookies


def _callback_arguments(text: str) -> list[str]:
    match = _CALLBACK.search(text)
    return _ARGUMENT.findall(match.group("args")) if match else []
