"""API-key scopes: the original's grammar, matching and /v1 rule table.

Grantable scopes are ``*`` (everything), ``module:*`` (every action of a module) and
``module:action``, where module and action are one or more lowercase ASCII letters.
Everything else is invalid: ``*:*``, ``*:read``, ``Billing:read``, ``a:b:c``,
``billing: read``, ``:read``, ``billing:``, ``billing``, digits, ``_`` or ``-``.

A key with no scopes may do everything (the original's rule, kept for its clients).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from domain.apikeys.errors import InvalidScope

WILDCARD = "*"

BILLING_READ = "billing:read"
BILLING_WRITE = "billing:write"
ADMIN_READ = "admin:read"
ADMIN_WRITE = "admin:write"
QUOTA_READ = "quota:read"
MUSIC_READ = "music:read"

_GRANTABLE = re.compile(r"\*|[a-z]+:(?:\*|[a-z]+)")
_CONCRETE = re.compile(r"([a-z]+):[a-z]+")

_MAX_SHOWN = 64


def is_grantable(scope: str) -> bool:
    return _GRANTABLE.fullmatch(scope) is not None


def normalise_scopes(raw: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, empty entries dropped, duplicates removed (first occurrence kept), every
    entry checked; raises :class:`InvalidScope` naming the first bad one."""
    kept: dict[str, None] = {}
    for entry in raw:
        scope = entry.strip()
        if not scope:
            continue
        if not is_grantable(scope):
            shown = scope if len(scope) <= _MAX_SHOWN else scope[:_MAX_SHOWN] + "…"
            raise InvalidScope(
                f"invalid scope {shown!r}: use *, module:* or module:action (a-z only)"
            )
        kept.setdefault(scope)
    return tuple(kept)


def scope_allows(granted: Collection[str], required: str) -> bool:
    """Whether a key granted ``granted`` may act under ``required``.

    A required scope that is not a concrete ``module:action`` (empty, containing ``*``,
    or malformed) never matches, whatever was granted: a wildcard must not be usable to
    ask for "anything". Otherwise no grants means every scope, ``*`` matches every scope,
    ``module:*`` every action of the module, and ``module:action`` itself.
    """
    concrete = _CONCRETE.fullmatch(required)
    if concrete is None:
        return False
    if not granted:
        return True
    return required in granted or WILDCARD in granted or f"{concrete.group(1)}:*" in granted


# -- the original's ScopeMiddleware rule table (karpov-gateway.md §2.2 step 9) -----------

_SKIPPED_PREFIXES = (
    "/v1/auth/",
    "/v1/docs",
    "/v1/billing/callback/",
    "/v1/config/",
    "/healthz",
    "/readyz",
)

_ANY_METHOD: frozenset[str] = frozenset()
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# (methods, path prefixes, scope); the first rule whose method and prefix match decides.
# Methods are exact, as in the original: HEAD is not GET, PUT on /v1/billing/extra-usage
# matches no rule (and passes), just as it did there. ``_ANY_METHOD`` matches every method.
_RULES: tuple[tuple[frozenset[str], tuple[str, ...], str], ...] = (
    (
        frozenset({"POST"}),
        (
            "/v1/billing/orders",
            "/v1/billing/subscribe",
            "/v1/billing/subscription/",
            "/v1/billing/balance/topup",
            "/v1/billing/extra-usage",
        ),
        BILLING_WRITE,
    ),
    (
        frozenset({"GET"}),
        (
            "/v1/billing/orders",
            "/v1/billing/balance",
            "/v1/billing/invoices",
            "/v1/billing/me/plan",
            "/v1/billing/plans",
            "/v1/billing/payment-channels",
        ),
        BILLING_READ,
    ),
    (frozenset({"PUT", "DELETE"}), ("/v1/billing/plans/",), ADMIN_WRITE),
    (frozenset({"POST"}), ("/v1/billing/balance/adjust",), ADMIN_WRITE),
    (_ANY_METHOD, ("/v1/usage/",), QUOTA_READ),
    (_ANY_METHOD, ("/v1/qqmusic/", "/v1/netease/"), MUSIC_READ),
    (frozenset({"GET"}), ("/v1/admin/",), ADMIN_READ),
    (_WRITES, ("/v1/admin/",), ADMIN_WRITE),
)


def required_scope_for_path(method: str, path: str) -> str | None:
    """The scope an API-key caller needs for a /v1 request, or ``None`` when the path is
    skipped or matches no rule (the original let such requests pass)."""
    if path.startswith(_SKIPPED_PREFIXES):
        return None
    method = method.upper()
    for methods, prefixes, scope in _RULES:
        if (not methods or method in methods) and path.startswith(prefixes):
            return scope
    return None
