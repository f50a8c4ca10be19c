"""``QrLoginService``: an admin adds a QQ Music account to the pool by scanning a QR code
with QQ or WeChat (the original's ``/v1/admin/login/qr/*``).

``start`` asks the upstream for a code and keeps the flow's state under a new session id
(64 hex characters, as the original's) in the ``QrSessionStore`` for the session's TTL
(180 s), sealed by the key ring (the state can finish the login); any process answers the
polls. ``poll`` makes one status check; a terminal event ends the session; on ``done``
the new login goes into the pool (sealed, like any credential) and its credential is
answered. The original's third platform, ``mobile`` (the QQ Music app's QR over MQTT),
was never built by the original either and is refused here.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from dataclasses import dataclass

from domain.clock import Clock
from domain.errors import Unauthenticated
from domain.keyring_service import KeyRingProvider
from domain.pool.commands import AddCredential
from domain.pool.errors import (
    PoolAdminRequired,
    PoolInvalidInput,
    QrLoginFailed,
    QrLoginNotFound,
    QrLoginUnavailable,
)
from domain.pool.model import Credential
from domain.pool.ports import QrLoginFlow, QrSessionStore
from domain.pool.service import PoolService
from domain.principal import Principal

log = logging.getLogger("karpov.pool.qr")

QR_SESSION_TTL = 180
MAX_LABEL = 200
_PLATFORM_NAMES = {"qq": "QQ", "wx": "WeChat"}


@dataclass(frozen=True, slots=True)
class QrLoginStart:
    session_id: str
    image: str
    expires_in_sec: int
    platform: str


@dataclass(frozen=True, slots=True)
class QrLoginStatus:
    event: str
    credential: Credential | None = None
    """On ``done``: the pool credential the login became."""
    error: str | None = None
    """Why the check failed (``event`` is then ``other``; the session may be polled again
    unless the login was refused)."""


class QrLoginService:
    def __init__(
        self,
        *,
        flow: QrLoginFlow | None,
        sessions: QrSessionStore,
        keys: KeyRingProvider,
        pool: PoolService,
        clock: Clock,
        ttl_seconds: int = QR_SESSION_TTL,
    ) -> None:
        """``flow``: ``None`` where no upstream offers QR logins (every call answers 503)."""
        self._flow = flow
        self._sessions = sessions
        self._keys = keys
        self._pool = pool
        self._clock = clock
        self._ttl = ttl_seconds

    async def start(
        self, principal: Principal, platform: str, *, label: str | None = None
    ) -> QrLoginStart:
        _require_admin(principal)
        flow = self._available()
        chosen = _platform(platform, flow)
        label = _label(label)
        try:
            started = await flow.start(chosen)
        except Exception as failure:
            if getattr(failure, "result", None) is None:
                raise
            raise QrLoginFailed(str(failure) or None) from None
        session_id = secrets.token_hex(32)
        ttl = max(1, min(self._ttl, started.expires_in or self._ttl))
        now = self._clock.now().timestamp()
        await self._keep(session_id, chosen, started.state, label, until=now + ttl)
        return QrLoginStart(session_id, started.image, ttl, chosen)

    async def poll(
        self, principal: Principal, session_id: str, *, label: str | None = None
    ) -> QrLoginStatus:
        _require_admin(principal)
        flow = self._available()
        record = await self._record(session_id)
        label = _label(label) or record.label
        now = self._clock.now().timestamp()
        if now >= record.until:  # the store's own expiry may lag behind (Redis's clock)
            await self._sessions.take(session_id)
            raise QrLoginNotFound(field="session")
        state = (await self._keys.decrypt(record.sealed_state, _aad(session_id))).decode()
        try:
            polled = await flow.poll(record.platform, state)
        except ValueError:
            await self._sessions.take(session_id)
            raise QrLoginNotFound(field="session") from None
        except Exception as failure:
            result = getattr(failure, "result", None)
            if result is None:
                raise
            message = str(failure) or type(failure).__name__
            log.info("QR login check failed", extra={"result": str(result)})
            if str(result) == "auth_failed":  # the login was refused: it cannot finish
                await self._sessions.take(session_id)
            return QrLoginStatus("other", error=message)
        if not polled.terminal:
            await self._keep(session_id, record.platform, polled.state, label, until=record.until)
            return QrLoginStatus(polled.event)
        if await self._sessions.take(session_id) is None:
            raise QrLoginNotFound(field="session")  # another poll finished it
        if polled.event != "done":
            return QrLoginStatus(polled.event)
        if polled.payload is None:
            return QrLoginStatus("other", error="the login finished without a credential")
        name = _PLATFORM_NAMES.get(record.platform, record.platform)
        command = AddCredential(
            provider=flow.provider,
            label=label or f"{name} QR login",
            payload_base64=base64.b64encode(polled.payload).decode(),
        )
        return QrLoginStatus("done", credential=await self._pool.add(principal, command))

    # -- helpers --------------------------------------------------------------------------

    def _available(self) -> QrLoginFlow:
        if self._flow is None:
            raise QrLoginUnavailable()
        return self._flow

    async def _keep(
        self, session_id: str, platform: str, state: str, label: str, *, until: float
    ) -> None:
        sealed = await self._keys.encrypt(state.encode(), _aad(session_id))
        record = {"platform": platform, "state": base64.b64encode(sealed).decode(),
                  "label": label, "until": until}  # fmt: skip
        left = until - self._clock.now().timestamp()
        await self._sessions.put(session_id, json.dumps(record).encode(), ttl_seconds=max(left, 1))

    async def _record(self, session_id: str) -> _Record:
        if not session_id or len(session_id) > 128:
            raise QrLoginNotFound(field="session")
        raw = await self._sessions.get(session_id)
        if raw is None:
            raise QrLoginNotFound(field="session")
        try:
            data = json.loads(raw)
            return _Record(
                platform=str(data["platform"]),
                sealed_state=base64.b64decode(data["state"]),
                label=str(data.get("label") or ""),
                until=float(data["until"]),
            )
        except (ValueError, KeyError, TypeError):
            raise QrLoginNotFound(field="session") from None


@dataclass(frozen=True, slots=True)
class _Record:
    platform: str
    sealed_state: bytes
    label: str
    until: float


def _aad(session_id: str) -> bytes:
    return f"qr-login:{session_id}".encode()


def _platform(platform: str, flow: QrLoginFlow) -> str:
    chosen = (platform or "").strip().lower()
    if chosen == "mobile":
        raise PoolInvalidInput(
            "platform mobile (the QQ Music app's MQTT login) is not supported; use qq or wx",
            field="platform",
        )
    if chosen not in flow.platforms:
        raise PoolInvalidInput(
            "platform must be one of: " + ", ".join(flow.platforms), field="platform"
        )
    return chosen


def _label(label: str | None) -> str:
    text = (label or "").strip()
    if len(text) > MAX_LABEL:
        raise PoolInvalidInput(f"label is longer than {MAX_LABEL} characters", field="label")
    return text


def _require_admin(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise Unauthenticated()
    if not principal.is_admin:
        raise PoolAdminRequired()
