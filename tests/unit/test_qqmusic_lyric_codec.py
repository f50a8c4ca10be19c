"""Lyric fields: hex → Tencent's triple DES → zlib → text, and the QRC XML wrapper."""

from __future__ import annotations

import zlib

import pytest

from integrations.qqmusic.lyric_codec import (
    LYRIC_KEY,
    LyricDecodeError,
    decrypt_lyric,
    looks_encrypted,
    unwrap_qrc,
)
from integrations.qqmusic.tripledes import TripleDes
from tests.fakes.qqmusic import cipher as independent

LRC = "[ti:晴天]\n[00:01.00]故事的小黄花\n[00:05.20]从出生那年就飘着\n"


def test_what_the_fake_encrypts_we_decrypt() -> None:
    assert decrypt_lyric(independent.encrypt_lyric(LRC)) == LRC


def test_what_we_encrypt_the_fake_decrypts() -> None:
    data = zlib.compress(LRC.encode())
    data += b"\0" * (-len(data) % 8)
    sealed = TripleDes(LYRIC_KEY, decrypt=False).ecb(data).hex().upper()
    assert independent.decrypt_lyric(sealed) == LRC


def test_lower_case_hex_is_read_too() -> None:
    assert decrypt_lyric(independent.encrypt_lyric(LRC).lower()) == LRC


def test_plain_fields_pass_through() -> None:
    assert decrypt_lyric("") == ""
    assert decrypt_lyric("[00:01.00]not encrypted") == "[00:01.00]not encrypted"
    assert not looks_encrypted("ABC")  # not a whole number of blocks


def test_ciphertext_that_is_not_a_lyric_fails_clearly() -> None:
    with pytest.raises(LyricDecodeError):
        decrypt_lyric("00" * 16)
    truncated = independent.encrypt_lyric(LRC * 20)[:64]
    with pytest.raises(LyricDecodeError):
        decrypt_lyric(truncated)


def test_the_qrc_text_is_taken_out_of_its_xml_wrapper() -> None:
    qrc = '[1000,500]Say(1000,200) "hi" & <go>(1200,300)\n[2000,100]x(2000,100)'
    wrapped = (
        '<?xml version="1.0" encoding="utf-8"?>\n<QrcInfos>\n<QrcHeadInfo SaveTime="1" '
        'Version="100"/>\n<LyricInfo LyricCount="1">\n<Lyric_1 LyricType="1" LyricContent="'
        "[1000,500]Say(1000,200) &quot;hi&quot; &amp; &lt;go&gt;(1200,300)\n"
        '[2000,100]x(2000,100)"/>\n</LyricInfo>\n</QrcInfos>'
    )
    assert unwrap_qrc(wrapped) == qrc
    assert unwrap_qrc("[00:01.00]plain") == "[00:01.00]plain"
