"""``QQMusicUpstream``: the QQ Music integration wired once: one HTTP connection pool, one
concurrency cap and one device GUID shared by the music provider, the credential
lifecycle and the QR logins."""

from __future__ import annotations

import secrets
from types import TracebackType

import httpx

from domain.clock import Clock, SystemClock
from domain.music.ports import MusicProvider
from domain.pool.ports import CredentialLifecycle
from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.http_client import new_http_client
from integrations.qqmusic.lifecycle import QQCredentials
from integrations.qqmusic.provider import QQMusicProvider
from integrations.qqmusic.qr_common import LoginPages, QrLogin, QrPlatform
from integrations.qqmusic.qr_flow import QQQrLoginFlow
from integrations.qqmusic.qr_qq import QQQrLogin
from integrations.qqmusic.qr_wechat import WeChatQrLogin
from integrations.qqmusic.transport import MusicuTransport


class QQMusicUpstream:
    def __init__(
        self,
        config: QQMusicConfig | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``transport``: where requests go (tests pass ``httpx.ASGITransport`` of the fake);
        by default the network."""
        self.config = config or QQMusicConfig()
        clock = clock or SystemClock()
        self._http = new_http_client(self.config, transport)
        self.musicu = MusicuTransport(
            self.config, self._http, guid=self.config.guid or secrets.token_hex(16)
        )
        self.provider = QQMusicProvider(self.config, self.musicu, clock=clock)
        self.credentials = QQCredentials(self.musicu, clock=clock)
        pages = LoginPages(self._http, self.config.browser_user_agent, self.config.login_timeout_s)
        self._qr: dict[QrPlatform, QrLogin] = {
            QrPlatform.QQ: QQQrLogin(self.config, pages, self.musicu),
            QrPlatform.WECHAT: WeChatQrLogin(self.config, pages, self.musicu),
        }

    def qr_login(self, platform: QrPlatform | str) -> QrLogin:
        """``qq`` or ``wx``; raises ``ValueError`` for any other platform."""
        return self._qr[QrPlatform(platform)]

    @property
    def qr_flow(self) -> QQQrLoginFlow:
        """Both QR logins as the pool's ``QrLoginFlow`` (upstreams, issue 15)."""
        return QQQrLoginFlow(self._qr)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> QQMusicUpstream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


# Checked by mypy, free at run time: the clients implement the domain ports.
_PROVIDER_PORT: type[MusicProvider] = QQMusicProvider
_LIFECYCLE_PORT: type[CredentialLifecycle] = QQCredentials
