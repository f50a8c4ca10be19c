"""Loading, initialising and rotating the key ring, and re-encrypting stored secrets."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.keyring import KeyEncryptionKey, KeyRing, WrappedKey

log = logging.getLogger("karpov.keyring")


class KeyVersionStore(Protocol):
    async def list_versions(self) -> list[WrappedKey]: ...

    async def add_version(self, key: WrappedKey) -> bool:
        """Store a new version; ``False`` when that version number already exists (another
        process won the race)."""


@dataclass(frozen=True, slots=True)
class StoredSecret:
    """One encrypted value somewhere in the database, addressed for a compare-and-set."""

    kind: str
    owner: str
    blob: bytes
    aad: bytes


class SecretHolder(Protocol):
    """A store that keeps key-ring blobs (TOTP secrets, OAuth tokens, pool payloads…)."""

    async def list_encrypted(self) -> list[StoredSecret]: ...

    async def replace_encrypted(self, secret: StoredSecret, new_blob: bytes) -> bool:
        """Swap the blob only if it is still ``secret.blob``; ``False`` if it changed."""


class KeyRingProvider:
    """The process's view of the key ring, loaded from the store and refreshed when a blob
    names a version this process has not seen (another process rotated)."""

    def __init__(
        self, store: KeyVersionStore, kek: KeyEncryptionKey, *, refresh_after: float = 60.0
    ) -> None:
        self._store = store
        self._kek = kek
        self._ring: KeyRing | None = None
        self._loaded_at = 0.0
        self._refresh_after = refresh_after
        self._lock = asyncio.Lock()

    async def ring(self) -> KeyRing:
        # Re-read now and then, so a version added by `karpov keys rotate` in another
        # process is used for new encryptions here within a minute.
        if self._ring is None or time.monotonic() - self._loaded_at > self._refresh_after:
            await self.reload()
        assert self._ring is not None
        return self._ring

    async def ring_for(self, blob: bytes) -> KeyRing:
        """A ring able to open ``blob``, reloading once if its version is new to us."""
        ring = await self.ring()
        if KeyRing.version_of(blob) not in ring.versions:
            await self.reload()
            ring = await self.ring()
        return ring

    async def reload(self) -> None:
        async with self._lock:
            versions = await self._store.list_versions()
            if not versions:
                await self._store.add_version(self._new_version(1))
                versions = await self._store.list_versions()
            self._ring = KeyRing({w.version: self._kek.unwrap(w) for w in versions})
            self._loaded_at = time.monotonic()

    async def add_version(self) -> int:
        """Create the next key version (used for new encryptions from now on).

        Every existing version is unwrapped first: with a wrong master key this raises
        ``DecryptionFailed`` before anything is written, instead of storing a version no
        other process could open."""
        while True:
            versions = await self._store.list_versions()
            for existing in versions:
                self._kek.unwrap(existing)
            number = max((w.version for w in versions), default=0) + 1
            if await self._store.add_version(self._new_version(number)):
                await self.reload()
                return number

    def _new_version(self, number: int) -> WrappedKey:
        return self._kek.wrap(number, secrets.token_bytes(32))

    async def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        return (await self.ring()).encrypt(plaintext, aad)

    async def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        return (await self.ring_for(blob)).decrypt(blob, aad)


@dataclass(frozen=True, slots=True)
class RotationReport:
    version: int
    reencrypted: int
    remaining: int


class KeyRotation:
    """``karpov keys rotate``: add a key version, then re-encrypt every stored secret under
    it. Old versions stay in the ring, so readers never fail mid-rotation."""

    def __init__(self, provider: KeyRingProvider, holders: Sequence[SecretHolder]) -> None:
        self._provider = provider
        self._holders = list(holders)

    async def rotate(self, *, passes: int = 3) -> RotationReport:
        version = await self._provider.add_version()
        done = 0
        remaining = 0
        for _ in range(passes):
            done_now, remaining = await self._reencrypt_stale()
            done += done_now
            if remaining == 0:
                break
        log.info("key ring rotated", extra={"version": version, "reencrypted": done})
        return RotationReport(version=version, reencrypted=done, remaining=remaining)

    async def _reencrypt_stale(self) -> tuple[int, int]:
        ring = await self._provider.ring()
        done = skipped = 0
        for holder in self._holders:
            for secret in await holder.list_encrypted():
                if not ring.needs_rewrap(secret.blob):
                    continue
                new_blob = ring.rewrap(secret.blob, secret.aad)
                if await holder.replace_encrypted(secret, new_blob):
                    done += 1
                else:
                    skipped += 1  # changed meanwhile; the next pass looks again
        return done, skipped
