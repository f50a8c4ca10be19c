"""E-mail normalisation and the deliberately simple syntax check."""

from __future__ import annotations

import pytest

from domain.accounts.emails import MAX_EMAIL_LENGTH, normalize_email
from domain.errors import InvalidInput

LONG_DOMAIN = ".".join(["b" * 63] * 4)  # 255 characters, every label legal


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("user@example.com", "user@example.com"),
        ("  user@example.com\t\n", "user@example.com"),
        ("User@Example.COM", "user@example.com"),
        ("  First.Last+Tag@Mail.Example.co.UK ", "first.last+tag@mail.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("a@b.co", "a@b.co"),
        ("user_name-1@sub-domain.example.org", "user_name-1@sub-domain.example.org"),
        ("12345@qq.com", "12345@qq.com"),
        ("x@123.example", "x@123.example"),
        ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    ],
)
def test_plausible_addresses_are_trimmed_and_lower_cased(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


def test_the_longest_allowed_address_is_accepted() -> None:
    email = "a@" + ".".join(["b" * 63] * 3) + "." + "c" * 60
    assert len(email) == MAX_EMAIL_LENGTH

    assert normalize_email(email) == email


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("userexample.com", id="no @"),
        pytest.param("user@", id="trailing @"),
        pytest.param("a@b@example.com", id="two @"),
        pytest.param("@example.com", id="empty local part"),
        pytest.param("user@example", id="no dot in the domain"),
        pytest.param("us er@example.com", id="space in the local part"),
        pytest.param("user@exa mple.com", id="space in the domain"),
        pytest.param("user @example.com", id="space before @"),
        pytest.param("a" * 65 + "@example.com", id="local part over 64"),
        pytest.param("a@" + LONG_DOMAIN, id="over 254 in total"),
        pytest.param(".user@example.com", id="leading dot in the local part"),
        pytest.param("user.@example.com", id="trailing dot in the local part"),
        pytest.param("us..er@example.com", id="double dot in the local part"),
        pytest.param("user@.example.com", id="leading dot in the domain"),
        pytest.param("user@example.com.", id="trailing dot in the domain"),
        pytest.param("a@b..c", id="double dot in the domain"),
        pytest.param("user@-example.com", id="label starts with a hyphen"),
        pytest.param("user@example-.com", id="label ends with a hyphen"),
        pytest.param("user@exa_mple.com", id="underscore in the domain"),
        pytest.param("user@example.123", id="numeric top-level label"),
        pytest.param("user@" + "b" * 64 + ".com", id="label over 63"),
        pytest.param("<user@example.com>", id="angle brackets"),
        pytest.param("user@example.com, x@example.com", id="two addresses"),
        pytest.param("usér@example.com", id="non-ASCII local part"),
        pytest.param("user\n@example.com", id="newline in the local part"),
        pytest.param("user@example\n.com", id="newline in a domain label"),
    ],
)
def test_implausible_addresses_are_rejected_on_the_email_field(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_email(raw)

    assert caught.value.field == "email"
    assert caught.value.code == "INVALID_INPUT"
