"""A scripted ``CredentialLifecycle`` for pool tests: it accepts JSON payloads with a
``cookie``, checks and refreshes them in memory, and fails when told to."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from domain.leases import CredentialSecret
from domain.music.errors import InvalidCredentialPayload, ProviderFailure
from domain.pool.ports import RefreshedPayload

RENEWED_EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)


class ScriptedLifecycle:
    def __init__(self, provider: str = "qqmusic") -> None:
        self.provider = provider
        self.failure: ProviderFailure | None = None
        """Raised by the next ``check`` or ``refresh`` (then cleared)."""
        self.refresh_gate: asyncio.Event | None = None
        """When set, ``refresh`` waits for it (a refresh in progress)."""
        self.checked: list[CredentialSecret] = []
        self.refreshed: list[CredentialSecret] = []

    def validate_payload(self, payload: bytes) -> datetime | None:
        try:
            data = json.loads(payload)
        except ValueError:
            raise InvalidCredentialPayload("the payload is not JSON") from None
        if not isinstance(data, dict) or not data.get("cookie"):
            raise InvalidCredentialPayload("the payload has no cookie")
        expires = data.get("expires")
        return datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None

    async def check(self, secret: CredentialSecret) -> None:
        self.checked.append(secret)
        self._maybe_fail()

    async def refresh(self, secret: CredentialSecret) -> RefreshedPayload:
        self.refreshed.append(secret)
        if self.refresh_gate is not None:
            await self.refresh_gate.wait()
        self._maybe_fail()
        data = json.loads(secret.payload)
        data["cookie"] = data["cookie"] + "-renewed"
        return RefreshedPayload(json.dumps(data).encode(), RENEWED_EXPIRY)

    def _maybe_fail(self) -> None:
        failure, self.failure = self.failure, None
        if failure is not None:
            raise failure
