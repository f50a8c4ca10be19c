"""Started OAuth flows in Redis, shared by every API process.

Layout (``P`` is the prefix): ``P oauth-state:<state_hash>``, the flow as JSON, expiring
(PXAT) at ``expires_at``. ``add`` is ``SET … NX PXAT`` and ``take`` is ``GETDEL``: both are
single atomic commands, so of several concurrent callbacks exactly one gets the flow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from domain.oauth.model import OAuthIntent, OAuthState

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RedisOAuthStateStore:
    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}oauth-state:"

    async def add(self, state: OAuthState) -> None:
        stored = await self._redis.set(
            self._prefix + state.state_hash,
            _encode(state),
            nx=True,
            pxat=_epoch_ms(state.expires_at),
        )
        if not stored:
            raise ValueError("duplicate state hash")

    async def take(self, state_hash: str) -> OAuthState | None:
        raw = await self._redis.getdel(self._prefix + state_hash)
        return None if raw is None else _decode(state_hash, raw)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC)


def _epoch_ms(value: datetime) -> int:
    return (_aware(value) - _EPOCH) // timedelta(milliseconds=1)


def _encode(state: OAuthState) -> str:
    return json.dumps(
        {
            "provider": state.provider,
            "intent": state.intent.value,
            "binding_hash": state.binding_hash,
            "nonce": state.nonce,
            "created_at": _aware(state.created_at).isoformat(),
            "expires_at": _aware(state.expires_at).isoformat(),
            "next_url": state.next_url,
            "user_id": state.user_id,
        }
    )


def _decode(state_hash: str, raw: bytes | str) -> OAuthState:
    fields = json.loads(raw)
    return OAuthState(
        state_hash=state_hash,
        provider=fields["provider"],
        intent=OAuthIntent(fields["intent"]),
        binding_hash=fields["binding_hash"],
        nonce=fields["nonce"],
        created_at=datetime.fromisoformat(fields["created_at"]),
        expires_at=datetime.fromisoformat(fields["expires_at"]),
        next_url=fields["next_url"],
        user_id=fields["user_id"],
    )
