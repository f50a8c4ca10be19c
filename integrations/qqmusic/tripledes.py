"""Tencent's modified triple DES, the block cipher under QQ Music's lyric encryption.

It is DES (FIPS 46-3) with three deliberate or inherited deviations, so no standard DES
library produces the same blocks:

1. **Byte order.** Each 8-byte block and each 8-byte key is read (and each block written)
   as two 32-bit little-endian words: the bytes of each half are reversed relative to DES.
2. **S-boxes.** Two entries differ from the standard tables: S2 row 1 column 7 is 15
   (standard 14) and S4 row 3 column 5 is 10 (standard 1).
3. **Key schedule.** The right half of permuted choice 2 reads each bit of D one position
   later than DES does (the last position reads past D and is always 0).

Everything else (initial/final permutation, expansion, P, PC-1, shifts, 16 rounds, EDE
composition) is standard. ``QuirkSet`` switches the deviations, so the unit tests can show
that with all three off this is exactly standard triple DES, and with all three on it
reproduces the original gateway's golden vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

BLOCK_SIZE = 8
KEY_SIZE = 24

# --- the standard DES tables (FIPS 46-3, 1-based bit numbers, bit 1 = most significant) ---

_IP = (
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
    62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
    57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
    61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
)  # fmt: skip
_P = (
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
)  # fmt: skip
_PC1_C = (57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36)  # fmt: skip  # noqa: E501
_PC1_D = (63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4)  # fmt: skip  # noqa: E501
_PC2 = (
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
)  # fmt: skip
_SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)
_SBOXES = (
    (14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
     0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
     4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
     15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13),
    (15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
     3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
     0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
     13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9),
    (10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
     13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
     13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
     1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12),
    (7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
     13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
     10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
     3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14),
    (2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
     14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
     4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
     11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3),
    (12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
     10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
     9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
     4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13),
    (4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
     13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
     1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
     6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12),
    (13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
     1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
     7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
     2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11),
)  # fmt: skip

# Tencent's two S-box changes: (box, row, column) -> value.
_TENCENT_SBOX_ENTRIES = {(1, 1, 7): 15, (3, 3, 5): 10}


@dataclass(frozen=True, slots=True)
class QuirkSet:
    """Which of Tencent's deviations from DES apply (all of them for QQ Music)."""

    word_byte_order: bool = True
    sbox_entries: bool = True
    pc2_offset: bool = True


TENCENT = QuirkSet()
STANDARD_DES = QuirkSet(word_byte_order=False, sbox_entries=False, pc2_offset=False)


def _permute(value: int, table: Sequence[int], width: int) -> int:
    """Output bit i (1-based, MSB first) is input bit ``table[i-1]`` of a ``width``-bit int."""
    out = 0
    for source in table:
        out = (out << 1) | ((value >> (width - source)) & 1)
    return out


def _byte_tables(table: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Per input byte position, each byte value's contribution to a 64-bit permutation, so
    a permutation costs eight look-ups instead of 64 bit moves."""
    return tuple(
        tuple(_permute(value << (8 * (7 - position)), table, 64) for value in range(256))
        for position in range(8)
    )


_FP = tuple(_IP.index(bit) + 1 for bit in range(1, 65))
_IP_BYTES = _byte_tables(_IP)
_FP_BYTES = _byte_tables(_FP)


def _apply_bytes(tables: tuple[tuple[int, ...], ...], block: int) -> int:
    out = 0
    for position in range(8):
        out |= tables[position][(block >> (8 * (7 - position))) & 0xFF]
    return out


@lru_cache(maxsize=2)
def _sp_tables(quirks: QuirkSet) -> tuple[tuple[int, ...], ...]:
    """S-box i followed by P, for each 6-bit input: the round function is then eight
    look-ups and XORs."""
    boxes = [list(box) for box in _SBOXES]
    if quirks.sbox_entries:
        for (which, row, column), value in _TENCENT_SBOX_ENTRIES.items():
            boxes[which][row * 16 + column] = value
    tables = []
    for index, box in enumerate(boxes):
        entries = []
        for six in range(64):
            row = ((six >> 4) & 0b10) | (six & 1)
            column = (six >> 1) & 0xF
            nibble = box[row * 16 + column]
            entries.append(_permute(nibble << (28 - 4 * index), _P, 32))
        tables.append(tuple(entries))
    return tuple(tables)


def _word_swap(data: bytes) -> bytes:
    """Reverse the bytes of each 32-bit half (Tencent reads blocks as little-endian words)."""
    return data[3::-1] + data[7:3:-1]


def _subkeys(key8: bytes, quirks: QuirkSet) -> tuple[tuple[int, ...], ...]:
    """The 16 round keys of one DES key, each as eight 6-bit chunks."""
    key = int.from_bytes(_word_swap(key8) if quirks.word_byte_order else key8, "big")
    c = _permute(key, _PC1_C, 64)
    d = _permute(key, _PC1_D, 64)
    rounds = []
    for shift in _SHIFTS:
        c = ((c << shift) | (c >> (28 - shift))) & 0xFFFFFFF
        d = ((d << shift) | (d >> (28 - shift))) & 0xFFFFFFF
        # cd holds C then D, plus (for Tencent's shifted read of D) one zero bit after D.
        cd = (c << 29) | (d << 1)
        bits = 0
        for position in _PC2:
            source = position + 1 if quirks.pc2_offset and position > 28 else position
            bits = (bits << 1) | ((cd >> (57 - source)) & 1)
        rounds.append(tuple((bits >> (42 - 6 * i)) & 0x3F for i in range(8)))
    return tuple(rounds)


def _feistel(right: int, subkey: tuple[int, ...], sp: tuple[tuple[int, ...], ...]) -> int:
    # E expansion: the 32-bit half with its last bit prepended and first bit appended;
    # chunk i is bits 4i-1 .. 4i+4 of the half (1-based, circular).
    wrapped = ((right & 1) << 33) | (right << 1) | (right >> 31)
    out = 0
    for i in range(8):
        out ^= sp[i][((wrapped >> (28 - 4 * i)) & 0x3F) ^ subkey[i]]
    return out


class TripleDes:
    """One 24-byte key, encrypting or decrypting 8-byte blocks (EDE / DED composition)."""

    def __init__(self, key: bytes, *, decrypt: bool, quirks: QuirkSet = TENCENT) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("a triple DES key is 24 bytes")
        self._quirks = quirks
        self._sp = _sp_tables(quirks)
        forward = [_subkeys(key[i : i + 8], quirks) for i in (0, 8, 16)]
        if decrypt:
            # D(k3), E(k2), D(k1): decrypting reverses the order of each round-key list.
            stages = [forward[2][::-1], forward[1], forward[0][::-1]]
        else:
            stages = [forward[0], forward[1][::-1], forward[2]]
        self._stages = tuple(stages)

    def block(self, data: bytes) -> bytes:
        if len(data) != BLOCK_SIZE:
            raise ValueError("a block is 8 bytes")
        word_order = self._quirks.word_byte_order
        value = _apply_bytes(_IP_BYTES, int.from_bytes(_word_swap(data) if word_order else data))
        left, right = value >> 32, value & 0xFFFFFFFF
        sp = self._sp
        # The final permutation of one stage and the initial permutation of the next cancel
        # out, so the three stages run back to back; only the half swap remains between them.
        for stage in self._stages:
            for subkey in stage:
                left, right = right, left ^ _feistel(right, subkey, sp)
            left, right = right, left
        out = _apply_bytes(_FP_BYTES, (left << 32) | right).to_bytes(8, "big")
        return _word_swap(out) if word_order else out

    def ecb(self, data: bytes) -> bytes:
        if len(data) % BLOCK_SIZE:
            raise ValueError("the data is not a whole number of blocks")
        return b"".join(self.block(data[i : i + 8]) for i in range(0, len(data), BLOCK_SIZE))
