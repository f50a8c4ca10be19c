"""Decoding QQ Music's encrypted lyric fields.

With ``crypt=1`` every lyric field (LRC, QRC, translation, romanisation) arrives as upper-
case hex of Tencent's modified triple DES (``tripledes``) in ECB mode over a zlib stream.
A QRC (word-timed) lyric is additionally wrapped in a small XML document whose
``LyricContent`` attribute holds the QRC text.
"""

from __future__ import annotations

import html
import re
import string
import zlib

from integrations.qqmusic.tripledes import BLOCK_SIZE, TripleDes

LYRIC_KEY = b"!@#)(*$%123ZXC!@!@#)(NHL"
"""The fixed key every QQ Music client ships (public, not a secret)."""

_HEX = frozenset(string.hexdigits)
_QRC_CONTENT = re.compile(r'<Lyric_\d+\b[^>]*?\bLyricContent="(?P<content>[^"]*)"', re.DOTALL)
_decipher = TripleDes(LYRIC_KEY, decrypt=True)


class LyricDecodeError(ValueError):
    """The field looked encrypted but did not decrypt to a zlib stream of UTF-8 text."""


def looks_encrypted(text: str) -> bool:
    return bool(text) and len(text) % (2 * BLOCK_SIZE) == 0 and set(text) <= _HEX


def decrypt_lyric(text: str) -> str:
    """The plain text of one lyric field; a field that is not hex ciphertext (``crypt=0``
    answers, empty fields) is returned unchanged."""
    if not looks_encrypted(text):
        return text
    try:
        inflater = zlib.decompressobj()
        # Padding after the end of the zlib stream lands in ``unused_data`` and is ignored.
        plain = inflater.decompress(_decipher.ecb(bytes.fromhex(text)))
        if not inflater.eof:
            raise LyricDecodeError("the lyric's zlib stream is truncated")
        return plain.decode("utf-8")
    except (zlib.error, UnicodeDecodeError) as exc:
        raise LyricDecodeError("the lyric field does not decrypt") from exc


def unwrap_qrc(text: str) -> str:
    """The QRC text inside QQ's ``<QrcInfos>`` XML wrapper (the text itself when it is not
    wrapped). Read with a pattern rather than an XML parser: the document is tiny, comes
    from the network, and only one attribute is wanted."""
    match = _QRC_CONTENT.search(text)
    return html.unescape(match.group("content")) if match else text
