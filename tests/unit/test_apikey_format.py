"""The API key's format (prefix, base62 body, CRC32 checksum) and its keyed hash."""

from __future__ import annotations

import hashlib
import hmac
import zlib

import pytest

from domain.apikeys.format import (
    BASE62,
    KEY_LENGTH,
    KEY_PREFIX,
    KeyHasher,
    api_key_hmac_secret,
    display_prefix,
    generate_key,
    last4,
    looks_like_key,
    parse_key,
)
from domain.keyring import derive_key

MASTER = bytes(range(32))


def from_base62(text: str) -> int:
    value = 0
    for char in text:
        value = value * 62 + BASE62.index(char)
    return value


def fixed(value: int) -> bytes:
    return value.to_bytes(24, "big")


def test_a_key_is_prefix_fixed_length_base62_body_and_checksum() -> None:
    key = generate_key()

    assert key.startswith("mk_")
    assert len(key) == KEY_LENGTH == 3 + 33 + 6
    assert set(key[3:]) <= set(BASE62)
    body, checksum = key[3:-6], key[-6:]
    assert from_base62(checksum) == zlib.crc32(body.encode())
    assert parse_key(key) == key


def test_the_body_carries_the_192_random_bits() -> None:
    raw = bytes(range(1, 25))
    key = generate_key(lambda n: raw[:n])

    assert from_base62(key[3:-6]) == int.from_bytes(raw, "big")


@pytest.mark.parametrize("value", [0, 1, 61, 62, 2**192 - 1])
def test_small_and_extreme_values_are_left_padded_to_the_same_length(value: int) -> None:
    key = generate_key(lambda n: fixed(value))

    assert len(key) == KEY_LENGTH
    assert from_base62(key[3:-6]) == value
    assert parse_key(key) == key


def test_a_zero_body_is_all_zero_digits() -> None:
    key = generate_key(lambda n: fixed(0))
    assert key[3:-6] == "0" * 33


def test_keys_are_distinct() -> None:
    keys = {generate_key() for _ in range(1000)}
    assert len(keys) == 1000


def test_the_checksum_fits_in_six_digits_for_every_crc() -> None:
    assert 62**6 > 2**32 - 1


def _flip(key: str, index: int) -> str:
    replacement = "A" if key[index] != "A" else "B"
    return key[:index] + replacement + key[index + 1 :]


VALID = generate_key(lambda n: bytes(range(n)))


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "mk_",
        "mk_short",
        VALID[:-1],
        VALID + "0",
        "MK_" + VALID[3:],
        "sk_" + VALID[3:],
        "mk-" + VALID[3:],
        VALID[:10] + "-" + VALID[11:],
        VALID[:10] + "_" + VALID[11:],
        VALID[:10] + " " + VALID[11:],
        VALID[:10] + "é" + VALID[11:],
        " " + VALID[:-1],
        _flip(VALID, 5),  # a typo in the body
        _flip(VALID, KEY_LENGTH - 1),  # a typo in the checksum
        VALID[:3] + VALID[4:-6] + VALID[3] + VALID[-6:],  # transposed body
        "mk_" + "A" * 39,
        # The original's format (base64url of 24 bytes): not ours, rejected offline.
        "mk_q2tDlpsT3S4bZ0i4oD0G4-_fo9pX7EaR",
    ],
)
def test_malformed_keys_are_rejected(raw: str) -> None:
    assert parse_key(raw) is None


def test_the_checksum_catches_every_single_character_change() -> None:
    for index in range(3, KEY_LENGTH):
        for char in "0aZ":
            changed = VALID[:index] + char + VALID[index + 1 :]
            if changed != VALID:
                assert parse_key(changed) is None, (index, char)


def test_looks_like_key_is_only_the_prefix() -> None:
    assert looks_like_key(VALID)
    assert looks_like_key("mk_garbage")
    assert not looks_like_key("eyJhbGciOi")


def test_display_prefix_and_last4() -> None:
    assert display_prefix(VALID) == VALID[:8]
    assert display_prefix(VALID).startswith(KEY_PREFIX)
    assert len(display_prefix(VALID)) == 8
    assert last4(VALID) == VALID[-4:]


def test_hash_is_hmac_sha256_under_the_secret() -> None:
    secret = bytes(range(32))
    hasher = KeyHasher(secret)

    digest = hasher.hash(VALID)

    assert digest == hmac.new(secret, VALID.encode(), hashlib.sha256).digest()
    assert len(digest) == 32
    assert hasher.hash(VALID) == digest  # the cached key schedule is not consumed


def test_hashes_differ_per_key_and_per_secret() -> None:
    other = generate_key()
    one, two = KeyHasher(b"a" * 32), KeyHasher(b"b" * 32)

    assert one.hash(VALID) != one.hash(other)
    assert one.hash(VALID) != two.hash(VALID)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyHasher(b"too short")


def test_the_hmac_secret_is_a_distinct_subkey_of_the_master_key() -> None:
    secret = api_key_hmac_secret(MASTER)

    assert len(secret) == 32
    assert secret == api_key_hmac_secret(MASTER)
    assert secret == derive_key(MASTER, "karpov:apikeys:hmac:v1")
    assert secret != derive_key(MASTER, "karpov:keyring:kek:v1")
    assert secret != api_key_hmac_secret(bytes(32))
