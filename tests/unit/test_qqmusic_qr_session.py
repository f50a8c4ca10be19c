"""QR login sessions are plain JSON, so any process can poll them."""

from __future__ import annotations

import json

import pytest

from integrations.qqmusic.qr_common import QrEvent, QrPlatform, QrSession, data_url, host_allowed


def test_a_session_round_trips_through_json() -> None:
    session = QrSession(QrPlatform.WECHAT, "071abcDEF", 404)
    assert QrSession.from_json(session.to_json()) == session
    assert json.loads(session.to_json())["platform"] == "wx"


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        '{"platform": "qq"}',
        '{"platform": "qq", "token": ""}',
        '{"platform": "icq", "token": "x"}',
        '{"platform": "qq", "token": "x", "last_code": "66"}',
        '{"platform": "qq", "token": "x", "last_code": true}',
        "not json",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        QrSession.from_json(text)


def test_the_token_stays_out_of_repr() -> None:
    assert "sekrit" not in repr(QrSession(QrPlatform.QQ, "sekrit"))


def test_terminal_events() -> None:
    assert {e for e in QrEvent if e.terminal} == {QrEvent.DONE, QrEvent.TIMEOUT, QrEvent.REFUSE}


def test_images_become_data_urls() -> None:
    assert data_url(b"\x89PNG", "image/png; charset=binary", "image/jpeg") == (
        "data:image/png;base64,iVBORw=="
    )
    assert data_url(b"x", "text/html", "image/jpeg").startswith("data:image/jpeg;base64,")


def test_only_listed_hosts_and_their_subdomains_are_followed() -> None:
    hosts = ("qq.com",)
    assert host_allowed("https://ssl.ptlogin2.graph.qq.com/check_sig?x=1", hosts)
    assert host_allowed("https://qq.com/", hosts)
    assert not host_allowed("https://evilqq.com/", hosts)
    assert not host_allowed("https://qq.com.evil.test/", hosts)
    assert not host_allowed("javascript:alert(1)", hosts)
    assert not host_allowed("ftp://qq.com/", hosts)
