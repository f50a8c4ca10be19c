"""Both upstream fakes on loopback (QQ Music and NetEase, speaking their real protocols)
and the settings that aim a test app's QQ Music and NetEase clients at them: the app's
own clients, built from the settings as in production, talk to the fakes over TCP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.fakes.netease import FakeNetease, FakeNeteaseServer
from tests.fakes.qqmusic.app import FakeQQMusic
from tests.fakes.qqmusic.server import LoopbackServer


@dataclass
class Fakes:
    qq: FakeQQMusic
    netease: FakeNetease
    settings: dict[str, Any]

    def qq_payload(self, musicid: int, *, vip: bool = True) -> str:
        """A live QQ Music login of the fake, base64 (as the pool's add takes it)."""
        account = self.qq.accounts.get(musicid) or self.qq.accounts.add(musicid, vip=vip)
        return base64.b64encode(self.qq.credential_payload(account)).decode()

    def netease_payload(self, nickname: str = "vip-listener") -> str:
        """A live NetEase login's cookie, base64."""
        return base64.b64encode(self.netease.issue_cookie(nickname).encode()).decode()


def upstream_settings(qq_origin: str, netease: FakeNetease, netease_url: str) -> dict[str, Any]:
    qq_origin = qq_origin.rstrip("/")
    return {
        "qqmusic_api_url": f"{qq_origin}/cgi-bin/musicu.fcg",
        "qqmusic_ptlogin_url": qq_origin,
        "qqmusic_graph_url": qq_origin,
        "wechat_open_url": qq_origin,
        "wechat_long_poll_url": qq_origin,
        "qqmusic_timeout": 5.0,
        "netease_api_url": netease_url,
        "netease_weapi_key": f"{netease.rsa_modulus:x}:{netease.rsa_exponent:x}",
        "netease_timeout": 5.0,
    }


@contextmanager
def fake_upstreams(
    qq: FakeQQMusic | None = None, netease: FakeNetease | None = None
) -> Iterator[Fakes]:
    qq = qq or FakeQQMusic()
    netease = netease or FakeNetease()
    qq_server = LoopbackServer(qq)
    qq_server.start()
    try:
        with FakeNeteaseServer(netease) as netease_server:
            settings = upstream_settings(qq_server.origin, netease, netease_server.base_url)
            yield Fakes(qq, netease, settings)
    finally:
        qq_server.stop()
