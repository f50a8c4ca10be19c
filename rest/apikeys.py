"""/v1/auth/api-keys routes: the original's paths and shapes, plus key rotation. The body
becomes the same domain command a GraphQL input converts itself into."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, NotRequired, TypedDict

from domain.apikeys.commands import (
    CreateApiKey,
    KeyChanges,
    RotateApiKey,
    SetApiKeyEnabled,
    UpdateApiKey,
)
from domain.apikeys.model import ApiKey, ApiKeyStatus
from domain.apikeys.service import DEFAULT_GRACE, IssuedKey
from domain.errors import InvalidInput
from resolvers import apikeys
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.schemas import EnumOf, Example
from rest.views import Id, Time

KEY_FIELDS: dict[str, tuple[str, Callable[[RestRequest, str], Any]]] = {
    "name": ("name", RestRequest.text),
    "description": ("description", RestRequest.text),
    "scopes": ("scopes", RestRequest.strings),
    "ipAllowlist": ("ip_allowlist", RestRequest.strings),
    "rateLimitRpm": ("rate_limit_rpm", RestRequest.integer),
    "rateLimitDaily": ("rate_limit_daily", RestRequest.integer),
    "expiresAt": ("expires_at", RestRequest.instant),
}
"""The body fields of a key (create and update): the command field each one fills, and
how it is read (a wrong type is a 400 naming the field)."""


class KeyView(TypedDict):
    """The original's key view; ``last4`` and the rotation grace are additions. The three
    optional instants are left out when unset."""

    id: Id
    prefix: Annotated[str, Example("kp_live_3f9a")]
    last4: str
    name: str
    description: str | None
    scopes: list[str]
    ipAllowlist: list[str]
    rateLimitRpm: int | None
    rateLimitDaily: int | None
    enabled: bool
    status: Annotated[str, EnumOf(ApiKeyStatus)]
    totalRequests: int
    createdAt: Time | None
    expiresAt: NotRequired[Time | None]
    lastUsedAt: NotRequired[Time | None]
    previousKeyExpiresAt: NotRequired[Time | None]


class IssuedKeyView(KeyView):
    plaintext: Annotated[str, Example("kp_live_3f9a…")]
    """The secret: shown once, send it as ``X-API-Key``."""


class KeyList(TypedDict):
    items: list[KeyView]


class KeyBody(TypedDict, total=False):
    """The fields of a key (create: ``name`` is needed; update: only those given change,
    ``expiresAt: null`` removes the expiry)."""

    name: Annotated[str, Example("ci")]
    description: str | None
    scopes: list[str] | None
    ipAllowlist: list[str] | None
    rateLimitRpm: int | None
    rateLimitDaily: int | None
    expiresAt: Annotated[datetime, Example("2030-01-01T00:00:00Z")] | None


class EnabledBody(TypedDict):
    enabled: bool


class RotateBody(TypedDict, total=False):
    graceSeconds: Annotated[int, Example(86400)] | None


def key_view(key: ApiKey, now: datetime) -> KeyView:
    view: KeyView = {
        "id": key.id, "prefix": key.prefix, "last4": key.last4, "name": key.name,
        "description": key.description, "scopes": list(key.scopes),
        "ipAllowlist": list(key.ip_allowlist), "rateLimitRpm": key.rate_limit_rpm,
        "rateLimitDaily": key.rate_limit_daily, "enabled": key.enabled,
        "status": key.status(now).value, "totalRequests": key.total_requests,
        "createdAt": rfc3339(key.created_at),
    }  # fmt: skip
    for name, value in (
        ("expiresAt", key.expires_at),
        ("lastUsedAt", key.last_used_at),
        ("previousKeyExpiresAt", key.previous_key_expires_at(now)),
    ):
        if value is not None:
            view[name] = rfc3339(value)  # type: ignore[literal-required]
    return view


def issued_view(issued: IssuedKey, now: datetime) -> IssuedKeyView:
    return {**key_view(issued.key, now), "plaintext": issued.plaintext}


def given_fields(req: RestRequest) -> dict[str, Any]:
    """The key fields present in the body, by command field name (``null`` included)."""
    body = req.body
    return {field: read(req, name) for name, (field, read) in KEY_FIELDS.items() if name in body}


def _now(req: RestRequest) -> datetime:
    return req.ctx.services.clock.now()


async def create(req: RestRequest) -> IssuedKeyView:
    given = {field: value for field, value in given_fields(req).items() if value is not None}
    command = CreateApiKey(**{"name": "", **given})
    return issued_view(await apikeys.api_key_create(req.ctx, command), _now(req))


async def list_keys(req: RestRequest) -> KeyList:
    now = _now(req)
    return {"items": [key_view(k, now) for k in await apikeys.api_keys(req.ctx)]}


async def get_key(req: RestRequest) -> KeyView:
    key = await apikeys.api_key(req.ctx, req.path("id"))
    return key_view(key, _now(req))


async def update(req: RestRequest) -> KeyView:
    changes = KeyChanges(**given_fields(req))  # type: ignore[typeddict-item]
    command = UpdateApiKey(key_id=req.path("id"), changes=changes)
    return key_view(await apikeys.api_key_update(req.ctx, command), _now(req))


async def set_enabled(req: RestRequest) -> None:
    enabled = req.body.get("enabled")
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false", field="enabled")
    command = SetApiKeyEnabled(key_id=req.path("id"), enabled=enabled)
    await apikeys.api_key_set_enabled(req.ctx, command)


async def revoke(req: RestRequest) -> None:
    await apikeys.api_key_revoke(req.ctx, req.path("id"))


async def rotate(req: RestRequest) -> IssuedKeyView:
    grace = req.integer("graceSeconds")
    command = RotateApiKey(
        key_id=req.path("id"),
        grace=DEFAULT_GRACE if grace is None else timedelta(seconds=grace),
    )
    return issued_view(await apikeys.api_key_rotate(req.ctx, command), _now(req))
