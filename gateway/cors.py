"""Cross-origin resource sharing for ``/graphql`` and ``/v1`` (``KARPOV_CORS_ORIGINS``).

Only the origins listed exactly (``scheme://host[:port]``) may read answers from another
origin, always with credentials (cookies): a listed origin is trusted to act for the
user. Nothing listed is same-origin only. A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered by the edge itself, before CSRF and the
principal: 204 with the allowed methods, headers and ``Access-Control-Max-Age`` for a
listed origin, 403 for any other. Every answer on these paths says ``Vary: Origin``, so a
cache never hands one origin's answer to another.

The CSRF rules do not change with CORS: a cross-site JSON POST needs a preflight, and the
preflight of an unlisted origin is refused, so cookie sessions stay protected.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import Scope

GRAPHQL_METHODS = b"GET, POST, OPTIONS"
V1_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = (
    b"accept, authorization, content-type, x-api-key, x-admin-key, x-session-id, "
    b"x-csrf-token, x-request-id, apollo-require-preflight, graphql-preflight, "
    b"x-apollo-operation-name, apollographql-client-name, apollographql-client-version"
)
EXPOSED_HEADERS = (
    b"x-request-id, retry-after, ratelimit, ratelimit-policy, x-ratelimit-limit, "
    b"x-ratelimit-remaining, x-ratelimit-reset, x-quota-daily-limit, x-quota-daily-remaining, "
    b"x-quota-daily-reset, x-quota-monthly-limit, x-quota-monthly-remaining, "
    b"x-quota-monthly-reset"
)
MAX_AGE = b"600"
VARY_ORIGIN = (b"vary", b"Origin")
VARY_PREFLIGHT = (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")


def normalise_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, or ``ValueError`` saying what is wrong."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin like https://app.example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"{value!r} is not an origin (no path, query or user): scheme://host[:port]"
        )
    port = f":{parts.port}" if parts.port is not None else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def is_cors_path(path: str) -> bool:
    return path == "/graphql" or path == "/v1" or path.startswith("/v1/")


class CorsPolicy:
    """The listed origins and the headers each answer gets."""

    def __init__(self, origins: Iterable[str], *, max_age: bytes = MAX_AGE) -> None:
        self.origins = frozenset(normalise_origin(o) for o in origins)
        self.max_age = max_age

    def allows(self, origin: str) -> bool:
        try:
            return normalise_origin(origin) in self.origins
        except ValueError:
            return False

    @staticmethod
    def _origin(scope: Scope) -> str | None:
        for key, value in scope["headers"]:
            if key == b"origin":
                return str(value.decode("latin-1"))
        return None

    @staticmethod
    def is_preflight(scope: Scope) -> bool:
        if scope["method"] != "OPTIONS":
            return False
        return any(key == b"access-control-request-method" for key, _ in scope["headers"])

    def preflight(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]]]:
        """The status and headers of the answer to a preflight on a CORS path."""
        origin = self._origin(scope)
        if origin is None or not self.allows(origin):
            return 403, [VARY_PREFLIGHT]
        methods = GRAPHQL_METHODS if scope["path"] == "/graphql" else V1_METHODS
        return 204, [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-allow-methods", methods),
            (b"access-control-allow-headers", ALLOWED_HEADERS),
            (b"access-control-max-age", self.max_age),
            VARY_PREFLIGHT,
        ]

    def response_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """What an actual (not preflight) answer on a CORS path carries."""
        origin = self._origin(scope)
        if origin is None or not self.allows(origin):
            return [VARY_ORIGIN]
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
            VARY_ORIGIN,
        ]
