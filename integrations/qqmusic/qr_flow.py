"""The QQ Music QR logins (QQ and WeChat scans) as the pool's ``QrLoginFlow``: the
session state is ``QrSession``'s JSON, so whichever process polls can go on."""

from __future__ import annotations

from domain.music.model import ProviderName
from domain.pool.ports import QrLoginFlow, QrLoginPolled, QrLoginStarted
from integrations.qqmusic.qr_common import QrLogin, QrPlatform, QrSession


class QQQrLoginFlow:
    provider = ProviderName.QQMUSIC.value
    platforms = tuple(p.value for p in QrPlatform)

    def __init__(self, logins: dict[QrPlatform, QrLogin]) -> None:
        self._logins = logins

    async def start(self, platform: str) -> QrLoginStarted:
        started = await self._logins[QrPlatform(platform)].start()
        return QrLoginStarted(started.session.to_json(), started.image, started.expires_in)

    async def poll(self, platform: str, state: str) -> QrLoginPolled:
        session = QrSession.from_json(state)
        if session.platform is not QrPlatform(platform):
            raise ValueError("the session belongs to another platform")
        polled = await self._logins[session.platform].poll(session)
        return QrLoginPolled(polled.event.value, polled.session.to_json(), polled.payload)


_PORT: type[QrLoginFlow] = QQQrLoginFlow
