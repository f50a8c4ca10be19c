"""AES-256-GCM under a versioned key ring: versions, associated data, tampering."""

from __future__ import annotations

import secrets

import pytest

from domain.keyring import DecryptionFailed, KeyEncryptionKey, KeyRing, derive_key

MASTER = bytes(range(32))


def test_round_trip_and_version_tagging() -> None:
    ring = KeyRing({1: secrets.token_bytes(32)})
    blob = ring.encrypt(b"JBSWY3DPEHPK3PXP", b"totp:u1")
    assert b"JBSWY3DPEHPK3PXP" not in blob
    assert KeyRing.version_of(blob) == 1
    assert ring.decrypt(blob, b"totp:u1") == b"JBSWY3DPEHPK3PXP"


def test_associated_data_binds_a_blob_to_its_owner() -> None:
    ring = KeyRing({1: secrets.token_bytes(32)})
    blob = ring.encrypt(b"secret", b"totp:u1")
    with pytest.raises(DecryptionFailed):
        ring.decrypt(blob, b"totp:u2")


def test_tampering_is_detected() -> None:
    ring = KeyRing({1: secrets.token_bytes(32)})
    blob = bytearray(ring.encrypt(b"secret", b"aad"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        ring.decrypt(bytes(blob), b"aad")
    with pytest.raises(DecryptionFailed):
        ring.decrypt(b"plaintext-secret", b"aad")


def test_new_versions_encrypt_and_old_ones_still_decrypt() -> None:
    v1, v2 = secrets.token_bytes(32), secrets.token_bytes(32)
    old = KeyRing({1: v1}).encrypt(b"secret", b"aad")
    ring = KeyRing({1: v1, 2: v2})
    assert ring.current_version == 2
    assert ring.decrypt(old, b"aad") == b"secret"
    assert ring.needs_rewrap(old)
    new = ring.rewrap(old, b"aad")
    assert KeyRing.version_of(new) == 2 and not ring.needs_rewrap(new)
    assert ring.decrypt(new, b"aad") == b"secret"


def test_a_missing_version_fails_cleanly() -> None:
    blob = KeyRing({7: secrets.token_bytes(32)}).encrypt(b"secret", b"aad")
    with pytest.raises(DecryptionFailed):
        KeyRing({1: secrets.token_bytes(32)}).decrypt(blob, b"aad")


def test_data_keys_are_wrapped_under_the_master_key() -> None:
    kek = KeyEncryptionKey(MASTER)
    data_key = secrets.token_bytes(32)
    wrapped = kek.wrap(3, data_key)
    assert data_key not in wrapped.wrapped
    assert kek.unwrap(wrapped) == data_key
    with pytest.raises(DecryptionFailed):
        KeyEncryptionKey(bytes(32)).unwrap(wrapped)


def test_derived_keys_differ_by_purpose() -> None:
    assert derive_key(MASTER, "a") != derive_key(MASTER, "b")
    assert len(derive_key(MASTER, "a")) == 32
    with pytest.raises(ValueError):
        derive_key(b"short", "a")
