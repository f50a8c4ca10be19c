"""/v1/admin/pool routes (grpc-gateway in the original: bare camelCase JSON), with the
original's paths and shapes. A credential's payload is accepted (base64) and never
returned."""

from __future__ import annotations

from typing import Annotated, NotRequired, TypedDict

from domain.pool.commands import AddCredential, CheckCredential, SetCredentialStatus
from domain.pool.model import (
    Credential,
    CredentialStatus,
    CredentialTestResult,
    ProviderHealth,
)
from resolvers import pool
from rest.envelope import rfc3339
from rest.router import RestRequest
from rest.schemas import EnumOf, Shape
from rest.views import Id, Time, camel

ADD_FIELDS = (
    "provider", "label", "payload", "capabilities", "maxConcurrency", "requestsPerSecond",
)  # fmt: skip


class CredentialView(TypedDict):
    id: Id
    provider: str
    label: str
    status: Annotated[str, EnumOf(CredentialStatus)]
    healthScore: float
    lastUsedAt: Time | None
    lastFailedAt: Time | None
    failCount: int
    cooldownUntil: Time | None
    capabilities: list[str]
    createdAt: Time | None
    expiresAt: Time | None
    maxConcurrency: int | None
    requestsPerSecond: int | None
    refreshQueuedAt: Time | None


class Credentials(TypedDict):
    items: list[CredentialView]
    total: int


class Removed(TypedDict):
    """No fields."""


class PoolHealth(TypedDict):
    pools: list[Annotated[dict[str, object], Shape(ProviderHealth)]]


def credential_view(c: Credential) -> CredentialView:
    """The original's ``Credential`` message, plus the lease limits and the refresh queue."""
    return {
        "id": c.id,
        "provider": c.provider,
        "label": c.label,
        "status": c.status.value,
        "healthScore": c.health_score,
        "lastUsedAt": rfc3339(c.last_used_at),
        "lastFailedAt": rfc3339(c.last_failed_at),
        "failCount": c.fail_count,
        "cooldownUntil": rfc3339(c.cooldown_until),
        "capabilities": list(c.capabilities),
        "createdAt": rfc3339(c.created_at),
        "expiresAt": rfc3339(c.expires_at),
        "maxConcurrency": c.max_concurrency,
        "requestsPerSecond": c.requests_per_second,
        "refreshQueuedAt": rfc3339(c.refresh_queued_at),
    }


async def add_credential(req: RestRequest) -> CredentialView:
    command = AddCredential(
        provider=req.required_text("provider"),
        label=req.text("label") or "",
        payload_base64=req.text("payload") or "",
        capabilities=req.strings("capabilities") or (),
        max_concurrency=req.integer("maxConcurrency"),
        requests_per_second=req.integer("requestsPerSecond"),
    )
    return credential_view(await pool.pool_credential_add(req.ctx, command))


async def list_credentials(req: RestRequest) -> Credentials:
    page = await pool.pool_credentials(
        req.ctx,
        provider=req.query("provider") or None,
        status=req.query("statusFilter") or None,
        limit=req.query_int("limit", 100),
        offset=req.query_int("offset", 0),
    )
    return {"items": [credential_view(c) for c in page.items], "total": page.total}


async def remove_credential(req: RestRequest) -> Removed:
    await pool.pool_credential_remove(req.ctx, req.path("id"))
    return {}


async def health(req: RestRequest) -> PoolHealth:
    return {"pools": [camel(await pool.pool_health(req.ctx, req.path("provider")))]}


async def set_status(req: RestRequest) -> CredentialView:
    command = SetCredentialStatus(req.path("id"), req.required_text("status"))
    return credential_view(await pool.pool_credential_set_status(req.ctx, command))


async def refresh(req: RestRequest) -> CredentialView:
    return credential_view(await pool.pool_credential_refresh(req.ctx, req.path("id")))


async def test_credential(
    req: RestRequest,
) -> Annotated[dict[str, object], Shape(CredentialTestResult)]:
    command = CheckCredential(req.path("id"), req.text("capability"))
    return camel(await pool.pool_credential_test(req.ctx, command))


# -- upstreams (issue 15): admin QR logins (gin, raw JSON in the original) --------------------


class QrLoginStarted(TypedDict):
    session_id: str
    image: str
    expires_in_sec: int
    platform: str


class QrLoginPolled(TypedDict):
    event: str
    credential: NotRequired[CredentialView]
    error: NotRequired[str]


async def qr_login_start(req: RestRequest) -> QrLoginStarted:
    started = await pool.qr_login_start(
        req.ctx, req.required_text("platform"), label=req.text("label")
    )
    return {"session_id": started.session_id, "image": started.image,
            "expires_in_sec": started.expires_in_sec, "platform": started.platform}  # fmt: skip


async def qr_login_poll(req: RestRequest) -> QrLoginPolled:
    status = await pool.qr_login_poll(req.ctx, req.path("session"), label=req.query("label"))
    answer: QrLoginPolled = {"event": status.event}
    if status.credential is not None:
        answer["credential"] = credential_view(status.credential)
    if status.error is not None:
        answer["error"] = status.error
    return answer
