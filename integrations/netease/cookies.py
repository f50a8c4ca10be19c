"""NetEase login cookies: reading an admin's cookie string, folding ``Set-Cookie`` answers
into it, and the login's expiry.

A NetEase login is the ``MUSIC_U`` cookie; ``__csrf`` goes with it (weapi calls repeat it
as ``csrf_token``). Cookie strings are ``name=value`` pairs joined by ``; `` as a browser
sends them; attributes pasted along by mistake (``Path=/``) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

LOGIN_COOKIE = "MUSIC_U"
CSRF_COOKIE = "__csrf"
ANONYMOUS_COOKIE = "MUSIC_A"

_ATTRIBUTES = frozenset(
    {"path", "domain", "expires", "max-age", "httponly", "secure", "samesite", "priority"}
)


def parse_cookie(text: str) -> dict[str, str]:
    """``"a=1; b=2"`` → ``{"a": "1", "b": "2"}`` (a later repeat wins)."""
    pairs: dict[str, str] = {}
    for part in text.split(";"):
        name, sep, value = part.strip().partition("=")
        name = name.strip()
        if sep and name and name.lower() not in _ATTRIBUTES:
            pairs[name] = value.strip()
    return pairs


def format_cookie(pairs: Mapping[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in pairs.items())


@dataclass(frozen=True, slots=True)
class SetCookie:
    name: str
    value: str
    max_age: int | None = None
    expires: datetime | None = None

    @property
    def deletes(self) -> bool:
        """An empty value or a lifetime already over: the server is removing the cookie."""
        return self.value == "" or (self.max_age is not None and self.max_age <= 0)

    def expires_at(self, now: datetime) -> datetime | None:
        """When the cookie ends: ``Max-Age`` wins over ``Expires`` (RFC 6265 §5.3)."""
        if self.max_age is not None:
            return now + timedelta(seconds=self.max_age)
        return self.expires


def parse_set_cookie(header: str) -> SetCookie | None:
    head, *attributes = header.split(";")
    name, sep, value = head.partition("=")
    name = name.strip()
    if not sep or not name:
        return None
    max_age: int | None = None
    expires: datetime | None = None
    for attribute in attributes:
        key, _, raw = attribute.strip().partition("=")
        key = key.strip().lower()
        if key == "max-age":
            try:
                max_age = int(raw.strip())
            except ValueError:
                max_age = None
        elif key == "expires":
            try:
                expires = parsedate_to_datetime(raw.strip())
            except (TypeError, ValueError):
                expires = None
    return SetCookie(name, value.strip(), max_age, expires)


def parse_set_cookies(headers: Iterable[str]) -> list[SetCookie]:
    return [c for c in (parse_set_cookie(h) for h in headers) if c is not None]


def apply_set_cookies(pairs: Mapping[str, str], set_cookies: Iterable[SetCookie]) -> dict[str, str]:
    """``pairs`` as the browser would hold them after these ``Set-Cookie`` answers.
    NetEase sends each cookie several times (one per path); the last one wins."""
    merged = dict(pairs)
    for cookie in set_cookies:
        if cookie.deletes:
            merged.pop(cookie.name, None)
        else:
            merged[cookie.name] = cookie.value
    return merged


def issued(set_cookies: Iterable[SetCookie], name: str) -> SetCookie | None:
    """The last ``Set-Cookie`` for ``name`` that sets (not deletes) it."""
    found: SetCookie | None = None
    for cookie in set_cookies:
        if cookie.name == name:
            found = None if cookie.deletes else cookie
    return found
