"""The quota gate on Redis: every limit of a request decided and reserved in one round trip.

Layout (``N`` is the namespace):

* ``N:r:<kind>:<subject>``: a rate limit's TAT (GCRA theoretical arrival time) in whole
  microseconds since the epoch; it expires shortly after the TAT, when the allowance is
  whole again and the state means nothing.
* ``N:c:<kind>:<subject>:<bucket>``: the units used in a counter's bucket; it expires
  shortly after ``resets_at`` (set when the key is made, kept by later writes).

Needs Redis 6.0 or later (``SET ... KEEPTTL``) with its bundled Lua ``struct`` library
(Redis and Valkey both ship it).

``reserve`` and ``peek`` are one Lua script (one EVALSHA; on NOSCRIPT, after a Redis restart
or a failover, one EVAL that also caches it again). It reads every key once, decides every
limit against the caller's ``now``, and writes only if every limit has room, so concurrent
requests on any number of connections and processes admit exactly what the limits allow.
``refund`` is a second script. The arithmetic (whole microseconds, GCRA, the decisions the
port leaves open) is the memory gate's, described in ``persistence.memory.quota``.

Expiries are relative to the caller's ``now`` (PX, not PEXPIREAT) so a test may move time
without Redis deleting the state under it; they only let Redis forget state, a decision
never depends on them. They carry some slack for clock differences between processes: a
key dying early would give a process whose clock lags a fresh allowance.

One script touches several keys of several subjects (``key:<id>``, ``user:<id>``), so every
key carries its owner (the request's user, ``Limit.owner``) as a hash tag, ``{u:<owner>}``:
a request's keys are one user's and share one Redis Cluster slot, and one script call stays
on one primary. ``RedisClusterQuotaGate`` runs the same scripts on ``redis.asyncio.
RedisCluster`` (MOVED/ASK followed by redis-py; NOSCRIPT answered per primary by EVAL) and
refuses a request whose limits have mixed owners (``ValueError``: no caller builds one).

harden: a lost state (a Redis restarted without persistence) is found by a marker the gate
restores with the counters (``restore``): ``N:whole:2`` on a single Redis, which every
script call checks. On a cluster there is one marker per slot (``N:whole:2:{<tag>}``, the
tag precomputed so the name hashes to its slot): a script checks its own slot's, passed as
its last KEY, and ``restore`` checks all 16,384 (pipelined, about a second) only when the
gate starts and after a refusal that found one missing, then restores only the users whose
slots were lost (a primary emptied loses its slots, the other primaries' users keep their
state).

Late replies (issue 18): a reservation whose reply does not come within the client's
timeout fails as ``QuotaStoreUnavailable``, yet Redis may still run it (the command was
written; Redis was slow, or its reply was). Under the default policy (``deny``: the request
is refused with 503) such a charge would count a request nobody was served. On the lean
pipelined client, a gate made with ``refund_late_charges`` keeps reading the timed-out
connection (for up to ``LATE_REPLY_WINDOW``) and refunds a charge whose late reply says it
was admitted, with ``refund`` as a failed call's units are (counters; a rate's allowance is
not given back). Under ``allow`` the request was served without limits, so the late charge
is right and kept. What still escapes: a reply that never comes (the connection dies, or
Redis answers after the window), and redis-py's clients (the cluster gate).

The client should be built with ``socket_timeout`` and ``socket_connect_timeout`` (well under
a second) and few retries: the gate adds no timeout or retry of its own (``asyncio.timeout``
would cost about 5 µs a decision), so the client's settings decide how long an unreachable
Redis stalls a request before ``QuotaStoreUnavailable``. redis-py's defaults (5 s timeouts,
10 retries with back-off) stall a request for seconds. A pool without a free connection
raises too (``MaxConnectionsError`` is a ``ConnectionError``): a ``BlockingConnectionPool``
makes a burst wait for a connection instead.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import struct
from binascii import crc_hqx
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.client import NEVER_DECODE
from redis.exceptions import ClusterDownError, NoScriptError, RedisClusterException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.quota.gate import (
    CounterLimit,
    Decision,
    Limit,
    LimitState,
    QuotaStoreUnavailable,
    Reservation,
)
from persistence.memory.quota import (
    build_decision,
    build_states,
    encode_limits,
    micros,
    state_name,
)

log = logging.getLogger(__name__)

# KEYS[i]: the state of limit i (see the module docstring); with ARGV[2], the restore
#   marker after them.
# ARGV[1]: the request, packed as little-endian doubles (every value is a whole number below
#   2^53, exact in a double): charging (1 to decide and charge, 0 to only read), now (µs),
#   then per limit i: shape (0 rate, 1 counter), limit, cost, and for a rate its emission
#   interval (µs per unit), for a counter its resets_at (µs).
# Returns the outcome packed the same way: denied (the 1-based index of the first limit
#   without room, 0 when allowed or peeking), retry_after (µs), then per limit remaining
#   and reset_after (µs).
# Packed both ways because redis-py spends far longer encoding 20-odd arguments and parsing
# an array reply than Redis spends running this script.
_GATE = """
local RATE_SLACK_MS = 1000      -- see 'Expiries' in the module docstring
local COUNTER_SLACK_MS = 60000
local max, floor, ceil, format = math.max, math.floor, math.ceil, string.format

local n = #KEYS
-- harden: a state Redis lost (restart without persistence) is refused until restored. With
-- ARGV[2] the last KEY is the marker (on a cluster, the one of the other keys' slot).
if ARGV[2] then
  if redis.call('EXISTS', KEYS[n]) == 0 then return 'NOTREADY' end
  n = n - 1
end
local spec = {struct.unpack('<' .. string.rep('d', #ARGV[1] / 8), ARGV[1])}
local charging, now = spec[1] == 1, spec[2]
local stored = redis.call('MGET', unpack(KEYS, 1, n))  -- false where a key is missing
local pending = {}  -- key -> its value after this request's charges so far
local expiry = {}   -- key -> PX for its write, or false to keep the expiry it has
local fits = {}
local denied, retry = 0, 0

-- Decide: check every limit (a key listed twice sees its earlier charge), write nothing yet.
if charging then
  for i = 1, n do
    local key, a = KEYS[i], 4 * i - 1
    local limit, cost, p = spec[a + 1], spec[a + 2], spec[a + 3]
    local before = tonumber(stored[i])
    local after, room
    if spec[a] == 0 then
      -- GCRA: the TAT this request pushes to must stay within limit * interval of now.
      after = (pending[key] or max(before or now, now)) + cost * p
      room = after - now <= limit * p
      if not room and denied == 0 then retry = after - limit * p - now end
      expiry[key] = ceil((after - now) / 1000) + RATE_SLACK_MS
    else
      after = (pending[key] or before or 0) + cost
      room = after <= limit
      if not room and denied == 0 then retry = p - now end
      -- A bucket's end does not move: its expiry is set once, when the key is made.
      expiry[key] = not before and ceil((p - now) / 1000) + COUNTER_SLACK_MS
    end
    fits[i] = room
    if room then
      pending[key] = after
    elseif denied == 0 then
      denied = i
    end
  end
  -- Charge: all or nothing.
  if denied == 0 then
    for key, value in pairs(pending) do
      -- '%d': as a plain number Lua could write 1.7672256e+15 and lose digits.
      if expiry[key] then
        redis.call('SET', key, format('%d', value), 'PX', expiry[key])
      else
        redis.call('SET', key, format('%d', value), 'KEEPTTL')
      end
    end
  end
end

-- Report each limit's state after the decision (uncharged when refused).
local out = {denied, retry}
for i = 1, n do
  local key, a = KEYS[i], 4 * i - 1
  local limit, p = spec[a + 1], spec[a + 3]
  local value = (charging and denied == 0 and pending[key]) or tonumber(stored[i])
  local remaining, reset
  if spec[a] == 0 then
    reset = max((value or now) - now, 0)
    remaining = floor((limit * p - reset) / p)
  elseif now < p then
    remaining, reset = limit - (value or 0), p - now
  else
    remaining, reset = limit, 0  -- an ended bucket is empty
  end
  out[2 * i + 1] = max(remaining, 0)
  out[2 * i + 2] = reset
end
return struct.pack('<' .. string.rep('d', #out), unpack(out))
"""

# KEYS: counter keys; ARGV[i]: the units to give back to KEYS[i]. A key that has expired
# stays gone, and no count goes below zero; the expiry is kept (DECRBY does not touch it).
_REFUND = """
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key))
  if used then
    local back = math.min(tonumber(ARGV[i]), used)
    if back > 0 then redis.call('DECRBY', key, back) end
  end
end
return 0
"""

# harden: KEYS: counter keys, then the "whole" marker (on a cluster, all of one slot);
# ARGV[i]: the units of KEYS[i], ARGV[n + i]: its PX. Writes them and the marker, unless the
# marker is back (another process restored first: its counters may already be charged).
_RESTORE = """
local n = #KEYS - 1
if redis.call('EXISTS', KEYS[n + 1]) == 1 then return 0 end
for i = 1, n do
  redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[n + i])
end
redis.call('SET', KEYS[n + 1], '1')
return 1
"""

if TYPE_CHECKING:
    from persistence.redis.pipelined import PipelinedRedis

_RAW = {NEVER_DECODE: True}
"""The replies are packed bytes: never decoded, even by a client made with
``decode_responses=True``."""

_LATE_REFUNDS: set[asyncio.Task[None]] = set()
"""Refunds of late charges in flight (the loop keeps only weak references to tasks)."""

_STORE_DOWN = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    ClusterDownError,
    RedisClusterException,
)
"""What an unreachable, failing-over or stalled Redis raises (OSError covers the built-in
TimeoutError and refused connections that slip past redis-py's own wrapping; a cluster
that lost a slot's primary, or every node, raises ``ClusterDownError`` or a
``RedisClusterException``)."""


class _Script:
    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


_GATE_SCRIPT = _Script(_GATE)
_REFUND_SCRIPT = _Script(_REFUND)
_RESTORE_SCRIPT = _Script(_RESTORE)
_NOT_READY = b"NOTREADY"
_GUARDED = b"1"
COUNTER_SLACK_MS = 60000
MARKER_VERSION = 2
"""In the restore marker's name (``N:whole:2``): bumped when the state's names change, so a
deployment starts the new names from the roll-ups instead of trusting an old marker."""
SLOTS = 16384


GateClient: TypeAlias = "Redis | PipelinedRedis | RedisCluster"
"""redis-py's client, the lean pipelined one (perf, issue 18) a single-Redis deployment's
gate uses, or redis-py's cluster client (``RedisClusterQuotaGate``)."""


class RedisQuotaGate:
    def __init__(
        self, redis: GateClient, *, namespace: str = "karpov:quota", restorable: bool = False,
        refund_late_charges: bool = False,
    ) -> None:  # fmt: skip
        """``restorable``: refuse while the state is lost, until ``restore`` ran (a
        deployment's gate; a bare gate in a test may skip it). ``refund_late_charges``:
        a reservation that timed out (the caller was told the store is unavailable, and
        refuses the request) but that Redis ran anyway is given back when its late reply
        comes (see "Late replies" in the module docstring)."""
        self._redis = redis
        self._late = refund_late_charges and getattr(redis, "accepts_late_replies", False)
        self._prefix = f"{namespace}:"
        self._whole = f"{namespace}:whole:{MARKER_VERSION}"
        self._restorable = restorable
        self._guard: tuple[bytes, ...] = (_GUARDED,) if restorable else ()
        self._marker: list[str] = [self._whole] if restorable else []

    @property
    def refunds_late_charges(self) -> bool:
        return self._late

    def _markers(self, limits: Sequence[Limit]) -> list[str]:
        """The restore marker a script over ``limits`` checks (none when not restorable)."""
        return self._marker

    def _not_ready(self) -> QuotaStoreUnavailable:
        return QuotaStoreUnavailable("the quota state is being restored")

    def _counters(
        self, counters: Sequence[CounterLimit], now_us: int
    ) -> tuple[list[str], list[int]]:
        """The keys and arguments of ``_RESTORE`` for the counters still running."""
        keys: list[str] = []
        values: list[int] = []
        expiries: list[int] = []
        for limit in counters:
            if limit.cost > 0 and now_us < micros(limit.resets_at):
                keys.append(state_name(limit, self._prefix))
                values.append(limit.cost)
                expiries.append((micros(limit.resets_at) - now_us) // 1000 + COUNTER_SLACK_MS)
        return keys, values + expiries

    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        try:
            if not self._restorable or await self._redis.exists(self._whole):
                return False
        except _STORE_DOWN as exc:
            raise QuotaStoreUnavailable(f"quota store unreachable: {exc!r}") from exc
        keys, args = self._counters(await load(), micros(now))
        restored = await self._run(_RESTORE_SCRIPT, [*keys, self._whole], *args)
        return bool(restored)

    async def reserve(self, limits: Sequence[Limit], now: float) -> Decision:
        if not limits:
            return Decision(True, ())
        now_us = micros(now)
        keys, spec = encode_limits(limits, now_us, charging=True, prefix=self._prefix)
        request = struct.pack(f"<{len(spec) + 2}d", 1, now_us, *spec)
        on_late = self._late_refund(limits, now) if self._late else None
        reply = await self._run(
            _GATE_SCRIPT, keys + self._markers(limits), request, *self._guard, on_late=on_late
        )
        if reply == _NOT_READY:
            raise self._not_ready()
        return build_decision(limits, now, struct.unpack(f"<{len(reply) // 8}d", reply))

    def _late_refund(self, limits: Sequence[Limit], now: float) -> Callable[[Any], None]:
        """What a timed-out reservation's late reply does: if Redis charged it, refund it
        (in the background: the reply arrives inside the client's reader)."""

        def late(reply: Any) -> None:
            if not isinstance(reply, bytes) or reply == _NOT_READY or len(reply) < 8:
                return  # an error, or refused while restoring: nothing was charged
            if struct.unpack_from("<d", reply)[0] != 0:
                return  # refused: nothing was charged
            task = asyncio.ensure_future(self._give_back(Reservation(tuple(limits), now)))
            _LATE_REFUNDS.add(task)
            task.add_done_callback(_LATE_REFUNDS.discard)

        return late

    async def _give_back(self, reservation: Reservation) -> None:
        try:
            await self.refund(reservation, reservation.at)
        except QuotaStoreUnavailable as exc:
            log.error("quota gate: a charge answered after the timeout could not be given "
                      "back (%r)", exc)  # fmt: skip
            return
        log.warning("quota gate: a charge Redis answered after the timeout was given back")

    async def refund(self, reservation: Reservation, now: float) -> None:
        now_us = micros(now)
        keys: list[str] = []
        costs: list[int] = []
        for limit in reservation.limits:
            # Rates are not refunded; a bucket that has ended is left alone.
            if isinstance(limit, CounterLimit) and now_us < micros(limit.resets_at):
                keys.append(state_name(limit, self._prefix))
                costs.append(limit.cost)
        if keys:
            self._markers(reservation.limits)  # one owner: one slot
            await self._run(_REFUND_SCRIPT, keys, *costs)

    async def peek(self, limits: Sequence[Limit], now: float) -> tuple[LimitState, ...]:
        if not limits:
            return ()
        now_us = micros(now)
        keys, spec = encode_limits(limits, now_us, charging=False, prefix=self._prefix)
        request = struct.pack(f"<{len(spec) + 2}d", 0, now_us, *spec)
        reply = await self._run(_GATE_SCRIPT, keys + self._markers(limits), request, *self._guard)
        if reply == _NOT_READY:
            raise self._not_ready()
        return build_states(limits, struct.unpack(f"<{len(reply) // 8}d", reply))

    async def _run(
        self, script: _Script, keys: list[str], *args: bytes | int | str,
        on_late: Callable[[Any], None] | None = None,
    ) -> Any:  # fmt: skip
        options: dict[str, Any] = _RAW if on_late is None else {**_RAW, "on_late": on_late}
        try:
            try:
                return await self._redis.execute_command(  # type: ignore[no-untyped-call,unused-ignore]
                    "EVALSHA", script.sha, len(keys), *keys, *args, **options
                )
            except NoScriptError:
                # The server lost its script cache (restart, failover, SCRIPT FLUSH): EVAL
                # runs the script and caches it again, still one decision per call. (On a
                # cluster, on the primary that answered NOSCRIPT: the keys' slot's.)
                return await self._redis.execute_command(  # type: ignore[no-untyped-call,unused-ignore]
                    "EVAL", script.source, len(keys), *keys, *args, **options
                )
        except _STORE_DOWN as exc:
            raise QuotaStoreUnavailable(f"quota store unreachable: {exc!r}") from exc


def owner_slot(owner: str) -> int:
    """The cluster slot of every gate key of ``owner`` (its hash tag ``u:<owner>``)."""
    return crc_hqx(f"u:{owner}".encode(), 0) % SLOTS


@functools.cache
def slot_tags() -> tuple[str, ...]:
    """For each slot, a short hash tag that hashes to it (the first found counting up in
    hex): the per-slot restore markers' names. Found once per process (~0.1 s)."""
    tags: list[str | None] = [None] * SLOTS
    left = SLOTS
    i = 0
    while left:
        tag = format(i, "x")
        slot = crc_hqx(tag.encode(), 0) % SLOTS
        if tags[slot] is None:
            tags[slot] = tag
            left -= 1
        i += 1
    return tuple(tag for tag in tags if tag is not None)


class RedisClusterQuotaGate(RedisQuotaGate):
    """The gate on Redis Cluster (see the module docstring): one restore marker per slot,
    every request's keys in its owner's slot."""

    def __init__(
        self, redis: RedisCluster, *, namespace: str = "karpov:quota", restorable: bool = False
    ) -> None:
        super().__init__(redis, namespace=namespace, restorable=restorable)
        self._cluster = redis
        self._slot_markers = tuple(f"{self._whole}:{{{tag}}}" for tag in slot_tags())
        self._check_all = restorable
        """Whether the next ``restore`` checks every slot's marker: at start, and after a
        refusal found its slot's missing."""
        self._owner_markers: dict[str, list[str]] = {}

    def _markers(self, limits: Sequence[Limit]) -> list[str]:
        owner = limits[0].owner
        for limit in limits:
            if limit.owner != owner:
                raise ValueError(
                    f"limits of different owners ({owner!r}, {limit.owner!r}) in one request: "
                    "on Redis Cluster one request's state must be one user's"
                )
        if not self._restorable:
            return []
        markers = self._owner_markers.get(owner)
        if markers is None:
            if len(self._owner_markers) >= 65536:
                self._owner_markers.clear()
            markers = self._owner_markers[owner] = [self._slot_markers[owner_slot(owner)]]
        return markers

    def _not_ready(self) -> QuotaStoreUnavailable:
        self._check_all = True  # a primary lost its slots: find which at the next restore
        return super()._not_ready()

    async def lost_slots(self) -> list[int]:
        """The slots whose marker is missing (all 16,384 checked, pipelined)."""
        try:
            pipe = self._cluster.pipeline()
            for marker in self._slot_markers:
                pipe.exists(marker)
            found = await pipe.execute()
        except _STORE_DOWN as exc:
            raise QuotaStoreUnavailable(f"quota store unreachable: {exc!r}") from exc
        return [slot for slot, there in enumerate(found) if not there]

    async def restore(
        self, load: Callable[[], Awaitable[Sequence[CounterLimit]]], now: float
    ) -> bool:
        if not self._check_all:
            return False
        # Cleared first: a refusal while this restore runs asks for another check.
        self._check_all = False
        try:
            lost = await self.lost_slots()
            if not lost:
                return False
            counters = await load()
            by_slot: dict[int, list[CounterLimit]] = {slot: [] for slot in lost}
            for limit in counters:
                mine = by_slot.get(owner_slot(limit.owner))
                if mine is not None:
                    mine.append(limit)
            now_us = micros(now)
            pipe = self._cluster.pipeline()
            for slot, limits in by_slot.items():
                keys, args = self._counters(limits, now_us)
                keys.append(self._slot_markers[slot])
                pipe.execute_command("EVAL", _RESTORE, len(keys), *keys, *args)
            try:
                restored = await pipe.execute()
            except _STORE_DOWN as exc:
                raise QuotaStoreUnavailable(f"quota store unreachable: {exc!r}") from exc
        except BaseException:
            self._check_all = True
            raise
        log.info("quota gate: %d slot(s) restored from the roll-ups", sum(map(int, restored)))
        return any(int(done) for done in restored)


def quota_gate(
    client: GateClient, *, namespace: str = "karpov:quota", restorable: bool = False,
    refund_late_charges: bool = False,
) -> RedisQuotaGate:  # fmt: skip
    """The gate for ``client``: on a ``RedisCluster``, the cluster gate."""
    if isinstance(client, RedisCluster):
        return RedisClusterQuotaGate(client, namespace=namespace, restorable=restorable)
    return RedisQuotaGate(
        client, namespace=namespace, restorable=restorable,
        refund_late_charges=refund_late_charges,
    )  # fmt: skip
