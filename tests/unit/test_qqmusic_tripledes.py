"""Tencent's modified triple DES (QQ Music's lyric cipher): golden vectors, the relation to
standard DES, and agreement with the fake's independent implementation."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from integrations.qqmusic.tripledes import STANDARD_DES, TENCENT, QuirkSet, TripleDes
from tests.fakes.qqmusic import cipher as independent

# Golden vectors of the original gateway (openaitx-system/karpov-gateway,
# gateway/internal/provider/qqmusic/testdata/tripledes_golden.json, commit 7f49b29d):
# (24-byte key, mode, 8-byte input, 8-byte output), hex.
_KEYS = (
    "21402329284e484c6975792a24255e2635647341464b4a55",
    "6162636465666768696a6b6c6d6e6f707172737475767778",
    "000102030405060708090a0b0c0d0e0f1011121314151617",
)
_INPUTS = ("0000000000000000", "ffffffffffffffff", "3031323334353637", "4142434445464748",
           "0001020304050607")  # fmt: skip
_OUTPUTS = (
    # per key: encrypt, decrypt of each input in _INPUTS order
    ("576bc124cdca8d91", "21fc5f1c2f5de384", "34cc65b786cd9a6d", "9f2376e7e5ca60be",
     "27f36296511ea755", "d811244cce829fa5", "dcc12ab6999fc97d", "d62e5edef174fc71",
     "9584215ec1c805f2", "8848c1456f58a240"),
    ("af50daf23da2968f", "80d150421af84f28", "e81ef0afb1dab247", "68620718fff5e305",
     "fd3c96730a0962d3", "39fd6c1f9bc121ef", "14abfc905c001186", "3d70c3de6bdb463d",
     "c998b29af1f5b5f6", "abc0e982d259ea59"),
    ("9b2f350a71ab67d1", "32c26ad0e6e3f037", "8d987eef5ad3a592", "f7cad9b3b2f1b2d4",
     "960bd831ffe10003", "3d7b92cbc0ed51dd", "c508de8be32fea1d", "59c807a2a32d26db",
     "3be76544ad6f8a74", "cef1bdc97ba93524"),
)  # fmt: skip
GOLDEN = [
    (key, decrypt, block, _OUTPUTS[k][2 * i + int(decrypt)])
    for k, key in enumerate(_KEYS)
    for i, block in enumerate(_INPUTS)
    for decrypt in (False, True)
]


@pytest.mark.parametrize(("key", "decrypt", "block", "expected"), GOLDEN)
def test_golden_vectors(key: str, decrypt: bool, block: str, expected: str) -> None:
    cipher = TripleDes(bytes.fromhex(key), decrypt=decrypt)
    assert cipher.block(bytes.fromhex(block)).hex() == expected


@pytest.mark.parametrize(("key", "decrypt", "block", "expected"), GOLDEN)
def test_the_fakes_independent_implementation_meets_the_same_vectors(
    key: str, decrypt: bool, block: str, expected: str
) -> None:
    out = independent.tdes_block(bytes.fromhex(block), bytes.fromhex(key), decrypt=decrypt)
    assert out.hex() == expected


def test_without_tencents_quirks_it_is_standard_triple_des() -> None:
    for _ in range(8):
        key, data = os.urandom(24), os.urandom(64)
        standard = Cipher(TripleDES(key), modes.ECB()).encryptor().update(data)
        assert TripleDes(key, decrypt=False, quirks=STANDARD_DES).ecb(data) == standard
        assert TripleDes(key, decrypt=True, quirks=STANDARD_DES).ecb(standard) == data


def test_a_standard_triple_des_gives_different_blocks() -> None:
    key, block, expected = GOLDEN[0][0], GOLDEN[0][2], GOLDEN[0][3]
    standard = Cipher(TripleDES(bytes.fromhex(key)), modes.ECB()).encryptor()
    assert standard.update(bytes.fromhex(block)).hex() != expected


@pytest.mark.parametrize(
    "without",
    [
        QuirkSet(word_byte_order=False),
        QuirkSet(sbox_entries=False),
        QuirkSet(pc2_offset=False),
    ],
    ids=["byte order", "s-box entries", "key schedule"],
)
def test_each_of_the_three_deviations_is_needed(without: QuirkSet) -> None:
    matches = sum(
        TripleDes(bytes.fromhex(key), decrypt=decrypt, quirks=without)
        .block(bytes.fromhex(block))
        .hex()
        == expected
        for key, decrypt, block, expected in GOLDEN
    )
    assert matches < len(GOLDEN)


def test_decrypting_undoes_encrypting() -> None:
    key = os.urandom(24)
    data = os.urandom(8 * 50)
    sealed = TripleDes(key, decrypt=False, quirks=TENCENT).ecb(data)
    assert sealed != data
    assert TripleDes(key, decrypt=True).ecb(sealed) == data


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="24 bytes"):
        TripleDes(b"short", decrypt=True)
    cipher = TripleDes(bytes(24), decrypt=True)
    with pytest.raises(ValueError, match="8 bytes"):
        cipher.block(b"1234567")
    with pytest.raises(ValueError, match="whole number of blocks"):
        cipher.ecb(b"123456789")
