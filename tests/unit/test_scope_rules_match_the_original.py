"""Scopes are enforced by operation name (so GraphQL and /v1 agree), the original by path
(reference §2.2 step 9). For every /v1 route the two rules must ask an API key for the same
scope: the route's GraphQL twin, under the operation rule, needs exactly what the
original's path table says."""

from __future__ import annotations

import pytest

from domain.apikeys.scopes import required_scope_for_path
from domain.quota.access import Operation, scope_for
from rest.routes import ROUTES


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_the_operation_rule_asks_what_the_originals_path_rule_asks(route: object) -> None:
    method, path = route.method, route.path  # type: ignore[attr-defined]
    # As the router names it: by its twin, or by its path when it has none (a redirect).
    name = route.twin or path  # type: ignore[attr-defined]
    concrete = path.replace("{id}", "0123456789abcdef0123456789abcdef")
    # {provider}: an OAuth provider on the sign-in routes, a music provider elsewhere.
    provider = "linuxdo" if path.startswith("/v1/auth/") else "qqmusic"
    concrete = concrete.replace("{provider}", provider)
    expected = required_scope_for_path(method, concrete)
    assert scope_for(Operation(name, mutation=method != "GET")) == expected
