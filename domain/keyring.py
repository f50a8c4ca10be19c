"""Secrets at rest: AES-256-GCM under a versioned key ring (envelope encryption).

Each key version is a random 256-bit data key, stored wrapped (AES-256-GCM) under a key
encryption key derived from ``KARPOV_MASTER_KEY`` with HKDF. A ciphertext names the
version that sealed it, so old versions keep decrypting while ``karpov keys rotate`` adds
a version and re-encrypts every stored secret under it. Associated data binds a
ciphertext to its owner (e.g. ``totp:<user id>``): a blob copied to another row fails.

Blob layout: ``b"K1"`` | version (4 bytes, big-endian) | nonce (12) | ciphertext+tag.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_MAGIC = b"K1"
_HEADER = struct.Struct(">2sI")
_NONCE = 12


class DecryptionFailed(Exception):
    """A blob is corrupt, was moved to another owner, or needs a key we do not have.
    Not a domain error: it is never the caller's fault, so the edges answer 500."""


def derive_key(master_key: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from the master key (HKDF-SHA256)."""
    if len(master_key) != 32:
        raise ValueError("the master key must be 32 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        master_key
    )


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], aad)
    except InvalidTag:
        raise DecryptionFailed("a stored secret could not be decrypted") from None


@dataclass(frozen=True, slots=True)
class WrappedKey:
    version: int
    wrapped: bytes


class KeyEncryptionKey:
    """Wraps and unwraps data keys; derived from the master key, never stored."""

    PURPOSE = "karpov:keyring:kek:v1"

    def __init__(self, master_key: bytes) -> None:
        self._key = derive_key(master_key, self.PURPOSE)

    def wrap(self, version: int, data_key: bytes) -> WrappedKey:
        return WrappedKey(version, _seal(self._key, data_key, f"dek:{version}".encode()))

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        return _open(self._key, wrapped.wrapped, f"dek:{wrapped.version}".encode())


class KeyRing:
    """Encrypts under the newest version; decrypts under whichever version sealed a blob."""

    def __init__(self, keys: dict[int, bytes]) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key version")
        self._keys = dict(keys)
        self.current_version = max(keys)

    @property
    def versions(self) -> list[int]:
        return sorted(self._keys)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        version = self.current_version
        header = _HEADER.pack(_MAGIC, version)
        return header + _seal(self._keys[version], plaintext, header + aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        version = self.version_of(blob)
        key = self._keys.get(version)
        if key is None:
            raise DecryptionFailed(f"key version {version} is not in the key ring")
        return _open(key, blob[_HEADER.size :], blob[: _HEADER.size] + aad)

    @staticmethod
    def version_of(blob: bytes) -> int:
        if len(blob) < _HEADER.size + _NONCE + 16:
            raise DecryptionFailed("not a key-ring blob")
        magic, version = _HEADER.unpack(blob[: _HEADER.size])
        if magic != _MAGIC:
            raise DecryptionFailed("not a key-ring blob")
        return int(version)

    def needs_rewrap(self, blob: bytes) -> bool:
        return self.version_of(blob) != self.current_version

    def rewrap(self, blob: bytes, aad: bytes) -> bytes:
        return self.encrypt(self.decrypt(blob, aad), aad)
