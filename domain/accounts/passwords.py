"""Password rules and hashing.

The strength score is the original gateway's 0–4 score (reference §3.3), kept so that
legacy clients see the same accept/reject decisions. Hashing is argon2id with the
original's parameters (t=2, m=64 MiB, p=1), so hashes migrated from it verify unchanged;
it runs in a worker thread because one hash takes tens of milliseconds of CPU.

perf (issue 18): those threads are a small pool of their own (``ARGON2_WORKERS``), at a
lower CPU priority than the event loop (``ARGON2_NICE``, Linux): under load the loop keeps
answering the cheap calls and the hashes take the CPU it leaves (logins queue for the pool
instead of a burst of them taking every core from the metered path).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MAX_PASSWORD_LENGTH = 128
"""Characters (code points). Bounds the work one request can demand of argon2."""

_WEAK_PASSWORDS = frozenset(
    {
        "password", "123456", "123456789", "qwerty", "abc123", "111111", "123123", "admin",
        "letmein", "welcome", "monkey", "hunter2", "hunter22", "iloveyou", "passw0rd",
        "password1", "qwertyuiop", "trustno1",
    }
)  # fmt: skip


def _is_monotonic_sequence(raw: bytes) -> bool:
    if len(raw) < 4:
        return False
    steps = {b - a for a, b in itertools.pairwise(raw)}
    return steps == {1} or steps == {-1}


def _character_classes(password: str) -> int:
    lower = upper = digit = symbol = False
    for ch in password:
        # Go's unicode.IsLower/IsUpper/IsDigit/IsPunct/IsSymbol/IsSpace, as the original.
        category = unicodedata.category(ch)
        if category == "Ll":
            lower = True
        elif category == "Lu":
            upper = True
        elif category == "Nd":
            digit = True
        elif category[0] in "PSZ" or ch in "\t\n\v\f\r\x85":
            symbol = True
    return sum((lower, upper, digit, symbol))


def strength_score(password: str) -> int:
    """The original's 0–4 score: 0 very weak … 4 strong. Lengths count UTF-8 bytes."""
    if not password or password.lower() in _WEAK_PASSWORDS:
        return 0
    raw = password.encode()
    if len(raw) < 6:
        return 0
    if len(raw) < 8:
        return 1
    classes = _character_classes(password)
    if _is_monotonic_sequence(password.lower().encode()):
        return 0 if classes <= 1 else 1
    length = len(raw)
    if classes <= 1:
        return 1
    if classes == 2:
        return 2 if length >= 12 else 1
    if classes == 3:
        return 3 if length >= 12 else 2 if length >= 10 else 1
    return 4 if length >= 12 else 3 if length >= 10 else 2


ARGON2_NICE = 10
"""How much lower than the event loop the hashing threads run (``nice`` steps)."""


def argon2_workers() -> int:
    """One hashing thread per CPU this process may use beyond the event loop's, at least
    one, at most four."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, (cpus or 1) - 1))


def _lower_priority() -> None:
    # Linux: a thread's own nice value (its id is a "process" to setpriority).
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICE)


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """One pool per size in the process, shared by every hasher, made on first use."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="argon2", initializer=_lower_priority
            )
        return pool


class Argon2PasswordHasher:
    """argon2id, verified off the event loop, in a bounded pool of low-priority threads."""

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_cost_kib: int = 65536,
        parallelism: int = 1,
        workers: int = 0,
    ) -> None:
        """``workers``: the pool's threads (0: ``argon2_workers()``)."""
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._decoy: str | None = None
        self._workers = workers

    def _executor(self) -> ThreadPoolExecutor:
        return _pool(self._workers or argon2_workers())

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor(), self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor(), self._verify_sync, password_hash, password
        )

    async def burn(self) -> None:
        if self._decoy is None:
            self._decoy = await self.hash("karpov-timing-decoy")
        await self.verify(self._decoy, "not-the-decoy")

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
