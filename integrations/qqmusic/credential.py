"""A QQ Music login as the pool stores it: a JSON object (the upstream's own credential
dict), read with both the snake_case and camelCase spellings the original accepted.

A pasted browser cookie (``uin=o123; qqmusic_key=Q_H_L_…``) is accepted too, for accounts
added by hand; it carries no refresh key, so such a login cannot be renewed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from domain.music.errors import InvalidCredentialPayload, UpstreamAuthFailed
from domain.music.model import CredentialSecret

MAX_PAYLOAD_BYTES = 16 * 1024

WECHAT_LOGIN = 1
QQ_LOGIN = 2


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class QQCredential:
    musicid: int
    musickey: str = field(repr=False)
    str_musicid: str = ""
    login_type: int = QQ_LOGIN
    openid: str = field(default="", repr=False)
    unionid: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)
    refresh_key: str = field(default="", repr=False)
    expired_at: int = 0
    musickey_create_time: int = 0
    key_expires_in: int = 0
    first_login: int = 0
    bind_account_type: int = 0
    need_refresh_key_in: int = 0
    encrypt_uin: str = ""

    # -- reading -------------------------------------------------------------------------

    @classmethod
    def from_payload(cls, payload: bytes) -> QQCredential:
        """Parse a pool payload; raises ``InvalidCredentialPayload`` naming the problem (never
        echoing the payload)."""
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise InvalidCredentialPayload("the QQ Music credential is too large", field="payload")
        try:
            decoded = payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InvalidCredentialPayload(
                "the QQ Music credential is not UTF-8 text", field="payload"
            ) from None
        if decoded.startswith("{"):
            try:
                data = json.loads(decoded)
            except ValueError:
                raise InvalidCredentialPayload(
                    "the QQ Music credential is not valid JSON", field="payload"
                ) from None
            return cls.from_mapping(data)
        return cls.from_cookie_header(decoded)

    @classmethod
    def from_mapping(cls, data: Any) -> QQCredential:
        if not isinstance(data, Mapping):
            raise InvalidCredentialPayload(
                "the QQ Music credential must be a JSON object", field="payload"
            )
        return cls._build(_read_fields(data))

    @classmethod
    def _build(cls, values: dict[str, Any]) -> QQCredential:
        values = dict(values)
        musicid = _as_int(values.pop("musicid", 0)) or _as_int(values.get("str_musicid", 0))
        musickey = _as_str(values.pop("musickey", ""))
        if musicid <= 0 or not musickey:
            raise InvalidCredentialPayload(
                "the QQ Music credential needs musicid and musickey", field="payload"
            )
        explicit_type = _as_int(values.pop("login_type", 0))
        inferred = WECHAT_LOGIN if musickey.startswith("W_X") else QQ_LOGIN
        kwargs: dict[str, Any] = {
            name: _as_int(raw) if _FIELD_TYPES[name] == "int" else _as_str(raw)
            for name, raw in values.items()
        }
        return cls(
            musicid=musicid, musickey=musickey, login_type=explicit_type or inferred, **kwargs
        )

    @classmethod
    def from_cookie_header(cls, header: str) -> QQCredential:
        cookies: dict[str, str] = {}
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name:
                cookies[name.strip()] = value.strip()
        uin = cookies.get("qqmusic_uin") or cookies.get("uin") or ""
        key = cookies.get("qqmusic_key") or cookies.get("qm_keyst") or ""
        digits = uin.lstrip("o").lstrip("0")
        if not (digits.isdigit() and key):
            raise InvalidCredentialPayload(
                "the QQ Music credential must be a JSON object or a cookie with uin and "
                "qqmusic_key",
                field="payload",
            )
        return cls.from_mapping({"musicid": int(digits), "musickey": key})

    # -- using ---------------------------------------------------------------------------

    @property
    def uin(self) -> str:
        return self.str_musicid or str(self.musicid)

    def cookies(self) -> dict[str, str]:
        """The cookies every QQ Music request carries for this login."""
        return {
            "uin": self.uin,
            "qqmusic_uin": self.uin,
            "qm_keyst": self.musickey,
            "qqmusic_key": self.musickey,
        }

    def expires_at(self) -> datetime | None:
        """``musickeyCreateTime + keyExpiresIn``, when the login states both."""
        if self.musickey_create_time > 0 and self.key_expires_in > 0:
            return datetime.fromtimestamp(self.musickey_create_time + self.key_expires_in, UTC)
        return None

    def can_refresh(self) -> bool:
        return bool(self.refresh_key and self.refresh_token)

    def renewed_by(self, answer: Mapping[str, Any]) -> QQCredential:
        """This login updated with the fields of a login/refresh answer; what the answer
        leaves out (often ``openid``, ``unionid``, the login type) is kept."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        return QQCredential._build({**current, **_read_fields(answer)})

    def to_mapping(self) -> dict[str, Any]:
        """The upstream's own key names, empty fields left out."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in (0, ""):
                out[_CANONICAL.get(f.name, f.name)] = value
        return out

    def to_payload(self) -> bytes:
        return json.dumps(self.to_mapping(), ensure_ascii=False, separators=(",", ":")).encode()


_FIELD_TYPES = {f.name: str(f.type) for f in fields(QQCredential)}

# The original's camelCase fields; every other field is snake_case upstream.
_CANONICAL = {
    "musickey_create_time": "musickeyCreateTime",
    "key_expires_in": "keyExpiresIn",
    "bind_account_type": "bindAccountType",
    "need_refresh_key_in": "needRefreshKeyIn",
    "encrypt_uin": "encryptUin",
    "login_type": "loginType",
}


def _spellings(name: str) -> tuple[str, ...]:
    return (name, _camel(name), *_EXTRA_SPELLINGS.get(name, ()))


_EXTRA_SPELLINGS = {
    "str_musicid": ("strMusicId",),
    "musicid": ("musicId",),
    "musickey": ("musicKey",),
}


def _read_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Field name -> raw value, for the fields ``data`` states (in any accepted spelling)."""
    values: dict[str, Any] = {}
    for name in _FIELD_TYPES:
        for key in _spellings(name):
            if key in data and data[key] not in (None, ""):
                values[name] = data[key]
                break
    return values


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def _as_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def login_from_secret(secret: CredentialSecret) -> QQCredential:
    """A pool credential as a QQ login; an unreadable payload is a dead account (the pool
    retires it), never an input error at call time."""
    try:
        return QQCredential.from_payload(secret.payload)
    except InvalidCredentialPayload:
        raise UpstreamAuthFailed("the pool credential is not a usable QQ Music login") from None
