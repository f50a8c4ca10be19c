"""The optional ``sign=`` request signature of ``musicu.fcg`` (QQ's "zzc" sign).

The signature is derived from the upper-case hex SHA-1 of the exact body bytes sent: seven
characters picked from the digest, the digest's bytes XORed with a fixed scramble and
base64-encoded (without ``/``, ``+``, ``=`` and ``\\``), and eight more picked characters,
all lower-cased behind the prefix ``zzc``.
"""

from __future__ import annotations

import base64
import hashlib

# The web client also lists index 40, which is past the 40-character digest and therefore
# contributes nothing; it is left out here.
_HEAD_INDEXES = (23, 14, 6, 36, 16, 7, 19)
_TAIL_INDEXES = (16, 1, 32, 12, 19, 27, 8, 5)
_SCRAMBLE = (
    89, 39, 179, 150, 218, 82, 58, 252, 177, 52, 186, 123, 120, 64, 242, 133, 143, 161, 121, 179,
)  # fmt: skip
_DROPPED = str.maketrans("", "", "/+=\\")


def sign_digest(digest: str) -> str:
    """The signature for an upper-case hex SHA-1 digest (40 characters)."""
    if len(digest) != 40:
        raise ValueError("a SHA-1 digest is 40 hex characters")
    head = "".join(digest[i] for i in _HEAD_INDEXES)
    tail = "".join(digest[i] for i in _TAIL_INDEXES)
    mixed = bytes(s ^ b for s, b in zip(_SCRAMBLE, bytes.fromhex(digest), strict=True))
    middle = base64.b64encode(mixed).decode("ascii").translate(_DROPPED)
    return f"zzc{head}{middle}{tail}".lower()


def sign_body(body: bytes) -> str:
    # SHA-1 is what the protocol specifies; this is a request tag, not a security measure.
    return sign_digest(hashlib.sha1(body).hexdigest().upper())  # noqa: S324
