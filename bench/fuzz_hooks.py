"""Schemathesis hooks of ``bench.fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

GraphQL answers an expected failure (``UNAUTHENTICATED``, ``INVALID_INPUT``…) as an entry
of ``errors`` with a stable code; schemathesis' own GraphQL check counts every such entry
as a server error. ``no_internal_error`` fails only what is one: a 5xx, or an error masked
as ``INTERNAL`` (an unexpected exception in a resolver)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def no_internal_error(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 500:
        raise AssertionError(f"server error {response.status_code}: {response.text[:300]}")
    try:
        body = json.loads(response.text)
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or ():
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        if code == "INTERNAL":
            raise AssertionError(f"internal error: {json.dumps(error)[:300]}")
    return None
