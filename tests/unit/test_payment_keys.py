"""Every Ed25519 key encoding the original gateway accepted for Linux Credit, and refusals
that name the field but never the key."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from domain.errors import InvalidInput
from integrations.payments.ed25519_keys import (
    decode_base64_lenient,
    parse_private_key,
    parse_public_key,
)

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
SEED = KEY.private_bytes(
    serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
)
RAW_PUBLIC = PUBLIC.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
PKCS8_DER = KEY.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
PKCS8_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
SPKI_DER = PUBLIC.public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
SPKI_PEM = PUBLIC.public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
).decode()


def std(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def raw_std(raw: bytes) -> str:
    return std(raw).rstrip("=")


def url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def raw_url(raw: bytes) -> str:
    return url(raw).rstrip("=")


def wrapped(text: str) -> str:
    """As pasted from a PEM body: broken across lines, with stray spaces."""
    return "\n  ".join(text[i : i + 16] for i in range(0, len(text), 16)) + "\r\n"


def same_private(key: Ed25519PrivateKey) -> bool:
    message = b"karpov"
    return key.sign(message) == KEY.sign(message)


def same_public(key: Ed25519PublicKey) -> bool:
    return (
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) == RAW_PUBLIC
    )


ENCODINGS: list[Callable[[bytes], str]] = [std, raw_std, url, raw_url]


@pytest.mark.parametrize("encode", ENCODINGS)
@pytest.mark.parametrize(
    "material",
    [SEED, SEED + RAW_PUBLIC, PKCS8_DER],
    ids=["32-byte seed", "64-byte key", "bare DER PKCS#8"],
)
def test_every_base64_private_key_form_parses(
    material: bytes, encode: Callable[[bytes], str]
) -> None:
    assert same_private(parse_private_key(encode(material), field="k"))
    assert same_private(parse_private_key(wrapped(encode(material)), field="k"))


def test_a_pem_pkcs8_private_key_parses() -> None:
    assert same_private(parse_private_key(PKCS8_PEM, field="k"))
    assert same_private(parse_private_key("\n  " + PKCS8_PEM.replace("\n", "\r\n"), field="k"))


@pytest.mark.parametrize("encode", ENCODINGS)
@pytest.mark.parametrize("material", [RAW_PUBLIC, SPKI_DER], ids=["32 raw bytes", "bare DER SPKI"])
def test_every_base64_public_key_form_parses(
    material: bytes, encode: Callable[[bytes], str]
) -> None:
    assert same_public(parse_public_key(encode(material), field="k"))
    assert same_public(parse_public_key(wrapped(encode(material)), field="k"))


def test_a_pem_spki_public_key_parses() -> None:
    assert same_public(parse_public_key(SPKI_PEM, field="k"))


def test_an_openssl_spki_body_parses() -> None:
    # The 44-byte SPKI body openssl prints (prefix 30 2a 30 05 06 03 2b 65 70 03 21 00);
    # sample from the original gateway's tests.
    key = parse_public_key(
        "MCowBQYDK2VwAyEAzfTNosqk++QUcwfy4QdYOxH70OFGy8AbusZPXinbt5k=", field="k"
    )
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw.hex() == "cdf4cda2caa4fbe4147307f2e107583b11fbd0e146cbc01bbac64f5e29dbb799"


def test_a_64_byte_key_whose_public_half_is_not_its_own_is_refused() -> None:
    other = Ed25519PrivateKey.generate().public_key()
    other_raw = other.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    with pytest.raises(InvalidInput) as refused:
        parse_private_key(std(SEED + other_raw), field="ldcMerchantPrivateKey")

    assert refused.value.field == "ldcMerchantPrivateKey"


X25519_DER = X25519PrivateKey.generate().private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "@@@ not base64 @@@",
        std(b"too-short"),
        std(b"x" * 48),
        "-----BEGIN PRIVATE KEY-----\nnot-valid\n-----END PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----",
        std(X25519_DER),
        SPKI_PEM,
    ],
    ids=[
        "empty",
        "blank",
        "not base64",
        "short",
        "48 junk bytes",
        "bad PEM",
        "cut PEM",
        "X25519",
        "a public key",
    ],
)
def test_anything_else_is_not_a_private_key(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_private_key(text, field="ldcMerchantPrivateKey")

    assert refused.value.field == "ldcMerchantPrivateKey"
    if text.strip():
        assert text.strip() not in str(refused.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "@@@",
        std(b"short"),
        "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----",
        std(SEED + SEED),
    ],
    ids=["empty", "not base64", "short", "bad PEM", "64 bytes"],
)
def test_anything_else_is_not_a_public_key(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_public_key(text, field="ldcPlatformPublicKey")

    assert refused.value.field == "ldcPlatformPublicKey"


def test_a_refusal_never_quotes_the_key() -> None:
    secret_text = std(SEED)[:-4] + "!!!!"  # almost a seed: not base64 any more

    with pytest.raises(InvalidInput) as refused:
        parse_private_key(secret_text, field="k")

    assert secret_text not in str(refused.value)
    assert secret_text[:20] not in repr(refused.value) + refused.value.message


def test_lenient_base64_refuses_what_is_no_base64_at_all() -> None:
    assert decode_base64_lenient("a") is None
    assert decode_base64_lenient("ab$d") is None
    assert decode_base64_lenient("YWJj") == b"abc"
    assert decode_base64_lenient("YWI") == b"ab"
    assert decode_base64_lenient("-_8=") == bytes([0xFB, 0xFF])
