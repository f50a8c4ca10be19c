"""Password rules and hashing.

The strength score is the original gateway's 0–4 score (reference §3.3), kept so that
legacy clients see the same accept/reject decisions. Hashing is argon2id with the
original's parameters (t=2, m=64 MiB, p=1), so hashes migrated from it verify unchanged;
it runs in a worker thread because one hash takes tens of milliseconds of CPU.
"""

from __future__ import annotations

import asyncio
import itertools
import unicodedata

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


class Argon2PasswordHasher:
    """argon2id, verified off the event loop."""

    def __init__(
        self, *, time_cost: int = 2, memory_cost_kib: int = 65536, parallelism: int = 1
    ) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._decoy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify_sync, password_hash, password)

    async def burn(self) -> None:
        if self._decoy is None:
            self._decoy = await self.hash("karpov-timing-decoy")
        await self.verify(self._decoy, "not-the-decoy")

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
