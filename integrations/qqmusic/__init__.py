"""The QQ Music upstream: ``musicu.fcg`` music calls, credential lifecycle and QR logins.

Wire it with one ``QQMusicUpstream(QQMusicConfig(...))``: ``.provider`` implements
``domain.music.ports.MusicProvider``, ``.credentials`` implements
``domain.pool.ports.CredentialLifecycle``, ``.qr_login("qq" | "wx")`` drives an admin QR
login whose session state is JSON.
"""

from integrations.qqmusic.config import QQMusicConfig
from integrations.qqmusic.credential import QQCredential
from integrations.qqmusic.lifecycle import QQCredentials
from integrations.qqmusic.provider import QQMusicProvider
from integrations.qqmusic.qr_common import QrEvent, QrLogin, QrPlatform, QrPoll, QrSession, QrStart
from integrations.qqmusic.qr_qq import QQQrLogin
from integrations.qqmusic.qr_wechat import WeChatQrLogin
from integrations.qqmusic.transport import MusicuTransport
from integrations.qqmusic.upstream import QQMusicUpstream

__all__ = [
    "MusicuTransport",
    "QQCredential",
    "QQCredentials",
    "QQMusicConfig",
    "QQMusicProvider",
    "QQMusicUpstream",
    "QQQrLogin",
    "QrEvent",
    "QrLogin",
    "QrPlatform",
    "QrPoll",
    "QrSession",
    "QrStart",
    "WeChatQrLogin",
]
