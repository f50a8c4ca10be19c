"""E-mail codes in Redis, shared by every API process.

Layout (``P`` is the prefix): ``P ecode:<email>``, a hash of ``code_hash``, ``expires_ms``
(epoch milliseconds) and ``attempts``, expiring (PEXPIREAT) at ``expires_at``.

``check`` is one Lua script, so it is atomic: of several concurrent guesses each is counted,
exactly one consumes the code, and the comparison runs in constant time (every byte is
compared, whatever the first difference).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from domain.accounts.model import CodeCheck, StoredEmailCode

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# KEYS: code key. ARGV: code_hash, expires_ms, attempts.
_PUT = """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'code_hash', ARGV[1], 'expires_ms', ARGV[2], 'attempts', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
"""

# KEYS: code key. ARGV: code_hash, now ms, max attempts. Returns a CodeCheck value.
_CHECK = """
local state = redis.call('HMGET', KEYS[1], 'code_hash', 'expires_ms', 'attempts')
local stored = state[1]
if not stored then return 'missing' end
if tonumber(state[2]) <= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  return 'missing'
end
local given = ARGV[1]
local diff = 0
if #stored ~= #given then diff = 1 end
for i = 1, math.min(#stored, #given) do
  diff = bit.bor(diff, bit.bxor(string.byte(stored, i), string.byte(given, i)))
end
if diff == 0 then
  redis.call('DEL', KEYS[1])
  return 'ok'
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if attempts >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return 'exhausted'
end
return 'wrong'
"""


class RedisEmailCodeStore:
    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}ecode:"
        self._put = redis.register_script(_PUT)
        self._check = redis.register_script(_CHECK)

    async def put(self, code: StoredEmailCode) -> None:
        args: list[str | int] = [code.code_hash, _epoch_ms(code.expires_at), code.attempts]
        await self._put(keys=[self._prefix + code.email], args=args)

    async def check(
        self, email: str, code_hash: str, *, now: datetime, max_attempts: int
    ) -> CodeCheck:
        args: list[str | int] = [code_hash, _epoch_ms(now), max_attempts]
        raw = await self._check(keys=[self._prefix + email], args=args)
        return CodeCheck(raw.decode() if isinstance(raw, bytes) else str(raw))


def _epoch_ms(value: datetime) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return (value - _EPOCH) // timedelta(milliseconds=1)
