"""``QQCredentials``: the pool's lifecycle rules for QQ Music logins.

The health check makes a call that only a live login answers (``GetLoginUserInfo``; the
original checked with a chart listing, which answers anyone, so dead logins stayed
"healthy"). Refresh renews the ``musickey`` through the login module with the login's
``refresh_key`` and ``refresh_token``; only QR and phone logins have them.
"""

from __future__ import annotations

from datetime import datetime

from domain.clock import Clock, SystemClock
from domain.music.errors import InvalidCredentialPayload, UpstreamAuthFailed
from domain.music.model import CredentialSecret, ProviderName
from domain.pool.ports import RefreshedPayload
from integrations.qqmusic import calls
from integrations.qqmusic.credential import QQCredential, login_from_secret
from integrations.qqmusic.transport import MusicuTransport


class QQCredentials:
    provider = ProviderName.QQMUSIC.value

    def __init__(self, transport: MusicuTransport, *, clock: Clock | None = None) -> None:
        self._transport = transport
        self._clock = clock or SystemClock()

    def validate_payload(self, payload: bytes) -> datetime | None:
        return QQCredential.from_payload(payload).expires_at()

    async def check(self, secret: CredentialSecret) -> None:
        login = login_from_secret(secret)
        expires_at = login.expires_at()
        if expires_at is not None and expires_at <= self._clock.now():
            raise UpstreamAuthFailed("the QQ Music login has expired")
        await self._transport.call(calls.login_user_info(), login)

    async def refresh(self, secret: CredentialSecret) -> RefreshedPayload:
        login = login_from_secret(secret)
        if not login.can_refresh():
            raise UpstreamAuthFailed(
                "this QQ Music login has no refresh key (added as a cookie?): log in again by QR"
            )
        answer = await self._transport.call(
            calls.refresh_login(login), login, comm={"tmeLoginType": login.login_type}
        )
        try:
            renewed = login.renewed_by(answer)
        except InvalidCredentialPayload:
            raise UpstreamAuthFailed("QQ Music answered the refresh without a login") from None
        if not answer.get("musickey"):
            raise UpstreamAuthFailed("QQ Music answered the refresh without a new musickey")
        return RefreshedPayload(renewed.to_payload(), renewed.expires_at())
