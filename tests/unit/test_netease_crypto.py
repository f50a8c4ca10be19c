"""weapi and eapi round trips: our encryption read back by the fake's independent code,
the fake's encryption read back by ours, and vectors for NetEase's real RSA modulus."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from integrations.netease import crypto
from integrations.netease.crypto import (
    NETEASE_WEAPI_KEY,
    SECRET_KEY_ALPHABET,
    RsaPublicKey,
    decrypt_eapi_params,
    decrypt_eapi_response,
    eapi_form,
    eapi_params,
    random_secret_key,
    rsa_encrypt_secret_key,
    weapi_form,
    weapi_params,
)
from tests.fakes.netease import ciphers

# NetEase's weapi public key as the public clients ship it (PEM), e.g.
# NeteaseCloudMusicApiEnhanced/api-enhanced util/crypto.js.
NETEASE_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDgtQn2JZ34ZC28NWYpAUd98iZ37BUrX/aKzmFbt7clFSs6sXqH
auqKWqdtLkF2KexO40H1YTX8z2lSgBBOAxLsvaklV8k4cBFK9snQXE9/DDaFt6Rr7iVZMldczhC0JNgTz+SHXT6C
BHuX3e9SdB1Ua44oncaTWz7OBGLbCiK45wIDAQAB
-----END PUBLIC KEY-----"""

# The encSecKey for the second key "FFFFFFFFFFFFFFFF" under NetEase's modulus: published in
# many public NetEase clients that use that fixed key (e.g. the PHP and Python scrapers
# indexed alongside NeteaseCloudMusicApi), computed by none of our code.
F_KEY_ENC_SEC_KEY = (
    "257348aecb5e556c066de214e531faadd1c55d814f9be95fd06d6bff9f4c7a41f831f6394d5a3fd2e388"
    "1736d94a02ca919d952872e7d0a50ebfa1769a7a62d512f5f1ca21aec60bc3819a9c3ffca5eca9a0dba6d6"
    "f7249b06f5965ecfff3695b54e1c28f3f624750ed39e7de08fc8493242e26dbc4484a01c76f739e135637c"
)

PAYLOAD = {"ids": "[347230]", "level": "exhigh", "encodeType": "flac", "s": "周杰伦 & co"}


def published_numbers() -> rsa.RSAPublicNumbers:
    key = load_pem_public_key(NETEASE_PUBLIC_PEM)
    assert isinstance(key, rsa.RSAPublicKey)
    return key.public_numbers()


def fake_public() -> RsaPublicKey:
    numbers = ciphers.fake_rsa_key().public_key().public_numbers()
    return RsaPublicKey(numbers.n, numbers.e)


# -- weapi -------------------------------------------------------------------------------


def test_our_constant_is_netease_published_key() -> None:
    numbers = published_numbers()
    assert (NETEASE_WEAPI_KEY.modulus, NETEASE_WEAPI_KEY.exponent) == (numbers.n, numbers.e)


def test_enc_sec_key_matches_the_published_vector_for_the_real_modulus() -> None:
    assert rsa_encrypt_secret_key("F" * 16) == F_KEY_ENC_SEC_KEY
    form = weapi_form(PAYLOAD, secret_key="F" * 16)
    assert form["encSecKey"] == F_KEY_ENC_SEC_KEY and len(form["encSecKey"]) == 256


def test_enc_sec_key_for_the_real_modulus_is_textbook_rsa_of_the_reversed_key() -> None:
    key = "a1B2c3D4e5F6g7H8"
    numbers = published_numbers()
    expected = pow(int.from_bytes(key[::-1].encode(), "big"), numbers.e, numbers.n)
    assert int(rsa_encrypt_secret_key(key), 16) == expected


def test_weapi_params_decrypt_with_the_two_keys() -> None:
    text = crypto.to_json(PAYLOAD)
    params = weapi_params(text, "F" * 16)
    outer = ciphers.cbc_decrypt(base64.b64decode(params), b"F" * 16)
    assert ciphers.cbc_decrypt(base64.b64decode(outer), ciphers.PRESET_KEY).decode() == text


def test_ours_decrypts_with_the_fakes_private_key() -> None:
    form = weapi_form(PAYLOAD, rsa_key=fake_public())
    assert ciphers.weapi_decrypt(form["params"], form["encSecKey"], ciphers.fake_rsa_key()) == (
        PAYLOAD
    )


def test_ours_equals_the_independent_encryption_for_the_same_key() -> None:
    public = fake_public()
    theirs = ciphers.weapi_encrypt(PAYLOAD, "Zz09Yy18Xx27Ww36", public.modulus, public.exponent)
    assert weapi_form(PAYLOAD, secret_key="Zz09Yy18Xx27Ww36", rsa_key=public) == theirs


def test_each_call_draws_a_fresh_second_key() -> None:
    keys = {random_secret_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 16 and set(k) <= set(SECRET_KEY_ALPHABET) for k in keys)
    first, second = weapi_form(PAYLOAD), weapi_form(PAYLOAD)
    assert first["encSecKey"] != second["encSecKey"] and first["params"] != second["params"]


def test_weapi_refuses_keys_it_cannot_send() -> None:
    with pytest.raises(ValueError):
        weapi_params("{}", "short")
    with pytest.raises(ValueError):
        rsa_encrypt_secret_key("F" * 16, RsaPublicKey(modulus=2**64 + 13, exponent=3))


# -- eapi --------------------------------------------------------------------------------


def test_ours_is_read_by_the_fake() -> None:
    form = eapi_form("/api/song/enhance/player/url/v1", PAYLOAD)
    call = ciphers.eapi_decrypt(form["params"])
    assert call.api_path == "/api/song/enhance/player/url/v1" and call.payload == PAYLOAD
    assert form["params"] == form["params"].upper()


def test_ours_equals_the_independent_encryption() -> None:
    path = "/api/song/lyric/v1"
    assert eapi_form(path, PAYLOAD)["params"] == ciphers.eapi_encrypt(path, PAYLOAD)


def test_theirs_is_read_by_ours() -> None:
    params = ciphers.eapi_encrypt("/api/cloudsearch/pc", PAYLOAD)
    request = decrypt_eapi_params(params)
    assert request.api_path == "/api/cloudsearch/pc" and request.digest_ok
    assert json.loads(request.text) == PAYLOAD


def test_a_tampered_digest_is_noticed() -> None:
    plain = f"/api/x-36cd479b6b5-{{}}-36cd479b6b5-{'0' * 32}".encode()
    assert not decrypt_eapi_params(ciphers.ecb_encrypt(plain).hex()).digest_ok
    with pytest.raises(ValueError):
        decrypt_eapi_params(ciphers.ecb_encrypt(b"no separators here").hex())


def test_the_digest_is_md5_of_the_nobody_use_message() -> None:
    params = eapi_params("/api/a", '{"b":1}')
    plain = ciphers.ecb_decrypt(bytes.fromhex(params)).decode()
    assert plain.split("-36cd479b6b5-")[2] == ciphers.eapi_tag("/api/a", '{"b":1}')


@pytest.mark.parametrize("compress", [False, True])
def test_encrypted_answers_are_read(compress: bool) -> None:
    body = {"code": 200, "lrc": {"version": 1, "lyric": "[00:01.00]光"}}
    assert decrypt_eapi_response(ciphers.encrypt_answer(body, compress=compress)) == body


def test_what_is_not_an_encrypted_answer_is_refused() -> None:
    for raw in (b"abc", b"\x00" * 16, ciphers.ecb_encrypt(b"not json")):
        with pytest.raises(ValueError):
            decrypt_eapi_response(raw)
