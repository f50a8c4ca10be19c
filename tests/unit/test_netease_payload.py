"""NetEase credential payloads and cookies: parsing an admin's payload, folding
``Set-Cookie`` answers in, and the login's expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from domain.clock import ManualClock
from domain.music.errors import InvalidCredentialPayload
from integrations.netease.cookies import (
    apply_set_cookies,
    format_cookie,
    issued,
    parse_cookie,
    parse_set_cookie,
    parse_set_cookies,
)
from integrations.netease.credentials import NeteaseCredentials
from integrations.netease.payload import LoginCookie, parse_payload

SECRET = "00AB12CD34EF"


def test_json_payload_as_the_original_took_it() -> None:
    login = parse_payload(json.dumps({"cookie": f"MUSIC_U={SECRET}; __csrf=abc"}).encode())
    assert dict(login.pairs) == {"MUSIC_U": SECRET, "__csrf": "abc"}
    assert login.expires_at is None


def test_raw_cookie_string_payload() -> None:
    login = parse_payload(f"  os=pc; MUSIC_U={SECRET}; Path=/; HttpOnly; __csrf=x \n".encode())
    assert dict(login.pairs) == {"os": "pc", "MUSIC_U": SECRET, "__csrf": "x"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1_798_761_600, datetime(2027, 1, 1, tzinfo=UTC)),
        ("2027-01-01T00:00:00+00:00", datetime(2027, 1, 1, tzinfo=UTC)),
        ("2027-01-01T00:00:00", datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_expiry_in_the_payload(value: object, expected: datetime) -> None:
    document = {"cookie": f"MUSIC_U={SECRET}", "expiresAt": value}
    assert parse_payload(json.dumps(document).encode()).expires_at == expected


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"os=pc; __csrf=abc",
        b"MUSIC_U=; __csrf=abc",
        b'{"cookie": "__csrf=abc"}',
        b'{"cookie": 42}',
        b'{"Cookie": "MUSIC_U=1"}',
        b'["MUSIC_U=1"]',
        b"{not json MUSIC_U=1",
        b'{"cookie": "MUSIC_U=1", "expiresAt": "tomorrow"}',
        b'{"cookie": "MUSIC_U=1", "expiresAt": true}',
        b'{"cookie": "MUSIC_U=1", "expiresAt": 1e300}',
        b"\xff\xfeMUSIC_U=1",
        b"MUSIC_U=" + b"a" * 9000,
    ],
)
def test_payloads_that_are_not_a_login(payload: bytes) -> None:
    with pytest.raises(InvalidCredentialPayload) as caught:
        parse_payload(payload)
    assert caught.value.field == "payload"
    assert "MUSIC_U=1" not in caught.value.message


def test_validate_payload_through_the_lifecycle() -> None:
    credentials = NeteaseCredentials(transport=None, clock=ManualClock())  # type: ignore[arg-type]
    assert credentials.provider == "netease"
    assert credentials.validate_payload(f"MUSIC_U={SECRET}".encode()) is None
    with pytest.raises(InvalidCredentialPayload):
        credentials.validate_payload(b"os=pc")


def test_payload_round_trip_and_repr_hides_the_cookie() -> None:
    when = datetime(2026, 1, 16, tzinfo=UTC)
    login = LoginCookie({"MUSIC_U": SECRET, "__csrf": "c"}, when)
    again = parse_payload(login.to_payload())
    assert dict(again.pairs) == dict(login.pairs) and again.expires_at == when
    assert SECRET not in repr(login)


def test_cookie_strings() -> None:
    assert parse_cookie("a=1; b = 2 ;c=x=y; a=3; junk") == {"a": "3", "b": "2", "c": "x=y"}
    assert format_cookie({"MUSIC_U": "1", "__csrf": "2"}) == "MUSIC_U=1; __csrf=2"


def test_set_cookie_headers() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    login = parse_set_cookie(
        "MUSIC_U=new; Max-Age=1296000; Expires=Fri, 16 Jan 2026 00:00:00 GMT; Path=/; HTTPOnly"
    )
    assert login is not None and login.value == "new" and not login.deletes
    assert login.expires_at(now) == now + timedelta(seconds=1_296_000)
    dated = parse_set_cookie("__csrf=c; Expires=Fri, 16 Jan 2026 00:00:00 GMT; Path=/")
    assert dated is not None and dated.expires_at(now) == datetime(2026, 1, 16, tzinfo=UTC)
    assert parse_set_cookie("garbage") is None
    gone = parse_set_cookie("MUSIC_U=; Max-Age=0; Path=/")
    assert gone is not None and gone.deletes
    assert parse_set_cookie("x=1; Max-Age=soon") == parse_set_cookie("x=1")


def test_applying_set_cookies() -> None:
    headers = [
        "MUSIC_U=new; Max-Age=10; Path=/",
        "MUSIC_U=newer; Max-Age=10; Path=/eapi/clientlog",
        "NMTID=n; Path=/",
        "old_one=; Max-Age=0",
    ]
    cookies = parse_set_cookies(headers)
    merged = apply_set_cookies({"MUSIC_U": "old", "old_one": "x", "os": "pc"}, cookies)
    assert merged == {"MUSIC_U": "newer", "os": "pc", "NMTID": "n"}
    found = issued(cookies, "MUSIC_U")
    assert found is not None and found.value == "newer"
    assert issued(parse_set_cookies(["MUSIC_U=a", "MUSIC_U=; Max-Age=0"]), "MUSIC_U") is None
