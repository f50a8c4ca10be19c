"""The pool payload of a NetEase credential.

Accepted as the original took it: JSON ``{"cookie": "MUSIC_U=…; __csrf=…"}`` or the raw cookie
string itself, as long as it holds a ``MUSIC_U``. Karpov writes payloads (after a login or a
refresh) as JSON ``{"cookie": "...", "expiresAt": <unix seconds>}``; ``expiresAt`` is the
``MUSIC_U`` cookie's own end, when NetEase stated one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.music.errors import InvalidCredentialPayload
from integrations.netease.cookies import LOGIN_COOKIE, format_cookie, parse_cookie

MAX_PAYLOAD_BYTES = 8192
"""A NetEase login cookie is a few hundred bytes; anything near this is not one."""


@dataclass(frozen=True, slots=True)
class LoginCookie:
    pairs: Mapping[str, str] = field(repr=False)
    expires_at: datetime | None = None

    @property
    def text(self) -> str:
        return format_cookie(self.pairs)

    def to_payload(self) -> bytes:
        document: dict[str, object] = {"cookie": self.text}
        if self.expires_at is not None:
            document["expiresAt"] = int(self.expires_at.timestamp())
        return json.dumps(document, separators=(",", ":")).encode()


def parse_payload(payload: bytes) -> LoginCookie:
    """Raises ``InvalidCredentialPayload`` (never echoing the payload) when it is not a
    NetEase login."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidCredentialPayload("the NetEase payload is too large", field="payload")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidCredentialPayload(field="payload") from None
    expires_at: datetime | None = None
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise InvalidCredentialPayload(
                "the NetEase payload is not valid JSON", field="payload"
            ) from None
        cookie = document.get("cookie") if isinstance(document, dict) else None
        if not isinstance(cookie, str):
            raise InvalidCredentialPayload(
                'the NetEase payload needs a "cookie" string', field="payload"
            )
        expires_at = _expiry(document.get("expiresAt"))
        text = cookie
    pairs = parse_cookie(text)
    if not pairs.get(LOGIN_COOKIE):
        raise InvalidCredentialPayload("the NetEase cookie has no MUSIC_U login", field="payload")
    return LoginCookie(pairs, expires_at)


def _expiry(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidCredentialPayload(
        '"expiresAt" is unix seconds or an ISO 8601 time', field="payload"
    )
