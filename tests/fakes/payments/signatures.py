"""The providers' signatures, written again for the fakes, independently of our signer.

These follow the providers' own code paths (PHP's ``ksort`` then a loop that glues
``k=v`` pairs, as the hupijiao SDK and epay's ``getSignContent`` do; LDC's Go
``GenerateSignature``), so a fake accepts a request only when our real signer agrees with
the provider's rule, not merely with itself.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def php_urlencode(text: str) -> str:
    """PHP ``urlencode``, byte by byte."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in "-_."):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def sign_content(
    params: Mapping[str, object], skip: Iterable[str], *, urlencode: bool = False
) -> str:
    skipped = set(skip)
    glued = ""
    for key in sorted(params):
        value = params[key]
        if key in skipped or value is None or value == "":
            continue
        text = php_string(value)
        if urlencode:
            text = php_urlencode(text)
        glued += f"{key}={text}&"
    return glued[:-1]


def php_string(value: object) -> str:
    if value is True:
        return "1"
    if value is False:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def epay_sign(params: Mapping[str, object], key: str, *, urlencode: bool = False) -> str:
    """epay V1 (and Linux Credit's notify): skip sign/sign_type, key appended directly."""
    return md5_hex(sign_content(params, ("sign", "sign_type"), urlencode=urlencode) + key)


def xh_hash(params: Mapping[str, object], app_secret: str) -> str:
    """hupijiao's ``generate_xh_hash``: skip hash, APPSECRET appended directly."""
    return md5_hex(sign_content(params, ("hash",)) + app_secret)


def ldc_string(params: Mapping[str, str], client_secret: str) -> bytes:
    return (sign_content(params, ("sign", "sign_type")) + client_secret).encode("utf-8")


def ldc_verify(
    params: Mapping[str, str], client_secret: str, public_key: Ed25519PublicKey, sign: str
) -> bool:
    try:
        signature = base64.b64decode(sign, validate=True)
        public_key.verify(signature, ldc_string(params, client_secret))
    except Exception:
        return False
    return len(signature) == 64


def ldc_sign(params: Mapping[str, str], client_secret: str, private_key: Ed25519PrivateKey) -> str:
    return base64.b64encode(private_key.sign(ldc_string(params, client_secret))).decode()
