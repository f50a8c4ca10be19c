"""The credential pool's lease registry and refresh lock in Redis, shared by every API
process.

Layout (``P`` is the prefix; ``{id}`` is a hash tag, so one credential's keys share a
cluster slot):

* ``P pool:{id}:leases``: held slots, a sorted set of lease id -> expiry (ms).
* ``P pool:{id}:spent``: requests granted in the last second, lease id -> grant time (ms).
* ``P pool:{id}:refresh``: the refresh lock, a hash of ``token`` and ``until`` (ms).

Decisions use the caller's ``now`` (the pool's clock), so every backend agrees and tests
can move time; key expiries only let Redis forget idle credentials. ``take`` is ONE Lua
script: refresh check, expired slots dropped, concurrency and rate checked, slot held and
request counted, all-or-nothing, so concurrent acquisitions in any number of processes
never exceed a credential's limits.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from redis.asyncio import Redis

from domain.pool.ports import LeaseVerdict, SlotRequest

# KEYS: leases, spent, refresh. ARGV: now_ms, lease_id, max_concurrency, per_second, ttl_ms.
_TAKE = """
local now = tonumber(ARGV[1])
local lock = redis.call('HGET', KEYS[3], 'until')
if lock and tonumber(lock) > now then return 'refreshing' end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'busy' end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'rate' end
local ttl = tonumber(ARGV[5])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
redis.call('PEXPIRE', KEYS[2], 60000)
return 'granted'
"""

# KEYS: leases. ARGV: lease_id, now_ms. 1 when the slot was held and not yet expired.
_GIVE_BACK = """
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if tonumber(expiry) > tonumber(ARGV[2]) then return 1 end
return 0
"""

# KEYS: refresh. ARGV: token, now_ms, until_ms, keep_ms.
_HOLD = """
local lock = redis.call('HGET', KEYS[1], 'until')
if lock and tonumber(lock) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'until', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# KEYS: refresh. ARGV: token.
_LET_GO = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"""


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class RedisLeaseRegistry:
    """Both the ``LeaseRegistry`` and the ``RefreshLock`` of the pool (the lease script
    reads the refresh lock, so the two live in one place)."""

    def __init__(self, redis: Redis, prefix: str = "karpov:") -> None:
        self._redis = redis
        self._prefix = f"{prefix}pool:"
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._hold = redis.register_script(_HOLD)
        self._let_go = redis.register_script(_LET_GO)

    def _key(self, credential_id: str, part: str) -> str:
        return f"{self._prefix}{{{credential_id}}}:{part}"

    async def take(self, request: SlotRequest) -> LeaseVerdict:
        cid = request.credential_id
        keys = [self._key(cid, "leases"), self._key(cid, "spent"), self._key(cid, "refresh")]
        args: list[str | int] = [
            _ms(request.now),
            request.lease_id,
            request.max_concurrency,
            request.requests_per_second,
            max(1, int(request.ttl_seconds * 1000)),
        ]
        raw = await self._take(keys=keys, args=args)
        return LeaseVerdict(raw.decode() if isinstance(raw, bytes) else str(raw))

    async def give_back(self, credential_id: str, lease_id: str, now: datetime) -> bool:
        keys = [self._key(credential_id, "leases")]
        return bool(int(await self._give_back(keys=keys, args=[lease_id, _ms(now)])))

    async def held(self, credential_id: str, now: datetime) -> int:
        key = self._key(credential_id, "leases")
        return int(await self._redis.zcount(key, f"({_ms(now)}", "+inf"))

    async def hold(
        self, credential_id: str, token: str, *, ttl_seconds: float, now: datetime
    ) -> bool:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        args: list[str | int] = [token, _ms(now), _ms(now) + ttl_ms, ttl_ms + 60000]
        return bool(int(await self._hold(keys=[self._key(credential_id, "refresh")], args=args)))

    async def let_go(self, credential_id: str, token: str) -> None:
        await self._let_go(keys=[self._key(credential_id, "refresh")], args=[token])

    async def refreshing(self, credential_ids: Collection[str], now: datetime) -> set[str]:
        ids = list(credential_ids)
        if not ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hget(self._key(cid, "refresh"), "until")
            values = await pipe.execute()
        now_ms = _ms(now)
        return {
            cid for cid, until in zip(ids, values, strict=True) if until and int(until) > now_ms
        }
