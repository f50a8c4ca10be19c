"""Login challenges in Redis, shared by every API process.

Layout (``P`` is the prefix):

* ``P chal:<id_hash>``: a hash (``user_id``, ``created_at``, ``expires_at``, ``attempts``
  and, when known, ``ip`` and ``user_agent``) expiring (PEXPIREAT) at ``expires_at``.
* ``P chal-user:<user_id>``: a sorted set of the user's challenge id hashes scored by
  ``expires_at`` (epoch milliseconds), expiring with its latest member; used by
  ``delete_for_user``.

Every operation that changes a challenge is one Lua script, so it is atomic and takes one
round trip: of several concurrent ``take`` calls exactly one gets the challenge, and
concurrent ``record_failure`` calls each get their own count. The scripts derive the index
key from the challenge's ``user_id``, so this layout needs a single Redis, not a cluster.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from redis.asyncio import Redis

from domain.twofactor.model import LoginChallenge

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Prune expired members of the index in KEYS[2] against the Redis clock.
_PRUNE = """
local now = redis.call('TIME')
local now_ms = now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000))
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
"""

# KEYS: challenge key, index key. ARGV: expires_at ms, id hash, field, value, field, value…
# Returns 0 when the challenge already exists.
_ADD = (
    """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
"""
    + _PRUNE
    + """
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], latest[2])
return 1
"""
)

# KEYS: challenge key. ARGV: max attempts, index key prefix, id hash.
# Returns the attempts so far (0 when the challenge is gone); deletes it at the maximum.
_RECORD_FAILURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts >= tonumber(ARGV[1]) then
  local user_id = redis.call('HGET', KEYS[1], 'user_id')
  redis.call('DEL', KEYS[1])
  if user_id then redis.call('ZREM', ARGV[2] .. user_id, ARGV[3]) end
end
return attempts
"""

# KEYS: challenge key. ARGV: index key prefix, id hash.
# Returns the challenge's fields (flat field, value list), or nil when it is gone.
_TAKE = """
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return false end
redis.call('DEL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] == 'user_id' then redis.call('ZREM', ARGV[1] .. fields[i + 1], ARGV[2]) end
end
return fields
"""

# KEYS: index key. ARGV: challenge key prefix.
_DELETE_FOR_USER = """
for _, id_hash in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  redis.call('DEL', ARGV[1] .. id_hash)
end
redis.call('DEL', KEYS[1])
"""


class RedisChallengeStore:
    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._challenge_prefix = f"{prefix}chal:"
        self._index_prefix = f"{prefix}chal-user:"
        self._add = redis.register_script(_ADD)
        self._record_failure = redis.register_script(_RECORD_FAILURE)
        self._take = redis.register_script(_TAKE)
        self._delete_for_user = redis.register_script(_DELETE_FOR_USER)

    async def add(self, challenge: LoginChallenge) -> None:
        keys = [self._challenge_key(challenge.id_hash), self._index_key(challenge.user_id)]
        args: list[str | int] = [_epoch_ms(challenge.expires_at), challenge.id_hash]
        for field, value in _encode(challenge).items():
            args += [field, value]
        if not await self._add(keys=keys, args=args):
            raise ValueError("duplicate challenge id hash")

    async def get(self, id_hash: str) -> LoginChallenge | None:
        fields = await cast("Awaitable[Any]", self._redis.hgetall(self._challenge_key(id_hash)))
        return _decode(id_hash, fields) if fields else None

    async def record_failure(self, id_hash: str, max_attempts: int) -> int:
        keys = [self._challenge_key(id_hash)]
        args: list[str | int] = [max_attempts, self._index_prefix, id_hash]
        return int(await self._record_failure(keys=keys, args=args))

    async def take(self, id_hash: str) -> LoginChallenge | None:
        keys = [self._challenge_key(id_hash)]
        flat = await self._take(keys=keys, args=[self._index_prefix, id_hash])
        if not flat:
            return None
        return _decode(id_hash, dict(zip(flat[::2], flat[1::2], strict=True)))

    async def delete_for_user(self, user_id: str) -> None:
        await self._delete_for_user(keys=[self._index_key(user_id)], args=[self._challenge_prefix])

    def _challenge_key(self, id_hash: str) -> str:
        return self._challenge_prefix + id_hash

    def _index_key(self, user_id: str) -> str:
        return self._index_prefix + user_id


def _epoch_ms(value: datetime) -> int:
    return (_aware(value) - _EPOCH) // timedelta(milliseconds=1)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC)


def _encode(challenge: LoginChallenge) -> dict[str, str | int]:
    fields: dict[str, str | int] = {
        "user_id": challenge.user_id,
        "created_at": _aware(challenge.created_at).isoformat(),
        "expires_at": _aware(challenge.expires_at).isoformat(),
        "attempts": challenge.attempts,
    }
    if challenge.ip is not None:
        fields["ip"] = challenge.ip
    if challenge.user_agent is not None:
        fields["user_agent"] = challenge.user_agent
    return fields


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(id_hash: str, raw: dict[Any, Any]) -> LoginChallenge:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return LoginChallenge(
        id_hash=id_hash,
        user_id=fields["user_id"],
        created_at=datetime.fromisoformat(fields["created_at"]),
        expires_at=datetime.fromisoformat(fields["expires_at"]),
        attempts=int(fields["attempts"]),
        ip=fields.get("ip"),
        user_agent=fields.get("user_agent"),
    )
