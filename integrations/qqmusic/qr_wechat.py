"""WeChat login by QR code (``qrconnect``), ending in a QQ Music credential.

1. ``open.weixin.qq.com/connect/qrconnect`` (QQ Music's WeChat app id) answers a page that
   names the QR ``uuid``; ``/connect/qrcode/<uuid>`` is the image.
2. ``lp.open.weixin.qq.com/connect/l/qrconnect?uuid=…`` is a long poll answering
   ``window.wx_errcode=<code>;window.wx_code='<code>';``: 408 waiting, 404 scanned,
   402 expired, 403 declined, 405 confirmed (with the OAuth code). After a scan the next poll
   passes ``last=404`` so the server waits for the confirmation.
3. ``music.login.LoginServer.Login`` on ``musicu.fcg`` trades the code for the login.
"""

from __future__ import annotations

import re
import time

from domain.music.errors import UpstreamAuthFailed, UpstreamBadAnswer
from integrations.qqmusic import calls
from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import WECHAT_LOGIN
from integrations.qqmusic.qr_common import (
    LoginPages,
    QrEvent,
    QrPlatform,
    QrPoll,
    QrSession,
    QrStart,
    credential_payload,
    data_url,
)
from integrations.qqmusic.transport import MusicuTransport

MUSIC_REDIRECT = "https://y.qq.com/portal/wx_redirect.html?login_type=2&surl=https://y.qq.com/"
MUSIC_STYLE = "https://y.qq.com/mediastyle/music_v17/src/css/popup_wechat.css#wechat_redirect"

_EVENTS = {
    405: QrEvent.DONE,
    408: QrEvent.WAITING,
    404: QrEvent.SCANNED,
    402: QrEvent.TIMEOUT,
    403: QrEvent.REFUSE,
}
_RESUMABLE = frozenset({404, 408})
_UUID = re.compile(r"(?:uuid=|/connect/qrcode/)(?P<uuid>[A-Za-z0-9_-]{6,64})")
_STATUS = re.compile(r"window\.wx_errcode=(?P<code>\d+);\s*window\.wx_code='(?P<wx_code>[^']*)'")


class WeChatQrLogin:
    platform = QrPlatform.WECHAT

    def __init__(self, config: QQMusicConfig, pages: LoginPages, transport: MusicuTransport):
        self._config = config
        self._pages = pages
        self._transport = transport
        self._open = config.wechat_open_url.rstrip("/")
        self._long_poll = config.wechat_long_poll_url.rstrip("/")

    async def start(self) -> QrStart:
        page = await self._pages.request(
            "GET",
            f"{self._open}/connect/qrconnect",
            params={
                "appid": calls.WECHAT_APP_ID,
                "redirect_uri": MUSIC_REDIRECT,
                "response_type": "code",
                "scope": "snsapi_login",
                "state": "STATE",
                "href": MUSIC_STYLE,
            },
        )
        match = _UUID.search(page.text)
        if match is None:
            raise UpstreamBadAnswer("WeChat answered the QR page without a QR code")
        qr_uuid = match.group("uuid")
        image = await self._pages.request(
            "GET",
            f"{self._open}/connect/qrcode/{qr_uuid}",
            referer=f"{self._open}/connect/qrconnect",
        )
        if not image.content:
            raise UpstreamBadAnswer("WeChat answered an empty QR image")
        return QrStart(
            QrSession(QrPlatform.WECHAT, qr_uuid),
            data_url(image.content, image.headers.get("content-type"), "image/jpeg"),
            self._config.qr_ttl_s,
        )

    async def poll(self, session: QrSession) -> QrPoll:
        params = {"uuid": session.token, "_": str(int(time.time() * 1000))}
        if session.last_code in _RESUMABLE:
            params["last"] = str(session.last_code)
        response = await self._pages.long_poll(
            f"{self._long_poll}/connect/l/qrconnect",
            params=params,
            referer=f"{self._open}/",
            timeout_s=self._config.wechat_poll_timeout_s,
        )
        if response is None:  # held open to the end: nothing happened since the last poll
            quiet = QrEvent.SCANNED if session.last_code == 404 else QrEvent.WAITING
            return QrPoll(quiet, session, upstream_code=session.last_code)
        match = _STATUS.search(response.text)
        if match is None:
            return QrPoll(QrEvent.OTHER, session)
        code = int(match.group("code"))
        event = _EVENTS.get(code, QrEvent.OTHER)
        polled = QrSession(session.platform, session.token, code)
        if event is not QrEvent.DONE:
            return QrPoll(event, polled, upstream_code=code)
        wx_code = match.group("wx_code")
        if not wx_code:
            raise UpstreamAuthFailed("WeChat confirmed the scan without an OAuth code")
        answer = await self._transport.call(
            calls.wechat_login(wx_code), None, comm={"tmeLoginType": WECHAT_LOGIN}
        )
        return QrPoll(QrEvent.DONE, polled, credential_payload(answer), upstream_code=code)
