"""``NeteaseLoginService``: the original's ``/v1/netease/auth/*`` operations, for admins
only (the original let any signed-in user drive them: an open proxy to NetEase's login,
SMS and registration endpoints). An answer that logged a real account in can go straight
into the pool (``store``), sealed like any credential.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from domain.errors import Unauthenticated
from domain.pool.commands import AddCredential
from domain.pool.errors import (
    PoolAdminRequired,
    PoolInvalidInput,
    UpstreamLoginFailed,
    UpstreamLoginUnavailable,
)
from domain.pool.model import Credential
from domain.pool.ports import LoginReply, NeteaseLoginOperation, NeteaseLoginPort
from domain.pool.service import PoolService
from domain.principal import Principal

_LABELS = {
    NeteaseLoginOperation.LOGIN_CELLPHONE: "NetEase phone login",
    NeteaseLoginOperation.LOGIN_EMAIL: "NetEase e-mail login",
    NeteaseLoginOperation.QR_CHECK: "NetEase QR login",
    NeteaseLoginOperation.REFRESH: "NetEase refreshed login",
}


@dataclass(frozen=True, slots=True)
class NeteaseLoginResult:
    answer: dict[str, object]
    credential: Credential | None = None
    """The pool credential the login became, when it was stored."""


class NeteaseLoginService:
    def __init__(self, *, login: NeteaseLoginPort | None, pool: PoolService) -> None:
        self._login = login
        self._pool = pool

    async def call(
        self,
        principal: Principal,
        operation: NeteaseLoginOperation,
        fields: dict[str, str | None],
        *,
        store: bool = False,
        label: str | None = None,
    ) -> NeteaseLoginResult:
        if not principal.is_authenticated:
            raise Unauthenticated()
        if not principal.is_admin:
            raise PoolAdminRequired("NetEase logins are for admins only")
        if self._login is None:
            raise UpstreamLoginUnavailable()
        if store and operation not in _LABELS:
            raise PoolInvalidInput(
                f"store: {operation.value} does not log an account in", field="store"
            )
        reply = await self._reply(operation, fields)
        credential = None
        if store and reply.payload is not None:
            command = AddCredential(
                provider=self._login.provider,
                label=(label or "").strip() or _LABELS[operation],
                payload_base64=base64.b64encode(reply.payload).decode(),
            )
            credential = await self._pool.add(principal, command)
        return NeteaseLoginResult(reply.body, credential)

    async def _reply(
        self, operation: NeteaseLoginOperation, fields: dict[str, str | None]
    ) -> LoginReply:
        assert self._login is not None
        try:
            return await self._login.call(operation, fields)
        except ValueError as error:
            name, _, why = str(error).partition(": ")
            raise PoolInvalidInput(str(error), field=name if why else None) from None
        except Exception as failure:
            if getattr(failure, "result", None) is None:
                raise
            raise UpstreamLoginFailed(str(failure) or None) from None
