"""NetEase Cloud Music request encryption: ``weapi`` (the web player's) and ``eapi`` (the
desktop and mobile clients').

weapi: the JSON payload is AES-128-CBC encrypted twice (first with a fixed preset key, then
with a random 16-character second key, both with the same fixed IV, each result base64
encoded); the second key, reversed, is raised to the RSA public exponent modulo NetEase's
public modulus with no padding (textbook RSA) and sent as 256 hex digits. Form fields
``params`` and ``encSecKey``.

eapi: the plain text ``<api path>-36cd479b6b5-<json>-36cd479b6b5-<md5>`` where the MD5 is
over ``nobody<api path>use<json>md5forencrypt``, AES-128-ECB encrypted with a fixed key and
sent as upper-case hex in the form field ``params``. When the client asks for an encrypted
answer (``e_r``), the answer body is AES-128-ECB ciphertext under the same key, possibly
gzip-compressed inside.

The constants are public: every NetEase client in the wild carries them (NetEase's own web
player ships them in its JavaScript). Randomness (the second key) is injectable so tests are
deterministic; the RSA key is a parameter so a test double can hold the matching private key.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

WEAPI_PRESET_KEY = b"0CoJUm6Qyw8W8jud"
WEAPI_IV = b"0102030405060708"
EAPI_KEY = b"e82ckenh8dichen8"
EAPI_SEPARATOR = "-36cd479b6b5-"
SECRET_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SECRET_KEY_LENGTH = 16
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class RsaPublicKey:
    """The weapi key-transport key: ``encSecKey = reversed_key ** exponent % modulus``."""

    modulus: int
    exponent: int

    @property
    def hex_digits(self) -> int:
        return ((self.modulus.bit_length() + 7) // 8) * 2


NETEASE_WEAPI_KEY = RsaPublicKey(
    modulus=int(
        "e0b509f6259df8642dbc35662901477df22677ec152b5ff68ace615bb7b725152b3ab17a876aea8a"
        "5aa76d2e417629ec4ee341f56135fccf695280104e0312ecbda92557c93870114af6c9d05c4f7f0c"
        "3685b7a46bee255932575cce10b424d813cfe4875d3e82047b97ddef52741d546b8e289dc6935b3e"
        "ce0462db0a22b8e7",
        16,
    ),
    exponent=0x010001,
)
"""NetEase's public weapi modulus (1024 bits) and exponent."""

SecretKeySource = Callable[[], str]


def random_secret_key() -> str:
    """A fresh 16-character weapi second key (alphanumeric, as NetEase's web player draws)."""
    return "".join(secrets.choice(SECRET_KEY_ALPHABET) for _ in range(SECRET_KEY_LENGTH))


def to_json(payload: Mapping[str, Any]) -> str:
    """The payload as the JavaScript clients serialise it (compact, UTF-8, no escaping)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


# -- AES helpers -------------------------------------------------------------------------


def _pkcs7_pad(data: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    return padder.update(data) + padder.finalize()


def _pkcs7_unpad(data: bytes) -> bytes:
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(data) + unpadder.finalize()


def _aes_cbc_encrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(_pkcs7_pad(data)) + encryptor.finalize()


def _aes_ecb_encrypt(data: bytes, key: bytes) -> bytes:
    # ECB is what the upstream protocol mandates; it protects nothing we own.
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(_pkcs7_pad(data)) + encryptor.finalize()


def _aes_ecb_decrypt(data: bytes, key: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305
    return _pkcs7_unpad(decryptor.update(data) + decryptor.finalize())


# -- weapi -------------------------------------------------------------------------------


def rsa_encrypt_secret_key(secret_key: str, key: RsaPublicKey = NETEASE_WEAPI_KEY) -> str:
    """Textbook RSA of the reversed second key, as ``key.hex_digits`` lower-case hex."""
    message = int.from_bytes(secret_key[::-1].encode("ascii"), "big")
    if message >= key.modulus:
        raise ValueError("the weapi RSA modulus is too small for a 16-byte key")
    return format(pow(message, key.exponent, key.modulus), "x").zfill(key.hex_digits)


def weapi_params(text: str, secret_key: str) -> str:
    """The ``params`` field for the JSON ``text`` and second key ``secret_key``."""
    if len(secret_key) != SECRET_KEY_LENGTH or not secret_key.isascii():
        raise ValueError("the weapi second key is 16 ASCII characters")
    first = base64.b64encode(_aes_cbc_encrypt(text.encode("utf-8"), WEAPI_PRESET_KEY, WEAPI_IV))
    second = _aes_cbc_encrypt(first, secret_key.encode("ascii"), WEAPI_IV)
    return base64.b64encode(second).decode("ascii")


def weapi_form(
    payload: Mapping[str, Any],
    *,
    secret_key: str | None = None,
    rsa_key: RsaPublicKey = NETEASE_WEAPI_KEY,
) -> dict[str, str]:
    """The weapi form (``params``, ``encSecKey``) for ``payload``; a fresh second key
    unless one is given."""
    key = secret_key if secret_key is not None else random_secret_key()
    return {
        "params": weapi_params(to_json(payload), key),
        "encSecKey": rsa_encrypt_secret_key(key, rsa_key),
    }


# -- eapi --------------------------------------------------------------------------------


def eapi_digest(api_path: str, text: str) -> str:
    # MD5 is the protocol's integrity tag, not a security control of ours.
    message = f"nobody{api_path}use{text}md5forencrypt".encode()
    return hashlib.md5(message, usedforsecurity=False).hexdigest()


def eapi_params(api_path: str, text: str) -> str:
    """The ``params`` field for the call to ``api_path`` (``/api/...``) with JSON ``text``."""
    plain = f"{api_path}{EAPI_SEPARATOR}{text}{EAPI_SEPARATOR}{eapi_digest(api_path, text)}"
    return _aes_ecb_encrypt(plain.encode("utf-8"), EAPI_KEY).hex().upper()


def eapi_form(api_path: str, payload: Mapping[str, Any]) -> dict[str, str]:
    return {"params": eapi_params(api_path, to_json(payload))}


@dataclass(frozen=True, slots=True)
class EapiRequest:
    api_path: str
    text: str
    digest_ok: bool


def decrypt_eapi_params(params: str) -> EapiRequest:
    """Read an eapi ``params`` field back (for debugging captured traffic and for tests).
    Raises ``ValueError`` when it is not an eapi request."""
    plain = _aes_ecb_decrypt(bytes.fromhex(params), EAPI_KEY).decode("utf-8")
    api_path, sep1, rest = plain.partition(EAPI_SEPARATOR)
    text, sep2, digest = rest.rpartition(EAPI_SEPARATOR)
    if not (sep1 and sep2):
        raise ValueError("not an eapi request")
    return EapiRequest(api_path, text, digest == eapi_digest(api_path, text))


def decrypt_eapi_response(body: bytes) -> Any:
    """The JSON of an encrypted eapi answer (AES-128-ECB, gzip inside when compressed).
    Raises ``ValueError`` when the body is not one."""
    if len(body) % 16:
        raise ValueError("an encrypted eapi answer is a whole number of AES blocks")
    plain = _aes_ecb_decrypt(body, EAPI_KEY)
    if plain.startswith(_GZIP_MAGIC):
        plain = gzip.decompress(plain)
    return json.loads(plain)
