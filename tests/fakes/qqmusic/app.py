"""``FakeQQMusic``: every QQ Music endpoint the client uses, as one ASGI app.

The real endpoints live on different hosts, but their paths never collide, so one app
serves them all: point every URL of ``QQMusicConfig`` at it (``config_for``), behind
``httpx.ASGITransport`` or on loopback (``LoopbackServer``).

    fake = FakeQQMusic()
    vip = fake.accounts.add(10001, vip=True)
    payload = fake.credential_payload(vip)      # what the pool would store
    upstream = QQMusicUpstream(fake.config_for("http://qq.test"), transport=fake.transport())
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from integrations.qqmusic.config import QQMusicConfig
from tests.fakes.qqmusic.accounts import QQ_LOGIN, WECHAT_LOGIN, Accounts, FakeAccount
from tests.fakes.qqmusic.catalogue import Catalogue, default_catalogue
from tests.fakes.qqmusic.logins import LoginPagesFake
from tests.fakes.qqmusic.musicu import MusicuFake

QQ_SCANNER_ID = 1_152_921_504
WECHAT_SCANNER_ID = 1_152_921_505


class FakeQQMusic:
    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.catalogue = catalogue or default_catalogue()
        self.accounts = Accounts(now)
        self.musicu = MusicuFake(self.catalogue, self.accounts)
        self.logins = LoginPagesFake(
            self.accounts,
            self.musicu,
            qq_scanner=self.accounts.add(QQ_SCANNER_ID, vip=True, login_type=QQ_LOGIN),
            wechat_scanner=self.accounts.add(WECHAT_SCANNER_ID, vip=True, login_type=WECHAT_LOGIN),
        )
        self.http_status = 200
        """Answer ``musicu.fcg`` with this status (and no JSON) when not 200."""
        self.garbage = False
        """Answer ``musicu.fcg`` with a body that is not JSON."""
        self.delay_s = 0.0
        """Wait this long before answering ``musicu.fcg``."""
        self.in_flight = 0
        self.max_in_flight = 0
        self.posts = 0
        self.app = self._app()

    # -- helpers for tests -------------------------------------------------------------------

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self.app)

    @staticmethod
    def config_for(origin: str, **overrides: Any) -> QQMusicConfig:
        """A client configuration with every upstream URL on ``origin``."""
        origin = origin.rstrip("/")
        fields: dict[str, Any] = {
            "api_url": f"{origin}/cgi-bin/musicu.fcg",
            "ptlogin_url": origin,
            "graph_url": origin,
            "wechat_open_url": origin,
            "wechat_long_poll_url": origin,
            "login_hosts": (),
            **overrides,
        }
        return QQMusicConfig(**fields)

    def credential_payload(self, account: FakeAccount) -> bytes:
        """The account's current login, as the upstream's login call answers it."""
        return json.dumps(self.accounts.credential(account)).encode()

    # -- the app -----------------------------------------------------------------------------

    def _app(self) -> Starlette:
        pages = self.logins
        return Starlette(
            routes=[
                Route("/cgi-bin/musicu.fcg", self._musicu, methods=["POST"]),
                Route("/cgi-bin/musics.fcg", self._musicu, methods=["POST"]),
                Route("/ptqrshow", pages.ptqrshow),
                Route("/ptqrlogin", pages.ptqrlogin),
                Route("/check_sig", pages.check_sig),
                Route("/ptlogin/hop", pages.hop),
                Route("/oauth2.0/login_jump", pages.login_jump),
                Route("/oauth2.0/authorize", pages.authorize, methods=["POST"]),
                Route("/connect/qrconnect", pages.qrconnect),
                Route("/connect/qrcode/{uuid}", pages.qrcode),
                Route("/connect/l/qrconnect", pages.long_poll),
            ]
        )

    async def _musicu(self, request: Request) -> Response:
        self.posts += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = await request.body()
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.http_status != 200:
                return PlainTextResponse("upstream trouble", status_code=self.http_status)
            if self.garbage:
                return PlainTextResponse("<html>502 Bad Gateway</html>")
            answer = self.musicu.answer(
                body,
                request.cookies,
                request.query_params.get("sign"),
                request.headers.get("user-agent", ""),
            )
            return JSONResponse(answer)
        finally:
            self.in_flight -= 1
