"""Sessions in Redis, shared by every API process.

Layout (``P`` is the prefix):

* ``P sess:<token_hash>``: the session as JSON, expiring (PEXPIREAT) at ``expires_at``; the
  per-request lookup is a single GET.
* ``P sess:user:<user_id>``: a sorted set of the user's token hashes scored by ``expires_at``
  (epoch milliseconds), expiring with its latest member; used to list and revoke.

Every write that touches both keys is one Lua script, so a crash or a concurrent request
never leaves a session without its index entry or the reverse. Expired members are pruned
from the index (against the Redis clock, the one that expires the session keys) whenever a
script walks it. The scripts derive session keys from the index, so this layout needs a
single Redis, not a cluster.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from domain.accounts.model import Session

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Shared Lua: prune expired members, then yield each live (token_hash, json) of the user.
_WALK = """
local now = redis.call('TIME')
local now_ms = now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
local function live_sessions()
  local result = {}
  for _, hash in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local body = redis.call('GET', ARGV[1] .. hash)
    if body then
      table.insert(result, {hash, body})
    else
      redis.call('ZREM', KEYS[1], hash)
    end
  end
  return result
end
"""

# KEYS: session key, index key. ARGV: json, expires_at ms, token hash.
_ADD = """
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], latest[2])
"""

# KEYS: index key. ARGV: session key prefix.
_LIST = (
    _WALK
    + """
local bodies = {}
for _, item in ipairs(live_sessions()) do table.insert(bodies, item[2]) end
return bodies
"""
)

# KEYS: index key. ARGV: session key prefix, session id. Returns 1 when deleted.
_DELETE = (
    _WALK
    + """
for _, item in ipairs(live_sessions()) do
  if cjson.decode(item[2])['id'] == ARGV[2] then
    redis.call('DEL', ARGV[1] .. item[1])
    redis.call('ZREM', KEYS[1], item[1])
    return 1
  end
end
return 0
"""
)

# KEYS: index key. ARGV: session key prefix, session id to keep ('' for none).
_DELETE_ALL = (
    _WALK
    + """
local deleted = 0
for _, item in ipairs(live_sessions()) do
  if ARGV[2] == '' or cjson.decode(item[2])['id'] ~= ARGV[2] then
    redis.call('DEL', ARGV[1] .. item[1])
    redis.call('ZREM', KEYS[1], item[1])
    deleted = deleted + 1
  end
end
return deleted
"""
)


class RedisSessionStore:
    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._session_prefix = f"{prefix}sess:"
        self._index_prefix = f"{prefix}sess:user:"
        self._add = redis.register_script(_ADD)
        self._list = redis.register_script(_LIST)
        self._delete = redis.register_script(_DELETE)
        self._delete_all = redis.register_script(_DELETE_ALL)

    async def add(self, session: Session) -> None:
        keys = [self._session_key(session.token_hash), self._index_key(session.user_id)]
        args: list[str | int] = [
            _encode(session),
            _epoch_ms(session.expires_at),
            session.token_hash,
        ]
        await self._add(keys=keys, args=args)

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        body = await self._redis.get(self._session_key(token_hash))
        return None if body is None else _decode(body)

    async def touch(self, session: Session, seen_at: datetime) -> None:
        # XX: a session deleted (or expired) meanwhile stays gone; KEEPTTL keeps its expiry.
        body = _encode(replace(session, last_seen_at=seen_at))
        await self._redis.set(self._session_key(session.token_hash), body, xx=True, keepttl=True)

    async def list_for_user(self, user_id: str) -> list[Session]:
        bodies = await self._list(keys=[self._index_key(user_id)], args=[self._session_prefix])
        found = [_decode(body) for body in bodies]
        return sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)

    async def delete(self, user_id: str, session_id: str) -> bool:
        keys = [self._index_key(user_id)]
        deleted = await self._delete(keys=keys, args=[self._session_prefix, session_id])
        return bool(deleted)

    async def delete_for_user(self, user_id: str, *, except_id: str | None = None) -> int:
        keys = [self._index_key(user_id)]
        args = [self._session_prefix, except_id or ""]
        return int(await self._delete_all(keys=keys, args=args))

    def _session_key(self, token_hash: str) -> str:
        return self._session_prefix + token_hash

    def _index_key(self, user_id: str) -> str:
        return self._index_prefix + user_id


def _epoch_ms(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(milliseconds=1)


def _encode(session: Session) -> str:
    return json.dumps(
        {
            "id": session.id,
            "user_id": session.user_id,
            "token_hash": session.token_hash,
            "created_at": _iso(session.created_at),
            "expires_at": _iso(session.expires_at),
            "last_seen_at": _iso(session.last_seen_at),
            "ip": session.ip,
            "user_agent": session.user_agent,
        },
        separators=(",", ":"),
    )


def _iso(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC).isoformat()


def _decode(body: Any) -> Session:
    data = json.loads(body)
    return Session(
        id=data["id"],
        user_id=data["user_id"],
        token_hash=data["token_hash"],
        created_at=datetime.fromisoformat(data["created_at"]),
        expires_at=datetime.fromisoformat(data["expires_at"]),
        last_seen_at=datetime.fromisoformat(data["last_seen_at"]),
        ip=data["ip"],
        user_agent=data["user_agent"],
    )
