"""Schemathesis hooks of ``bench.fuzz`` (loaded through ``SCHEMATHESIS_HOOKS``).

GraphQL answers an expected failure (``UNAUTHENTICATED``, ``INVALID_INPUT``…) as an entry
of ``errors`` with a stable code; schemathesis' own GraphQL check counts every such entry
as a server error. ``no_internal_error`` fails only what is one: a 5xx, or an error masked
as ``INTERNAL`` (an unexpected exception in a resolver).

Path parameters: ``provider`` is drawn from the real providers (and the generated value),
``id`` from the ids the upstream fakes know (``KARPOV_FUZZ_UPSTREAM_IDS``, set by
``bench.fuzz``; and the generated value), so the music routes reach QQ Music's and
NetEase's fakes with songs, albums, artists, playlists and charts that exist, instead of
stopping at 404 ``unknown provider``."""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

PROVIDERS = ["local", "qqmusic", "netease"]
KNOWN_IDS: list[str] = json.loads(os.environ.get("KARPOV_FUZZ_UPSTREAM_IDS") or "[]")


@schemathesis.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> Any:
    if not isinstance(path_parameters, dict) or not path_parameters:
        return st.just(path_parameters)
    drawn: dict[str, Any] = {}
    for name, value in path_parameters.items():
        if name == "provider":
            drawn[name] = st.sampled_from([*PROVIDERS, value])
        elif name == "id" and KNOWN_IDS:
            drawn[name] = st.sampled_from([*KNOWN_IDS, value])
        else:
            drawn[name] = st.just(value)
    return st.fixed_dictionaries(drawn)


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
