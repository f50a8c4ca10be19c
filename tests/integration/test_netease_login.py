"""Each NetEase login operation (for the admin-only ``/v1/netease/auth/*`` routes) against
the fake: NetEase's JSON passed through, and on success the cookie, ready for the pool."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domain.music.errors import UpstreamUnreachable
from domain.music.model import CredentialSecret
from integrations.netease.cookies import parse_cookie
from integrations.netease.login import LoginAnswer, anonymous_username
from tests.integration.netease_harness import START, Harness, harness


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as built:
        yield built


async def assert_pools(h: Harness, answer: LoginAnswer, nickname: str) -> None:
    """The answer's cookie is a live login, and its payload is one the pool accepts."""
    assert answer.cookie is not None
    pairs = parse_cookie(answer.cookie)
    assert set(pairs) >= {"MUSIC_U", "__csrf"}
    assert all(";" not in v and "Path" not in v for v in pairs.values())
    assert h.fake.logins.who(pairs["MUSIC_U"]) is not None
    assert h.fake.logins.who(pairs["MUSIC_U"]).account.nickname == nickname  # type: ignore[union-attr]
    payload = answer.payload()
    assert payload is not None
    assert h.credentials.validate_payload(payload) == START + timedelta(seconds=1_296_000)
    await h.credentials.check(CredentialSecret("new", payload))
    assert answer.passthrough()["cookie"] == answer.cookie


async def test_cellphone_login_with_password(h: Harness) -> None:
    answer = await h.login.login_cellphone("13800000000", password="hunter2")
    assert answer.code == 200 and answer.body["loginType"] == 1
    assert answer.body["profile"]["nickname"] == "vip-listener"
    assert answer.expires_at == START + timedelta(seconds=1_296_000)
    await assert_pools(h, answer, "vip-listener")
    call = h.fake.calls_to("/api/w/login/cellphone")[0]
    assert (
        call.crypto == "weapi" and call.payload["password"] == hashlib.md5(b"hunter2").hexdigest()
    )
    assert call.payload["countrycode"] == "86" and call.payload["remember"] == "true"


async def test_cellphone_login_with_md5_password(h: Harness) -> None:
    digest = hashlib.md5(b"correct horse").hexdigest().upper()
    answer = await h.login.login_cellphone("13900000000", md5_password=digest)
    assert answer.code == 200
    await assert_pools(h, answer, "free-listener")


async def test_cellphone_login_refusals_pass_through(h: Harness) -> None:
    wrong = await h.login.login_cellphone("13800000000", password="nope")
    assert wrong.body == {"msg": "密码错误", "code": 502, "message": "密码错误"}
    assert wrong.cookie is None and wrong.payload() is None
    assert wrong.passthrough() == wrong.body
    unknown = await h.login.login_cellphone("13800000000", password="hunter2", country_code="1")
    assert unknown.code == 501 and unknown.cookie is None


async def test_cellphone_login_with_a_captcha(h: Harness) -> None:
    sent = await h.login.captcha_sent("13800000000")
    assert sent.body == {"code": 200, "message": "", "data": True}
    again = await h.login.captcha_sent("13800000000")
    assert again.code == 405 and again.body["data"] is False  # NetEase: too soon
    bad = await h.login.captcha_verify("13800000000", "0000")
    assert bad.body == {"code": 503, "message": "验证码错误", "data": False}
    good = await h.login.captcha_verify("13800000000", "2468")
    assert good.body["data"] is True
    answer = await h.login.login_cellphone("13800000000", captcha="2468")
    assert answer.code == 200
    await assert_pools(h, answer, "vip-listener")
    assert "password" not in h.fake.calls_to("/api/w/login/cellphone")[0].payload
    wrong = await h.login.login_cellphone("13800000000", captcha="1111")
    assert wrong.code == 503 and wrong.cookie is None


async def test_captcha_for_another_country_code(h: Harness) -> None:
    await h.login.captcha_sent("5550100", country_code="1")
    call = h.fake.calls_to("/api/sms/captcha/sent")[0]
    assert call.payload == {
        "ctcode": "1", "secrete": "music_middleuser_pclogin", "cellphone": "5550100",
        "csrf_token": "",
    }  # fmt: skip
    assert (await h.login.captcha_verify("5550100", "2468", country_code="1")).code == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"password": "a", "md5_password": "0" * 32},
        {"md5_password": "not-hex"},
        {"password": ""},
        {"captcha": "1234", "password": "a"},
        {"captcha": " "},
    ],
)
async def test_cellphone_login_input_is_checked(h: Harness, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        await h.login.login_cellphone("13800000000", **kwargs)
    with pytest.raises(ValueError, match="phone"):
        await h.login.login_cellphone(" ", password="x")
    assert h.fake.calls == []


async def test_email_login(h: Harness) -> None:
    answer = await h.login.login_email("vip@163.com", password="hunter2")
    assert answer.code == 200 and answer.body["loginType"] == 0
    await assert_pools(h, answer, "vip-listener")
    md5 = await h.login.login_email(
        "free@163.com", md5_password=hashlib.md5(b"correct horse").hexdigest()
    )
    await assert_pools(h, md5, "free-listener")
    wrong = await h.login.login_email("vip@163.com", password="nope")
    assert wrong.code == 502 and wrong.cookie is None
    with pytest.raises(ValueError, match="email"):
        await h.login.login_email("", password="x")


async def test_qr_login_follows_the_scan_sequence(h: Harness) -> None:
    h.fake.logins.qr_script = [801, 801, 802, 803]
    key_answer = await h.login.qr_key()
    assert key_answer.code == 200
    key = key_answer.body["unikey"]
    qr = h.login.qr_create(key)
    assert qr.url == f"https://music.163.com/login?codekey={key}" and qr.image is None
    with_image = h.login.qr_create(key, image=True)
    assert with_image.image is not None and with_image.image.startswith("data:image/svg+xml")

    codes = []
    while True:
        answer = await h.login.qr_check(key)
        codes.append(answer.code)
        if answer.code == 803:
            break
        assert answer.cookie is None
        if answer.code == 802:
            assert answer.body["nickname"] == "vip-listener"
    assert codes == [801, 801, 802, 803]
    assert answer.body["message"] == "授权登陆成功"
    await assert_pools(h, answer, "vip-listener")
    spent = await h.login.qr_check(key)  # a key logs in once
    assert spent.code == 800 and spent.cookie is None


async def test_qr_check_of_an_unknown_key_is_expired(h: Harness) -> None:
    answer = await h.login.qr_check("no-such-key")
    assert answer.body == {"code": 800, "message": "二维码不存在或已过期"}


async def test_refresh_operation_returns_the_renewed_cookie(h: Harness) -> None:
    cookie = h.fake.issue_cookie()
    answer = await h.login.refresh(cookie)
    assert answer.code == 200 and answer.cookie is not None
    assert parse_cookie(answer.cookie)["MUSIC_U"] != parse_cookie(cookie)["MUSIC_U"]
    await assert_pools(h, answer, "vip-listener")
    stale = await h.login.refresh(cookie)  # the old cookie was ended by the refresh
    assert stale.body["code"] == 301 and stale.cookie is None


async def test_login_status(h: Harness) -> None:
    live = await h.login.login_status(h.fake.issue_cookie("free-listener"))
    assert live.body["profile"]["nickname"] == "free-listener" and live.cookie is None
    assert live.body["account"]["vipType"] == 0
    nobody = await h.login.login_status(None)
    assert nobody.body == {"code": 200, "account": None, "profile": None}


async def test_register_anonymous(h: Harness) -> None:
    answer = await h.login.register_anonymous()
    assert answer.code == 200 and answer.body["userId"] > 0
    assert answer.cookie is not None and answer.cookie.startswith("MUSIC_A=")
    assert parse_cookie(answer.cookie)["MUSIC_A"] in h.fake.logins.visitors
    assert answer.payload() is None  # a visitor is not an account for the pool


def test_anonymous_username_vector() -> None:
    # The encoding the NetEase clients use (device id, space, base64 MD5 of the id XORed
    # with the fixed key), computed independently for this id.
    device_id = "0123456789ABCDEF0123456789ABCDEF"
    key = b"3go8&$8*3*3h0k(2)2"
    xored = bytes(b ^ key[i % len(key)] for i, b in enumerate(device_id.encode()))
    digest = base64.b64encode(hashlib.md5(xored).digest()).decode()
    expected = base64.b64encode(f"{device_id} {digest}".encode()).decode()
    assert anonymous_username(device_id) == expected


async def test_transport_trouble_raises() -> None:
    async with harness(timeout=0.05) as h:
        h.fake.delay = 5.0
        with pytest.raises(UpstreamUnreachable):
            await h.login.qr_key()


async def test_login_answers_never_log_or_repr_the_cookie(h: Harness) -> None:
    answer = await h.login.login_cellphone("13800000000", password="hunter2")
    assert answer.cookie is not None
    # NetEase's login answer carries the token in its body too: neither shows in a repr.
    assert parse_cookie(answer.cookie)["MUSIC_U"] not in repr(answer)
    assert answer.body["token"] not in repr(answer)
