"""The security audit log: an append-only record of who did what to which account.

Details carry only non-secret facts (never a password, token, code or secret): the
``AuditLog`` service drops any detail whose key looks secret, as a second line of defence.
"""

from __future__ import annotations

import logging

from domain.clock import Clock
from domain.ids import new_id
from domain.paging import Page
from domain.principal import Principal
from domain.security.model import AuditAction, AuditEvent, AuditFilter
from domain.security.ports import AuditStore

log = logging.getLogger("karpov.audit")


_SECRET_HINTS = ("password", "token", "secret", "code", "sid", "key", "hash", "otp")


class AuditLog:
    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self,
        action: AuditAction,
        principal: Principal | None = None,
        *,
        subject_user_id: str | None = None,
        client_ip: str | None = None,
        user_agent: str | None = None,
        **details: str,
    ) -> None:
        """Append an event. Never raises: losing an audit line must not fail a login, so
        a store failure is logged (without the details) instead."""
        safe = {
            k: str(v) for k, v in details.items() if not any(h in k.lower() for h in _SECRET_HINTS)
        }
        event = AuditEvent(
            id=new_id(),
            action=action,
            created_at=self._clock.now(),
            actor=principal.actor if principal and principal.is_authenticated else None,
            subject_user_id=subject_user_id,
            client_ip=client_ip or (principal.client_ip if principal else None),
            user_agent=(user_agent or (principal.user_agent if principal else None) or "")[:512]
            or None,
            details=safe,
        )
        try:
            await self._store.append(event)
        except Exception:
            log.exception("audit event could not be stored", extra={"action": action.value})

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        return await self._store.list(flt, limit=limit, offset=offset)
