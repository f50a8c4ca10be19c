"""The NetEase credential lifecycle the pool drives (``CredentialLifecycle``).

* ``validate_payload``: the payload must be a NetEase login (``payload.parse_payload``).
* ``check``: the login-status call with the credential's cookie. NetEase answers a dead
  ``MUSIC_U`` with code 200 and no account, so the check reads the account, not the code.
* ``refresh``: the login refresh call; NetEase answers a new ``MUSIC_U`` (and ``__csrf``)
  in ``Set-Cookie``, which replace the old values. When it issues none (QR logins cannot be
  refreshed), the credential is kept only if its login still works. A refusal (301) or a
  deleted ``MUSIC_U`` is ``UpstreamAuthFailed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from domain.clock import Clock, SystemClock
from domain.music.errors import InvalidCredentialPayload, UpstreamAuthFailed
from domain.music.model import CredentialSecret, ProviderName
from domain.pool.ports import RefreshedPayload
from integrations.netease.cookies import LOGIN_COOKIE, apply_set_cookies, issued
from integrations.netease.login import LOGIN_REFRESH, LOGIN_STATUS, is_logged_in
from integrations.netease.payload import LoginCookie, parse_payload
from integrations.netease.transport import Crypto, NeteaseTransport


class NeteaseCredentials:
    provider = ProviderName.NETEASE.value

    def __init__(self, transport: NeteaseTransport, *, clock: Clock | None = None) -> None:
        self._transport = transport
        self._clock = clock or SystemClock()

    def validate_payload(self, payload: bytes) -> datetime | None:
        return parse_payload(payload).expires_at

    async def check(self, secret: CredentialSecret) -> None:
        await self._require_login(_login(secret).pairs)

    async def refresh(self, secret: CredentialSecret) -> RefreshedPayload:
        login = _login(secret)
        answer = await self._transport.call(Crypto.WEAPI, LOGIN_REFRESH, {}, login.pairs)
        renewed = apply_set_cookies(login.pairs, answer.set_cookies)
        if not renewed.get(LOGIN_COOKIE):
            raise UpstreamAuthFailed("NetEase ended the login instead of refreshing it")
        fresh = issued(answer.set_cookies, LOGIN_COOKIE)
        if fresh is None:
            await self._require_login(renewed)
            expires_at = login.expires_at
        else:
            expires_at = fresh.expires_at(self._clock.now())
        return RefreshedPayload(LoginCookie(renewed, expires_at).to_payload(), expires_at)

    async def _require_login(self, pairs: Mapping[str, str]) -> None:
        answer = await self._transport.call(Crypto.WEAPI, LOGIN_STATUS, {}, pairs)
        if not is_logged_in(answer.body):
            raise UpstreamAuthFailed("the NetEase login is no longer valid")


def _login(secret: CredentialSecret) -> LoginCookie:
    try:
        return parse_payload(secret.payload)
    except InvalidCredentialPayload:
        raise UpstreamAuthFailed("the pooled NetEase payload is not a login") from None
