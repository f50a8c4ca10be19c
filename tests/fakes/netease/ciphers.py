"""The fake NetEase's side of the weapi and eapi encryption, written apart from our client
(``integrations.netease.crypto`` is never imported here) so that a test of one against the
other checks the protocol, not one piece of code against itself.

The weapi second key travels RSA-encrypted under a public key. Nobody but NetEase can read
it under NetEase's own modulus, so the fake holds a key pair of its own: our client is
configured with the fake's public key (``RsaPublicKey`` in ``NeteaseConfig``), the fake
decrypts with the private one, and a separate unit test checks our client's output for
NetEase's real modulus against a published vector.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PRESET_KEY = b"0CoJUm6Qyw8W8jud"
IV = b"0102030405060708"
EAPI_KEY = b"e82ckenh8dichen8"
SEPARATOR = "-36cd479b6b5-"
BLOCK = 16


class ProtocolError(ValueError):
    """What the client sent is not a well-formed weapi/eapi request."""


@functools.cache
def fake_rsa_key() -> rsa.RSAPrivateKey:
    """The fake's weapi key pair (1024 bits, as NetEase's), made once per test process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _pad(data: bytes) -> bytes:
    count = BLOCK - len(data) % BLOCK
    return data + bytes([count]) * count


def _unpad(data: bytes) -> bytes:
    if not data or len(data) % BLOCK:
        raise ProtocolError("not a whole number of AES blocks")
    count = data[-1]
    if not 1 <= count <= BLOCK or data[-count:] != bytes([count]) * count:
        raise ProtocolError("bad PKCS#7 padding")
    return data[:-count]


def cbc_decrypt(data: bytes, key: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(IV)).decryptor()
    return _unpad(decryptor.update(data) + decryptor.finalize())


def cbc_encrypt(data: bytes, key: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(IV)).encryptor()
    return encryptor.update(_pad(data)) + encryptor.finalize()


def ecb_decrypt(data: bytes, key: bytes = EAPI_KEY) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return _unpad(decryptor.update(data) + decryptor.finalize())


def ecb_encrypt(data: bytes, key: bytes = EAPI_KEY) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(_pad(data)) + encryptor.finalize()


# -- weapi -------------------------------------------------------------------------------


def recover_second_key(enc_sec_key: str, key: rsa.RSAPrivateKey) -> str:
    """The weapi second key from ``encSecKey``: RSA without padding, then reversed."""
    numbers = key.private_numbers()
    digits = numbers.public_numbers.n.bit_length() // 4
    if len(enc_sec_key) != digits:
        raise ProtocolError(f"encSecKey has {len(enc_sec_key)} hex digits, not {digits}")
    plain = pow(int(enc_sec_key, 16), numbers.d, numbers.public_numbers.n)
    raw = plain.to_bytes(BLOCK, "big")  # raises OverflowError when it is not 16 bytes
    return raw.decode("ascii")[::-1]


def weapi_decrypt(params: str, enc_sec_key: str, key: rsa.RSAPrivateKey) -> dict[str, Any]:
    try:
        second = recover_second_key(enc_sec_key, key).encode("ascii")
        outer = cbc_decrypt(base64.b64decode(params, validate=True), second)
        inner = cbc_decrypt(base64.b64decode(outer, validate=True), PRESET_KEY)
        payload = json.loads(inner.decode("utf-8"))
    except (ValueError, OverflowError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"weapi request does not decrypt: {exc}") from None
    if not isinstance(payload, dict):
        raise ProtocolError("a weapi payload is a JSON object")
    return payload


def weapi_encrypt(
    payload: dict[str, Any], second_key: str, public_n: int, public_e: int
) -> dict[str, str]:
    """What a correct client sends (for test vectors the other way round)."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    inner = base64.b64encode(cbc_encrypt(text, PRESET_KEY))
    outer = base64.b64encode(cbc_encrypt(inner, second_key.encode())).decode()
    reversed_key = int.from_bytes(second_key[::-1].encode(), "big")
    digits = public_n.bit_length() // 4
    return {"params": outer, "encSecKey": f"{pow(reversed_key, public_e, public_n):0{digits}x}"}


# -- eapi --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EapiCall:
    api_path: str
    payload: dict[str, Any]


def eapi_tag(api_path: str, text: str) -> str:
    return hashlib.md5(f"nobody{api_path}use{text}md5forencrypt".encode()).hexdigest()


def eapi_decrypt(params: str) -> EapiCall:
    try:
        plain = ecb_decrypt(bytes.fromhex(params)).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"eapi request does not decrypt: {exc}") from None
    parts = plain.split(SEPARATOR)
    if len(parts) != 3:
        raise ProtocolError("eapi plain text is not path-separator-json-separator-md5")
    api_path, text, tag = parts
    if tag != eapi_tag(api_path, text):
        raise ProtocolError("eapi digest does not match")
    try:
        payload = json.loads(text)
    except ValueError:
        raise ProtocolError("eapi payload is not JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError("an eapi payload is a JSON object")
    return EapiCall(api_path, payload)


def eapi_encrypt(api_path: str, payload: dict[str, Any]) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    plain = f"{api_path}{SEPARATOR}{text}{SEPARATOR}{eapi_tag(api_path, text)}"
    return ecb_encrypt(plain.encode()).hex().upper()


def encrypt_answer(body: dict[str, Any], *, compress: bool = False) -> bytes:
    """An eapi answer asked with ``e_r``: AES-ECB of the JSON (gzip first when ``compress``)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    return ecb_encrypt(gzip.compress(raw) if compress else raw)
