"""An independent implementation of Tencent's modified triple DES, for the fake upstream.

Written deliberately unlike the client's (``integrations.qqmusic.tripledes``): blocks are
lists of bits, every permutation is an explicit table walk, the round keys are rebuilt for
each block, and Tencent's deviations from DES are applied where the textbook description
would put them. It is slow and obvious; the fake only encrypts a few lyrics with it. Both
implementations are checked against the original gateway's golden vectors.
"""

from __future__ import annotations

import zlib

LYRIC_KEY = b"!@#)(*$%123ZXC!@!@#)(NHL"


def _numbers(text: str) -> list[int]:
    return [int(x) for x in text.split()]


_IP = _numbers("""
58 50 42 34 26 18 10 2 60 52 44 36 28 20 12 4 62 54 46 38 30 22 14 6 64 56 48 40 32 24 16 8
57 49 41 33 25 17 9 1 59 51 43 35 27 19 11 3 61 53 45 37 29 21 13 5 63 55 47 39 31 23 15 7
""")
_E = _numbers("""
32 1 2 3 4 5 4 5 6 7 8 9 8 9 10 11 12 13 12 13 14 15 16 17
16 17 18 19 20 21 20 21 22 23 24 25 24 25 26 27 28 29 28 29 30 31 32 1
""")
_P = _numbers(
    "16 7 20 21 29 12 28 17 1 15 23 26 5 18 31 10 2 8 24 14 32 27 3 9 19 13 30 6 22 11 4 25"
)
_PC1 = _numbers("""
57 49 41 33 25 17 9 1 58 50 42 34 26 18 10 2 59 51 43 35 27 19 11 3 60 52 44 36
63 55 47 39 31 23 15 7 62 54 46 38 30 22 14 6 61 53 45 37 29 21 13 5 28 20 12 4
""")
_PC2 = _numbers("""
14 17 11 24 1 5 3 28 15 6 21 10 23 19 12 4 26 8 16 7 27 20 13 2
41 52 31 37 47 55 30 40 51 45 33 48 44 49 39 56 34 53 46 42 50 36 29 32
""")
_ROTATIONS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]
_S = [
    [_numbers(row) for row in box.strip().splitlines()]
    for box in (
        """14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7
           0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8
           4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0
           15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13""",
        # Tencent: row 1, column 7 is 15 (DES has 14).
        """15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10
           3 13 4 7 15 2 8 15 12 0 1 10 6 9 11 5
           0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15
           13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9""",
        """10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8
           13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1
           13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7
           1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12""",
        # Tencent: row 3, column 5 is 10 (DES has 1).
        """7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15
           13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9
           10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4
           3 15 0 6 10 10 13 8 9 4 5 11 12 7 2 14""",
        """2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9
           14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6
           4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14
           11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3""",
        """12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11
           10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8
           9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6
           4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13""",
        """4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1
           13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6
           1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2
           6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12""",
        """13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7
           1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2
           7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8
           2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11""",
    )
]


def _bits(data: bytes) -> list[int]:
    """Tencent reads a block as two little-endian 32-bit words: the bits of bytes
    3,2,1,0,7,6,5,4, most significant first."""
    ordered = [*data[3::-1], *data[7:3:-1]]
    return [(byte >> (7 - i)) & 1 for byte in ordered for i in range(8)]


def _bytes(bits: list[int]) -> bytes:
    values = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, 64, 8)]
    return bytes([*values[3::-1], *values[7:3:-1]])


def _round_keys(key8: bytes) -> list[list[int]]:
    permuted = [_bits(key8)[i - 1] for i in _PC1]
    c, d = permuted[:28], permuted[28:]
    keys = []
    for shift in _ROTATIONS:
        c, d = c[shift:] + c[:shift], d[shift:] + d[:shift]
        # Tencent reads every D position of PC-2 one bit further on; past D there is a 0.
        cd = c + d + [0]
        keys.append([cd[i - 1] if i <= 28 else cd[i] for i in _PC2])
    return keys


def _des(block: bytes, key8: bytes, *, decrypt: bool) -> bytes:
    bits = [_bits(block)[i - 1] for i in _IP]
    left, right = bits[:32], bits[32:]
    keys = _round_keys(key8)
    for key in reversed(keys) if decrypt else keys:
        expanded = [right[i - 1] ^ k for i, k in zip(_E, key, strict=True)]
        sboxed: list[int] = []
        for n in range(8):
            six = expanded[6 * n : 6 * n + 6]
            value = _S[n][six[0] * 2 + six[5]][int("".join(map(str, six[1:5])), 2)]
            sboxed += [(value >> (3 - i)) & 1 for i in range(4)]
        mixed = [sboxed[i - 1] for i in _P]
        left, right = right, [a ^ b for a, b in zip(left, mixed, strict=True)]
    pre_output = right + left
    out = [0] * 64
    for position, source in enumerate(_IP):
        out[source - 1] = pre_output[position]
    return _bytes(out)


def tdes_block(block: bytes, key: bytes, *, decrypt: bool) -> bytes:
    k1, k2, k3 = key[:8], key[8:16], key[16:24]
    if decrypt:
        step = _des(block, k3, decrypt=True)
        step = _des(step, k2, decrypt=False)
        return _des(step, k1, decrypt=True)
    step = _des(block, k1, decrypt=False)
    step = _des(step, k2, decrypt=True)
    return _des(step, k3, decrypt=False)


def encrypt_lyric(text: str) -> str:
    """What QQ Music sends for a lyric with ``crypt=1``: zlib, zero-padded to whole blocks,
    triple DES in ECB mode, upper-case hex."""
    if not text:
        return ""
    data = zlib.compress(text.encode("utf-8"))
    data += b"\0" * (-len(data) % 8)
    blocks = [tdes_block(data[i : i + 8], LYRIC_KEY, decrypt=False) for i in range(0, len(data), 8)]
    return b"".join(blocks).hex().upper()


def decrypt_lyric(hex_text: str) -> str:
    data = bytes.fromhex(hex_text)
    plain = b"".join(
        tdes_block(data[i : i + 8], LYRIC_KEY, decrypt=True) for i in range(0, len(data), 8)
    )
    return zlib.decompressobj().decompress(plain).decode("utf-8")
