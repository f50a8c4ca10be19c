"""The e-mail domain policy and the one-account-per-IP rule (reference §3.1)."""

from __future__ import annotations

import pytest

from domain.accounts.activation import token_link
from domain.accounts.email_policy import EmailFlowsPolicy
from domain.accounts.errors import EmailDomainNotAllowed


def test_an_empty_allow_list_allows_every_domain() -> None:
    EmailFlowsPolicy().check_domain("a@anything.example")


@pytest.mark.parametrize(
    ("email", "allowed"),
    [
        ("a@qq.com", True),
        ("a@sub.qq.com", False),  # exact entries do not cover subdomains
        ("a@pku.edu.cn", True),
        ("a@cs.pku.edu.cn", True),
        ("a@edu.cn", False),  # a suffix entry needs a label before it
        ("a@gmail.com", False),
    ],
)
def test_allow_list_exact_and_suffix_entries(email: str, allowed: bool) -> None:
    policy = EmailFlowsPolicy(allowed_domains=("QQ.com", "*.edu.cn"))
    if allowed:
        policy.check_domain(email)
    else:
        with pytest.raises(EmailDomainNotAllowed) as caught:
            policy.check_domain(email)
        assert caught.value.field == "email"


def test_the_block_list_wins_and_accepts_the_dot_form() -> None:
    policy = EmailFlowsPolicy(allowed_domains=("*.edu.cn",), blocked_domains=(".bad.edu.cn",))
    policy.check_domain("a@good.edu.cn")
    with pytest.raises(EmailDomainNotAllowed):
        policy.check_domain("a@x.bad.edu.cn")


def test_malformed_entries_are_ignored() -> None:
    policy = EmailFlowsPolicy(blocked_domains=("a@b.com", "has space.com", "x/y"))
    policy.check_domain("a@b.com")


def test_ip_claims_apply_only_when_the_rule_is_on_and_not_allow_listed() -> None:
    assert EmailFlowsPolicy().ip_claim("198.51.100.7") is None
    policy = EmailFlowsPolicy(one_account_per_ip=True, ip_allowlist=("10.0.0.0/8", "bogus"))
    assert policy.ip_claim("198.51.100.7") == "198.51.100.7"
    assert policy.ip_claim("10.1.2.3") is None
    assert policy.ip_claim(None) is None
    assert policy.ip_claim("not-an-ip") is None
    assert policy.ip_claim("2001:DB8::1") == "2001:db8::1"  # one spelling per address


@pytest.mark.parametrize(
    ("base", "link"),
    [
        ("https://app.example/activate?token=", "https://app.example/activate?token=T"),
        ("https://app.example/activate", "https://app.example/activate?token=T"),
        ("https://app.example/a?lang=en", "https://app.example/a?lang=en&token=T"),
    ],
)
def test_token_links_follow_the_original_rule(base: str, link: str) -> None:
    assert token_link(base, "T") == link
