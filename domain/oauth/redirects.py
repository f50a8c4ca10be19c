"""Where the browser may be sent after an OAuth flow.

``next`` is attacker-controlled input that ends up in a ``Location`` header, so it is an
open-redirect risk. Accepted: a same-site relative path (``/dashboard?tab=keys``), or an
absolute ``http(s)`` URL on exactly the configured frontend origin. Refused: ``//host``
and ``/\\host`` (browsers read both as another host), any other scheme (``javascript:``,
``data:``), user info (``https://front@evil``), backslashes, whitespace and control
characters anywhere. The original only dropped ``//…``; it let ``/\\evil.com`` through
(reference §6 item 9)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from domain.errors import InvalidInput

MAX_NEXT_LENGTH = 2048
MAX_MESSAGE_LENGTH = 200
"""The original put ``message`` in the error redirect only when shorter than this."""


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class RedirectTargets:
    def __init__(self, frontend_base_url: str) -> None:
        scheme, netloc = _origin(frontend_base_url)
        if scheme not in ("http", "https") or not netloc:
            raise ValueError("the frontend base URL must be an absolute http(s) URL")
        self._base = frontend_base_url.rstrip("/")
        self._scheme = scheme
        self._netloc = netloc
        self._origin = f"{scheme}://{netloc}"

    def check_next(self, raw: str | None) -> str | None:
        """The accepted ``next`` (``None`` when absent) or ``InvalidInput(field="next")``."""
        if raw is None or raw == "":
            return None
        if len(raw) > MAX_NEXT_LENGTH:
            raise InvalidInput(f"next must be at most {MAX_NEXT_LENGTH} characters", field="next")
        if any(ord(c) < 0x21 or ord(c) == 0x7F or c.isspace() or c == "\\" for c in raw):
            raise InvalidInput("next contains characters that are not allowed", field="next")
        if raw.startswith("/"):
            parts = urlsplit(raw)
            if raw.startswith("//") or parts.scheme or parts.netloc:
                raise InvalidInput("next must be a path on this site", field="next")
            return raw
        parts = urlsplit(raw)
        if (
            parts.scheme.lower() == self._scheme
            and parts.netloc.lower() == self._netloc
            and "@" not in parts.netloc
        ):
            return raw
        raise InvalidInput(
            "next must be a path on this site or a URL on the frontend origin", field="next"
        )

    def after_login(self, next_url: str | None) -> str:
        if not next_url:
            return f"{self._base}/"
        return f"{self._origin}{next_url}" if next_url.startswith("/") else next_url

    def after_bind(self) -> str:
        return f"{self._base}/settings?bind=ok"

    def totp_challenge(self, challenge_id: str, next_url: str | None) -> str:
        """The frontend page that asks for the second factor and then calls
        ``POST /v1/auth/totp/verify {challengeId, code}`` (or ``totpVerify``)."""
        params = {"challengeId": challenge_id}
        if next_url:
            params["next"] = next_url
        return f"{self._base}/oauth-totp?{urlencode(params)}"

    def error(self, code: str, message: str | None) -> str:
        params = {"code": code}
        if message and len(message) < MAX_MESSAGE_LENGTH:
            params["message"] = message
        return f"{self._base}/oauth-error?{urlencode(params)}"
