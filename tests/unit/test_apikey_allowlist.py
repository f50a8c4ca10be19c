"""IP allowlists: validation and canonical form of rules, and matching client addresses."""

from __future__ import annotations

import pytest

from domain.apikeys.allowlist import (
    canonical_rule,
    compile_allowlist,
    ip_allowed,
    normalise_allowlist,
    parse_client_ip,
)
from domain.apikeys.errors import InvalidIpRule
from domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("rule", "canonical"),
    [
        ("203.0.113.7", "203.0.113.7"),
        (" 203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7/32", "203.0.113.7"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3/8", "10.0.0.0/8"),  # host bits cleared, as Go's ParseCIDR matched it
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8::1/128", "2001:db8::1"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("2001:db8:1234::1/32", "2001:db8::/32"),
        ("::/0", "::/0"),
        ("::1", "::1"),
        # IPv4-mapped IPv6 rules mean the IPv4 address or block.
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
    ],
)
def test_rules_are_put_in_canonical_form(rule: str, canonical: str) -> None:
    assert canonical_rule(rule) == canonical


@pytest.mark.parametrize(
    "rule",
    [
        "localhost",
        "example.com",
        "256.0.0.1",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "10.0.0.0/33",
        "10.0.0.0/-1",
        "10.0.0.0/",
        "/8",
        "2001:db8::/129",
        "2001:db8:::1",
        "fe80::1%eth0",
        "1.2.3.4:80",
        "[::1]",
        "10.0.0.0/8/8",
        "10.0.0.0 /8",
        "*",
    ],
)
def test_invalid_rules_are_field_errors_naming_the_entry(rule: str) -> None:
    with pytest.raises(InvalidIpRule) as raised:
        normalise_allowlist(["10.0.0.0/8", rule])

    error = raised.value
    assert isinstance(error, InvalidInput)
    assert error.field == "ipAllowlist"
    assert repr(rule) in error.message


def test_normalise_drops_empty_and_dedupes_by_canonical_form() -> None:
    raw = ["10.1.2.3/8", "", "  ", "203.0.113.7/32", "10.0.0.0/8", "203.0.113.7", "::1"]
    assert normalise_allowlist(raw) == ("10.0.0.0/8", "203.0.113.7", "::1")
    assert normalise_allowlist([]) == ()


@pytest.mark.parametrize(
    ("client", "parsed"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7:51234", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("[::ffff:203.0.113.7]:80", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::1"),
        (" 203.0.113.7 ", "203.0.113.7"),
    ],
)
def test_client_addresses_lose_port_zone_and_mapping(client: str, parsed: str) -> None:
    assert str(parse_client_ip(client)) == parsed


@pytest.mark.parametrize(
    "client",
    [None, "", "unknown", "203.0.113", "203.0.113.7:80:90", "[2001:db8::1", "[::1]x", "a.b.c.d"],
)
def test_unparsable_client_addresses(client: str | None) -> None:
    assert parse_client_ip(client) is None


RULES = ("10.0.0.0/8", "203.0.113.7", "2001:db8::/32", "::1")


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        ("10.0.0.0", True),
        ("10.255.255.255", True),
        ("10.20.30.40:9999", True),
        ("11.0.0.0", False),
        ("9.255.255.255", False),
        ("203.0.113.7", True),
        ("203.0.113.8", False),
        ("2001:db8::1", True),
        ("[2001:db8:ffff::1]:443", True),
        ("2001:db9::1", False),
        ("::1", True),
        ("::2", False),
        # An IPv4-mapped IPv6 client matches the IPv4 rules.
        ("::ffff:10.1.1.1", True),
        ("::ffff:203.0.113.7", True),
        ("::ffff:203.0.113.8", False),
        # With rules, a missing or unparsable client address is denied.
        (None, False),
        ("", False),
        ("garbage", False),
    ],
)
def test_matching(client: str | None, allowed: bool) -> None:
    assert ip_allowed(RULES, client) is allowed
    assert ip_allowed(list(RULES), client) is allowed


@pytest.mark.parametrize("client", ["203.0.113.7", "::1", None, "", "garbage"])
def test_no_rules_means_any_address(client: str | None) -> None:
    assert ip_allowed((), client) is True


def test_an_ipv4_rule_does_not_match_the_same_number_as_ipv6() -> None:
    # 10.0.0.1 as a 128-bit number is ::a00:1, which is not the IPv4 address.
    assert ip_allowed(("10.0.0.0/8",), "::a00:1") is False
    assert ip_allowed(("::a00:0/104",), "10.0.0.1") is False


def test_mapped_rules_match_plain_ipv4_clients() -> None:
    rules = normalise_allowlist(["::ffff:192.0.2.0/120"])
    assert ip_allowed(rules, "192.0.2.99")


def test_everything_rules() -> None:
    assert ip_allowed(("0.0.0.0/0",), "198.51.100.1")
    assert not ip_allowed(("0.0.0.0/0",), "2001:db8::1")
    assert ip_allowed(("0.0.0.0/0", "::/0"), "2001:db8::1")


def test_unusable_stored_rules_deny_instead_of_allowing_everyone() -> None:
    # Stored rules are validated on write; hand-edited garbage must not open the key up.
    assert ip_allowed(("not-an-ip",), "203.0.113.7") is False
    assert ip_allowed(("not-an-ip", "203.0.113.7"), "203.0.113.7") is True


def test_compiled_allowlists_are_cached_per_rule_tuple() -> None:
    assert compile_allowlist(RULES) is compile_allowlist(tuple(list(RULES)))
    assert compile_allowlist(()).allows("anything")
