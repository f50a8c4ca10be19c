"""JSON shapes of the original API, built from the domain's objects.

Read models that the original rendered field for field (usage reports, the two-factor
status, …) are written by ``camel`` (camelCase keys) or ``snake`` (the original's
snake_case config): the domain dataclass is the one definition of the shape. Entities
whose /v1 view differs from the object (a user, a session, a key) have a view here."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypedDict, TypeVar

from domain.accounts import model
from domain.principal import Role
from rest.envelope import EncodedJson, encode_json, rfc3339
from rest.schemas import EnumOf, Example

Time = Annotated[str, Example("2026-01-31T12:00:00Z")]
"""An RFC 3339 instant in UTC (``rest.envelope.rfc3339``)."""
Id = Annotated[str, Example("0b7c5e3a9d2f4c1e8a6b4d2f0e1c3a5b")]
Email = Annotated[str, Example("ada@example.com")]
UserStatusValue = Annotated[str, EnumOf(model.UserStatus)]
RoleValue = Annotated[str, EnumOf(Role)]
T = TypeVar("T")


class UserProto(TypedDict):
    """A user as the original's grpc-gateway routes render it."""

    id: Id
    email: Email
    status: UserStatusValue
    role: RoleValue
    totpEnabled: bool
    createdAt: Time | None
    lastLoginAt: Time | None


class AdminUserItem(TypedDict):
    id: Id
    email: Email
    status: UserStatusValue
    role: RoleValue
    planId: str
    totpEnabled: bool
    createdAt: Time | None


class SessionItem(TypedDict):
    id: Id
    createdAt: Time | None
    lastSeenAt: Time | None
    expiresAt: Time | None
    ip: str | None
    userAgent: str | None
    current: bool


def camel(value: object) -> dict[str, Any]:
    """A read model (a dataclass instance) as JSON with camelCase keys, in field order;
    instants as RFC 3339, days as ISO dates, enums by value, tuples as lists, nested read
    models likewise."""
    return _record(value, _camel_case)


def snake(value: object) -> dict[str, Any]:
    """Like ``camel``, keeping the field names (the original's snake_case responses)."""
    return _record(value, str)


def _record(value: Any, key: Callable[[str], str]) -> dict[str, Any]:
    fields = value.__dataclass_fields__  # (AttributeError for anything but a dataclass)
    return {key(name): _json(getattr(value, name), key) for name in fields}


def _json(value: Any, key: Callable[[str], str]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _record(value, key)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json(item, key) for item in value]
    return value


def _camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def user_proto(user: model.User) -> UserProto:
    """A user as the original's grpc-gateway routes rendered it (protojson)."""
    return {
        "id": user.id,
        "email": user.email,
        "status": user.status.value,
        "role": user.role.value,
        "totpEnabled": user.totp_enabled,
        "createdAt": rfc3339(user.created_at),
        "lastLoginAt": rfc3339(user.last_login_at),
    }


class EncodedViews(Generic[T]):
    """A view of immutable records, encoded, memoised per record object (perf, issue 18).

    The in-process memos above the stores hand out the same record object for a while
    (the session memo a user for up to a second, the music service an answer for up to
    two), so a route that renders one builds and encodes its view about once per memo
    period instead of on every request. Entries are found by the object's identity and
    keep the object alive, so an ``id`` cannot be reused while it is cached; a full memo
    is simply emptied (it only saves work)."""

    def __init__(self, view: Callable[[T], Any], max_entries: int) -> None:
        self._view = view
        self._max_entries = max_entries
        self._entries: dict[int, tuple[T, EncodedJson]] = {}

    def __call__(self, record: T) -> EncodedJson:
        hit = self._entries.get(id(record))
        if hit is not None and hit[0] is record:
            return hit[1]
        encoded = encode_json(self._view(record))
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[id(record)] = (record, encoded)
        return encoded


user_proto_json = EncodedViews(user_proto, max_entries=1024)
"""``user_proto``, encoded: what ``GET /v1/auth/me`` answers."""


def admin_user_item(user: model.User) -> AdminUserItem:
    """A user row of ``GET /v1/admin/users`` (gin)."""
    return {
        "id": user.id,
        "email": user.email,
        "status": user.status.value,
        "role": user.role.value,
        "planId": user.plan_id,
        "totpEnabled": user.totp_enabled,
        "createdAt": rfc3339(user.created_at),
    }


def session_item(session: model.Session, current_id: str | None) -> SessionItem:
    return {
        "id": session.id,
        "createdAt": rfc3339(session.created_at),
        "lastSeenAt": rfc3339(session.last_seen_at),
        "expiresAt": rfc3339(session.expires_at),
        "ip": session.ip,
        "userAgent": session.user_agent,
        "current": session.id == current_id,
    }
