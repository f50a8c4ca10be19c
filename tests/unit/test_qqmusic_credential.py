"""The QQ Music credential payload: both spellings, cookies, expiry, renewal."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.music.errors import InvalidCredentialPayload, UpstreamAuthFailed
from domain.music.model import CredentialSecret
from integrations.qqmusic.credential import (
    QQ_LOGIN,
    WECHAT_LOGIN,
    QQCredential,
    login_from_secret,
)

SNAKE = {
    "openid": "OPENID", "refresh_token": "RT", "access_token": "AT", "expired_at": 1_800_000_000,
    "musicid": 123456789, "musickey": "Q_H_L_5secret", "unionid": "UNION",
    "str_musicid": "123456789", "refresh_key": "RK", "musickey_create_time": 1_700_000_000,
    "key_expires_in": 259_200, "first_login": 1, "bind_account_type": 2,
    "need_refresh_key_in": 3600, "encrypt_uin": "owvF", "login_type": 2,
}  # fmt: skip
CAMEL = {
    "openid": "OPENID", "refreshToken": "RT", "accessToken": "AT", "expiredAt": 1_800_000_000,
    "musicid": "123456789", "musickey": "Q_H_L_5secret", "unionid": "UNION",
    "strMusicid": "123456789", "refreshKey": "RK", "musickeyCreateTime": 1_700_000_000,
    "keyExpiresIn": 259_200, "firstLogin": 1, "bindAccountType": 2, "needRefreshKeyIn": 3600,
    "encryptUin": "owvF", "loginType": 2,
}  # fmt: skip


def _parse(data: object) -> QQCredential:
    return QQCredential.from_payload(json.dumps(data).encode())


def test_snake_and_camel_keys_read_the_same() -> None:
    snake, camel = _parse(SNAKE), _parse(CAMEL)
    assert snake == camel
    assert snake.musicid == 123456789
    assert snake.refresh_key == "RK" and snake.refresh_token == "RT"
    assert snake.key_expires_in == 259_200 and snake.need_refresh_key_in == 3600
    assert snake.encrypt_uin == "owvF" and snake.bind_account_type == 2


def test_expiry_is_create_time_plus_lifetime() -> None:
    assert _parse(SNAKE).expires_at() == datetime.fromtimestamp(1_700_259_200, UTC)
    assert _parse({"musicid": 1, "musickey": "Q_H_L_x"}).expires_at() is None


def test_the_login_type_is_inferred_from_the_key() -> None:
    assert _parse({"musicid": 1, "musickey": "W_X_abc"}).login_type == WECHAT_LOGIN
    assert _parse({"musicid": 1, "musickey": "Q_H_L_abc"}).login_type == QQ_LOGIN
    assert _parse({"musicid": 1, "musickey": "W_X_abc", "loginType": 2}).login_type == QQ_LOGIN


def test_the_four_cookies_name_the_login() -> None:
    assert _parse(SNAKE).cookies() == {
        "uin": "123456789", "qqmusic_uin": "123456789",
        "qm_keyst": "Q_H_L_5secret", "qqmusic_key": "Q_H_L_5secret",
    }  # fmt: skip


def test_a_pasted_cookie_is_a_login_that_cannot_refresh() -> None:
    login = QQCredential.from_payload(b"uin=o0123456789; qqmusic_key=Q_H_L_5k; other=1")
    assert (login.musicid, login.musickey) == (123456789, "Q_H_L_5k")
    assert not login.can_refresh()


def test_the_payload_round_trips_with_the_upstreams_key_names() -> None:
    login = _parse(CAMEL)
    written = json.loads(login.to_payload())
    assert written["musickeyCreateTime"] == 1_700_000_000
    assert written["refresh_key"] == "RK"
    assert QQCredential.from_payload(login.to_payload()) == login


def test_renewal_keeps_what_the_answer_leaves_out() -> None:
    renewed = _parse(SNAKE).renewed_by(
        {"musickey": "Q_H_L_5new", "refreshKey": "RK2", "musickeyCreateTime": 1_700_100_000}
    )
    assert renewed.musickey == "Q_H_L_5new" and renewed.refresh_key == "RK2"
    assert renewed.openid == "OPENID" and renewed.refresh_token == "RT"
    assert renewed.expires_at() == datetime.fromtimestamp(1_700_359_200, UTC)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json and not a cookie",
        b"{broken",
        b"[1, 2]",
        json.dumps({"musicid": 1}).encode(),
        json.dumps({"musickey": "Q_H_L_x"}).encode(),
        json.dumps({"musicid": "abc", "musickey": "Q_H_L_x"}).encode(),
        b"\xff\xfe",
        b"{" + b" " * 20_000 + b"}",
    ],
)
def test_unusable_payloads_are_refused_without_echoing_them(payload: bytes) -> None:
    with pytest.raises(InvalidCredentialPayload) as caught:
        QQCredential.from_payload(payload)
    assert caught.value.field == "payload"
    assert "Q_H_L_x" not in caught.value.message


def test_secrets_stay_out_of_repr() -> None:
    text = repr(_parse(SNAKE))
    for secret in ("Q_H_L_5secret", "RK", "RT", "AT", "OPENID"):
        assert f"'{secret}'" not in text


def test_a_broken_pool_payload_is_a_dead_login() -> None:
    with pytest.raises(UpstreamAuthFailed):
        login_from_secret(CredentialSecret("cred-1", b"{}"))
