"""``next`` and the frontend redirects of OAuth login: no open redirect, whatever the
spelling (reference §6 item 9: the original let ``/\\evil.com`` through)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from domain.errors import InvalidInput
from domain.oauth.redirects import RedirectTargets
from domain.oauth.service import code_verifier

FRONTEND = "https://app.example.com"
TARGETS = RedirectTargets(FRONTEND + "/")


@pytest.mark.parametrize(
    "bad",
    [
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\\/evil.example",
        "https://evil.example",
        "HTTPS://EVIL.EXAMPLE/",
        "http://app.example.com/",
        "https://app.example.com:8443/",
        "https://app.example.com.evil.example/",
        "https://app.example.com@evil.example/",
        "https://user:pw@app.example.com/",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>1</script>",
        "vbscript:x",
        "evil.example/path",
        "about:blank",
        "/a\nb",
        "/a\rb",
        "/a\tb",
        "/a\x00b",
        "/a\x7fb",
        "/a b",
        "/a\u2028b",
        " /leading-space",
        "/" + "a" * 2048,
    ],
)
def test_bad_next_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        TARGETS.check_next(bad)
    assert caught.value.field == "next"


@pytest.mark.parametrize(
    ("given", "lands"),
    [
        ("/", f"{FRONTEND}/"),
        ("/dashboard", f"{FRONTEND}/dashboard"),
        ("/a/b?c=d&e=%2F%2Fx#frag", f"{FRONTEND}/a/b?c=d&e=%2F%2Fx#frag"),
        ("/%2F%2Fevil.example", f"{FRONTEND}/%2F%2Fevil.example"),  # a path, not a host
        ("/привет", f"{FRONTEND}/привет"),
        (f"{FRONTEND}/welcome?x=1", f"{FRONTEND}/welcome?x=1"),
        ("https://APP.example.com/x", "https://APP.example.com/x"),
    ],
)
def test_good_next_is_kept(given: str, lands: str) -> None:
    assert TARGETS.after_login(TARGETS.check_next(given)) == lands


def test_no_next_lands_on_the_frontend_root() -> None:
    assert TARGETS.check_next(None) is None
    assert TARGETS.check_next("") is None
    assert TARGETS.after_login(None) == f"{FRONTEND}/"


def test_relative_next_lands_on_the_frontend_origin_even_under_a_base_path() -> None:
    targets = RedirectTargets("https://example.com/app/")
    assert targets.after_login("/x") == "https://example.com/x"
    assert (
        targets.error("state_missing", None)
        == "https://example.com/app/oauth-error?code=state_missing"
    )
    assert targets.after_bind() == "https://example.com/app/settings?bind=ok"


def test_error_redirect_carries_code_and_a_short_message_only() -> None:
    short = urlsplit(TARGETS.error("validate_failed", "too low & <b>"))
    assert (short.scheme, short.netloc, short.path) == ("https", "app.example.com", "/oauth-error")
    assert parse_qs(short.query) == {"code": ["validate_failed"], "message": ["too low & <b>"]}
    long = urlsplit(TARGETS.error("x", "m" * 200))
    assert parse_qs(long.query) == {"code": ["x"]}


def test_totp_redirect_carries_the_challenge_and_next() -> None:
    url = urlsplit(TARGETS.totp_challenge("abc_-1", "/after?x=1"))
    assert url.path == "/oauth-totp"
    assert parse_qs(url.query) == {"challengeId": ["abc_-1"], "next": ["/after?x=1"]}


def test_a_frontend_base_must_be_absolute_http() -> None:
    for bad in ("app.example.com", "ftp://app.example.com", "/relative"):
        with pytest.raises(ValueError):
            RedirectTargets(bad)


def test_the_pkce_verifier_is_bound_to_cookie_and_state() -> None:
    verifier = code_verifier("cookie-a", "state-1")
    assert len(verifier) == 43
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert verifier == code_verifier("cookie-a", "state-1")
    assert verifier != code_verifier("cookie-b", "state-1")
    assert verifier != code_verifier("cookie-a", "state-2")
