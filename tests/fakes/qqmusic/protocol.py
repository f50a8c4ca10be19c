"""The fake's own copies of QQ's small protocol functions (not the client's code, so a bug
in the client cannot hide by agreeing with itself)."""

from __future__ import annotations

import base64
import hashlib


def hash33(text: str, seed: int = 0) -> int:
    value = seed
    for char in text:
        value = (value * 33 + ord(char)) % (1 << 64)
    return value & 0x7FFFFFFF


def zzc_sign(body: bytes) -> str:
    digest = hashlib.sha1(body).hexdigest().upper()
    picked_front = [digest[i] for i in (23, 14, 6, 36, 16, 40, 7, 19) if i < len(digest)]
    picked_back = [digest[i] for i in (16, 1, 32, 12, 19, 27, 8, 5)]
    scramble = [89, 39, 179, 150, 218, 82, 58, 252, 177, 52,
                186, 123, 120, 64, 242, 133, 143, 161, 121, 179]  # fmt: skip
    xored = bytearray(int(digest[2 * i : 2 * i + 2], 16) ^ s for i, s in enumerate(scramble))
    middle = "".join(c for c in base64.b64encode(bytes(xored)).decode() if c not in "\\/+=")
    return ("zzc" + "".join(picked_front) + middle + "".join(picked_back)).lower()
