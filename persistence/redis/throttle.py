"""Brute-force throttling in Redis, shared by every API process.

Layout (``P`` is the prefix):

* ``P thr:<key>``: a back-off counter, a hash of ``n`` (attempts) and ``last`` (epoch
  seconds of the last attempt), expiring ``reset_after`` seconds after the last attempt.
* ``P win:<key>``: a window counter, a hash of ``start`` (epoch seconds of the window's
  first hit) and ``count``, expiring ``window_seconds`` after the window opened.

The decisions use the caller's ``now`` (so every backend agrees and tests can move time);
the key expiries only let Redis forget idle counters. ``acquire`` and ``hit`` are each one
Lua script over all the rules' keys: they decide and count all-or-nothing, atomically, so
concurrent attempts cannot slip past a limit. Several keys per script need a single Redis
(or keys in one hash slot), not a cluster.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, cast

from redis.asyncio import Redis

from domain.security.model import BackoffRule, WindowRule

# KEYS: back-off keys. ARGV: now, then per key: free, base, max, reset_after.
# Returns the longest wait (a string, > 0) counting nothing, or '0' after counting.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local longest = 0
local counts = {}
for i, key in ipairs(KEYS) do
  local at = 4 * (i - 1) + 1
  local free = tonumber(ARGV[at + 1])
  local base = tonumber(ARGV[at + 2])
  local cap = tonumber(ARGV[at + 3])
  local reset_after = tonumber(ARGV[at + 4])
  local state = redis.call('HMGET', key, 'n', 'last')
  local n = tonumber(state[1]) or 0
  local last = tonumber(state[2])
  if last == nil or now - last >= reset_after then n = 0 end
  if n >= free then
    local left = math.min(cap, base * 2 ^ (n - free)) - (now - last)
    if left > longest then longest = left end
  end
  counts[i] = n
end
if longest > 0 then return tostring(longest) end
for i, key in ipairs(KEYS) do
  local reset_after = tonumber(ARGV[4 * (i - 1) + 5])
  redis.call('HSET', key, 'n', counts[i] + 1, 'last', ARGV[1])
  redis.call('EXPIRE', key, math.max(1, math.ceil(reset_after)))
end
return '0'
"""

# KEYS: window keys. ARGV: now, then per key: limit, window_seconds.
_HIT = """
local now = tonumber(ARGV[1])
local longest = 0
local fresh = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'start', 'count')
  local start = tonumber(state[1])
  local count = tonumber(state[2]) or 0
  fresh[i] = start == nil or now - start >= window
  if fresh[i] then count = 0 end
  if count >= limit then
    local left = window
    if not fresh[i] then left = start + window - now end
    if left > longest then longest = left end
  end
end
if longest > 0 then return tostring(longest) end
for i, key in ipairs(KEYS) do
  if fresh[i] then
    redis.call('DEL', key)
    redis.call('HSET', key, 'start', ARGV[1], 'count', 1)
    redis.call('EXPIRE', key, math.max(1, math.ceil(tonumber(ARGV[2 * i + 1]))))
  else
    redis.call('HINCRBY', key, 'count', 1)
  end
end
return '0'
"""

# KEYS: back-off key. Takes back one attempt, never below zero; keeps the expiry.
_REFUND = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n and n > 0 then redis.call('HINCRBY', KEYS[1], 'n', -1) end
"""


class RedisThrottleStore:
    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._backoff_prefix = f"{prefix}thr:"
        self._window_prefix = f"{prefix}win:"
        self._acquire = redis.register_script(_ACQUIRE)
        self._hit = redis.register_script(_HIT)
        self._refund = redis.register_script(_REFUND)

    async def acquire(self, rules: list[BackoffRule], now: float) -> float:
        if not rules:
            return 0.0
        keys = [self._backoff_prefix + rule.key for rule in rules]
        args: list[str | int | float] = [repr(float(now))]
        for rule in rules:
            args += [rule.free, repr(float(rule.base_seconds)), repr(float(rule.max_seconds))]
            args.append(rule.reset_after)
        return _seconds(await self._acquire(keys=keys, args=args))

    async def reset(self, key: str) -> None:
        await self._redis.delete(self._backoff_prefix + key)

    async def refund(self, key: str) -> None:
        await self._refund(keys=[self._backoff_prefix + key], args=[])

    async def attempts(self, key: str) -> int:
        value = await cast("Awaitable[Any]", self._redis.hget(self._backoff_prefix + key, "n"))
        return 0 if value is None else max(0, int(value))

    async def hit(self, rules: list[WindowRule], now: float) -> float:
        if not rules:
            return 0.0
        keys = [self._window_prefix + rule.key for rule in rules]
        args: list[str | int | float] = [repr(float(now))]
        for rule in rules:
            args += [rule.limit, rule.window_seconds]
        return _seconds(await self._hit(keys=keys, args=args))


def _seconds(raw: object) -> float:
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return max(0.0, float(text))
