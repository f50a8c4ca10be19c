"""Scopes: the original's grammar, normalisation, matching and /v1 rule table."""

from __future__ import annotations

import pytest

from domain.apikeys.errors import InvalidScope
from domain.apikeys.scopes import (
    is_grantable,
    normalise_scopes,
    required_scope_for_path,
    scope_allows,
)
from domain.errors import InvalidInput

VALID = ["*", "billing:*", "billing:read", "music:read", "admin:write", "a:b", "quota:read"]

INVALID = [
    "*:*",
    "*:read",
    "Billing:read",
    "billing:Read",
    "BILLING:READ",
    "a:b:c",
    "billing:read:extra",
    "billing: read",
    "billing :read",
    "bill ing:read",
    ":read",
    "billing:",
    ":",
    "billing",
    "read",
    "**",
    "billing:**",
    "billing:re*",
    "bill*:read",
    "billing:read2",
    "music_v2:read",
    "billing:read-only",
    "billing.read",
    "billing/read",
    "bïlling:read",
    "billing:read\n*",
]


@pytest.mark.parametrize("scope", VALID)
def test_grantable_scopes(scope: str) -> None:
    assert is_grantable(scope)
    assert normalise_scopes([scope]) == (scope,)


@pytest.mark.parametrize("scope", INVALID)
def test_invalid_scopes_are_field_errors_naming_the_scope(scope: str) -> None:
    assert not is_grantable(scope.strip())
    with pytest.raises(InvalidScope) as raised:
        normalise_scopes(["billing:read", scope])

    error = raised.value
    assert isinstance(error, InvalidInput)
    assert error.field == "scopes"
    assert repr(scope.strip()) in error.message


def test_normalise_trims_drops_empty_and_dedupes_keeping_order() -> None:
    raw = ["  music:read ", "", "billing:*", "   ", "music:read", "\tbilling:*\n", "*"]
    assert normalise_scopes(raw) == ("music:read", "billing:*", "*")


def test_normalise_of_nothing_is_empty_meaning_every_scope() -> None:
    assert normalise_scopes([]) == ()
    assert normalise_scopes(["", "  "]) == ()


def test_a_very_long_bad_scope_is_cut_in_the_message() -> None:
    with pytest.raises(InvalidScope) as raised:
        normalise_scopes(["X" * 10_000])
    assert len(raised.value.message) < 200


def test_normalise_accepts_any_iterable() -> None:
    assert normalise_scopes(s for s in ("a:b", "a:b")) == ("a:b",)


@pytest.mark.parametrize(
    ("granted", "required", "allowed"),
    [
        # No scopes at all: the original's wildcard.
        ((), "billing:read", True),
        ((), "admin:write", True),
        # "*" grants everything.
        (("*",), "billing:read", True),
        (("*",), "admin:write", True),
        # module:* grants every action of that module only.
        (("billing:*",), "billing:read", True),
        (("billing:*",), "billing:write", True),
        (("billing:*",), "admin:read", False),
        (("billing:*",), "billingx:read", False),
        # Exact scopes.
        (("billing:read",), "billing:read", True),
        (("billing:read",), "billing:write", False),
        (("billing:read", "music:read"), "music:read", True),
        (("music:read",), "music:write", False),
        (("music:read",), "musicx:read", False),
        # A required scope with "*" or nothing in it never matches, whatever was granted.
        ((), "*", False),
        (("*",), "*", False),
        (("*",), "billing:*", False),
        (("billing:*",), "billing:*", False),
        (("*",), "*:read", False),
        (("*",), "", False),
        ((), "", False),
        (("billing:read",), "", False),
        # Nor does a malformed one.
        (("*",), "billing", False),
        (("*",), "billing:", False),
        (("*",), "Billing:read", False),
        (("*",), "a:b:c", False),
        (("billing:*",), "billing:read:x", False),
    ],
)
def test_scope_allows(granted: tuple[str, ...], required: str, allowed: bool) -> None:
    assert scope_allows(granted, required) is allowed
    assert scope_allows(frozenset(granted), required) is allowed


# -- the /v1 rule table (karpov-gateway.md §2.2 step 9) -----------------------------------


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        # POST billing writes.
        ("POST", "/v1/billing/orders", "billing:write"),
        ("POST", "/v1/billing/orders/abc/refund", "billing:write"),
        ("POST", "/v1/billing/subscribe", "billing:write"),
        ("POST", "/v1/billing/subscription/cancel", "billing:write"),
        ("POST", "/v1/billing/balance/topup", "billing:write"),
        ("POST", "/v1/billing/extra-usage", "billing:write"),
        # GET billing reads.
        ("GET", "/v1/billing/orders", "billing:read"),
        ("GET", "/v1/billing/orders/abc", "billing:read"),
        ("GET", "/v1/billing/balance", "billing:read"),
        ("GET", "/v1/billing/balance/transactions", "billing:read"),
        ("GET", "/v1/billing/invoices", "billing:read"),
        ("GET", "/v1/billing/me/plan", "billing:read"),
        ("GET", "/v1/billing/plans", "billing:read"),
        ("GET", "/v1/billing/payment-channels", "billing:read"),
        # Plan management and balance adjustment are admin writes.
        ("PUT", "/v1/billing/plans/pro", "admin:write"),
        ("DELETE", "/v1/billing/plans/pro", "admin:write"),
        ("POST", "/v1/billing/balance/adjust", "admin:write"),
        # Usage, any method.
        ("GET", "/v1/usage/summary", "quota:read"),
        ("GET", "/v1/usage/history", "quota:read"),
        ("POST", "/v1/usage/anything", "quota:read"),
        # Music, any method (NetEase login helpers included).
        ("GET", "/v1/qqmusic/songs/1", "music:read"),
        ("GET", "/v1/netease/search/songs", "music:read"),
        ("POST", "/v1/netease/auth/login/qr/key", "music:read"),
        # Admin: GET reads, every write method writes.
        ("GET", "/v1/admin/users", "admin:read"),
        ("POST", "/v1/admin/users/u1/plan", "admin:write"),
        ("PUT", "/v1/admin/settings/payment", "admin:write"),
        ("PATCH", "/v1/admin/users/u1", "admin:write"),
        ("DELETE", "/v1/admin/pool/credentials/c1", "admin:write"),
        # Methods are case-insensitive on the way in.
        ("get", "/v1/admin/users", "admin:read"),
    ],
)
def test_rule_table(method: str, path: str, scope: str) -> None:
    assert required_scope_for_path(method, path) == scope


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # Skipped prefixes.
        ("GET", "/v1/auth/me"),
        ("POST", "/v1/auth/api-keys"),
        ("GET", "/v1/docs/openapi.json"),
        ("GET", "/v1/docs"),
        ("POST", "/v1/billing/callback/yipay"),
        ("GET", "/v1/billing/callback/ldcpay"),
        ("GET", "/v1/config/runtime"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        # Unmatched paths pass, as in the original.
        ("GET", "/v1/billing/extra-usage"),
        ("PUT", "/v1/billing/extra-usage"),
        ("GET", "/v1/billing/extra-usage/report"),
        ("GET", "/v1/something/else"),
        ("GET", "/graphql"),
        ("PUT", "/v1/billing/orders"),
        ("POST", "/v1/billing/plans/pro"),
        ("HEAD", "/v1/admin/users"),
        ("OPTIONS", "/v1/admin/users"),
    ],
)
def test_skipped_and_unmatched_paths_need_no_scope(method: str, path: str) -> None:
    assert required_scope_for_path(method, path) is None


def test_first_matching_rule_wins() -> None:
    # "/v1/billing/plans/pro" is also under the GET billing-read prefix "/v1/billing/plans".
    assert required_scope_for_path("GET", "/v1/billing/plans/pro") == "billing:read"
    # POST /v1/billing/balance/adjust is not under the POST billing-write prefixes.
    assert required_scope_for_path("POST", "/v1/billing/balance/adjust") == "admin:write"
    assert required_scope_for_path("POST", "/v1/billing/balance/topup") == "billing:write"
    # Prefixes match as in the original (plain string prefixes).
    assert required_scope_for_path("GET", "/v1/billing/balance/adjust") == "billing:read"


def test_every_rule_scope_is_grantable_and_concrete() -> None:
    paths = [
        ("POST", "/v1/billing/orders"),
        ("GET", "/v1/billing/orders"),
        ("PUT", "/v1/billing/plans/x"),
        ("GET", "/v1/usage/x"),
        ("GET", "/v1/qqmusic/x"),
        ("GET", "/v1/admin/x"),
        ("POST", "/v1/admin/x"),
    ]
    for method, path in paths:
        scope = required_scope_for_path(method, path)
        assert scope is not None and is_grantable(scope) and "*" not in scope
        assert scope_allows((), scope)
