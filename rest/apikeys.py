"""/v1/auth/api-keys and /v1/usage routes: the original's paths and shapes, plus key
rotation and the caller's rate-limit status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.errors import InvalidInput
from resolvers import apikeys
from rest.envelope import rfc3339
from rest.router import RestRequest
from schema.apikeys import (
    ApiKey,
    ApiKeyCreateInput,
    ApiKeyRotateInput,
    ApiKeySetEnabledInput,
    ApiKeyUpdateInput,
    IssuedApiKey,
)

HISTORY_FALLBACK_DAYS = 30


def key_view(key: ApiKey) -> dict[str, Any]:
    """The original's key view; ``last4`` and the rotation grace are additions."""
    view: dict[str, Any] = {
        "id": key.raw_id, "prefix": key.prefix, "last4": key.last4, "name": key.name,
        "description": key.description, "scopes": key.scopes, "ipAllowlist": key.ip_allowlist,
        "rateLimitRpm": key.rate_limit_rpm, "rateLimitDaily": key.rate_limit_daily,
        "enabled": key.enabled, "status": key.status.value,
        "totalRequests": key.total_requests, "createdAt": rfc3339(key.created_at),
    }  # fmt: skip
    for name, value in (
        ("expiresAt", key.expires_at),
        ("lastUsedAt", key.last_used_at),
        ("previousKeyExpiresAt", key.previous_key_expires_at),
    ):
        if value is not None:
            view[name] = rfc3339(value)
    return view


def issued_view(issued: IssuedApiKey) -> dict[str, Any]:
    return {**key_view(issued.key), "plaintext": issued.plaintext}


def _int(req: RestRequest, name: str) -> int | None:
    value = req.body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer", field=name)
    return value


def _strings(req: RestRequest, name: str) -> list[str] | None:
    value = req.body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{name} must be a list of strings", field=name)
    return value


def _time(req: RestRequest, name: str) -> datetime | None:
    text = req.text(name)
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be an RFC 3339 time", field=name) from None
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone", field=name)
    return value


async def create(req: RestRequest) -> dict[str, Any]:
    issued = await apikeys.api_key_create(
        req.ctx,
        ApiKeyCreateInput(
            name=req.text("name") or "", description=req.text("description") or "",
            scopes=_strings(req, "scopes") or [], ip_allowlist=_strings(req, "ipAllowlist") or [],
            rate_limit_rpm=_int(req, "rateLimitRpm") or 0,
            rate_limit_daily=_int(req, "rateLimitDaily") or 0,
            expires_at=_time(req, "expiresAt"),
        ),
    )  # fmt: skip
    return issued_view(issued)


async def list_keys(req: RestRequest) -> dict[str, Any]:
    return {"items": [key_view(k) for k in await apikeys.api_keys(req.ctx)]}


async def get_key(req: RestRequest) -> dict[str, Any]:
    return key_view(await apikeys.api_key(req.ctx, req.path("id")))


async def update(req: RestRequest) -> dict[str, Any]:
    body = req.body
    unset: Any = strawberry.UNSET
    changes = ApiKeyUpdateInput(
        api_key_id=strawberry.ID(req.path("id")),
        name=req.text("name") if "name" in body else unset,
        description=req.text("description") if "description" in body else unset,
        scopes=_strings(req, "scopes") if "scopes" in body else unset,
        ip_allowlist=_strings(req, "ipAllowlist") if "ipAllowlist" in body else unset,
        rate_limit_rpm=_int(req, "rateLimitRpm") if "rateLimitRpm" in body else unset,
        rate_limit_daily=_int(req, "rateLimitDaily") if "rateLimitDaily" in body else unset,
        expires_at=_time(req, "expiresAt") if "expiresAt" in body else unset,
    )
    return key_view(await apikeys.api_key_update(req.ctx, changes))


async def set_enabled(req: RestRequest) -> None:
    enabled = req.body.get("enabled")
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false", field="enabled")
    await apikeys.api_key_set_enabled(
        req.ctx, ApiKeySetEnabledInput(api_key_id=strawberry.ID(req.path("id")), enabled=enabled)
    )


async def revoke(req: RestRequest) -> None:
    await apikeys.api_key_revoke(req.ctx, req.path("id"))


async def rotate(req: RestRequest) -> dict[str, Any]:
    grace = _int(req, "graceSeconds")
    issued = await apikeys.api_key_rotate(
        req.ctx,
        ApiKeyRotateInput(
            api_key_id=strawberry.ID(req.path("id")),
            grace_seconds=86_400 if grace is None else grace,
        ),
    )
    return issued_view(issued)


# -- usage ----------------------------------------------------------------------------


async def usage_summary(req: RestRequest) -> dict[str, Any]:
    s = await apikeys.usage_summary(req.ctx)
    return {
        "dayUsed": s.day_used, "monthUsed": s.month_used, "dayLimit": s.day_limit,
        "monthLimit": s.month_limit, "date": s.date.isoformat(), "month": s.month,
    }  # fmt: skip


async def usage_history(req: RestRequest) -> dict[str, Any]:
    # The original answered 30 days for anything outside 1..365; legacy clients rely on it.
    days = req.query_int("days", HISTORY_FALLBACK_DAYS)
    if not 1 <= days <= 365:
        days = HISTORY_FALLBACK_DAYS
    history = await apikeys.usage_history(req.ctx, days)
    return {
        "days": [
            {"date": d.date.isoformat(), "provider": d.operation.split(".")[0],
             "operation": d.operation, "count": d.count, "weightSum": d.units}
            for d in history.days
        ],
        "total": history.total,
    }  # fmt: skip


async def usage_realtime(req: RestRequest) -> dict[str, Any]:
    r = await apikeys.usage_realtime(req.ctx)
    return {
        "qpm": r.qpm, "qps": r.qps, "avgLatencyMs": r.avg_latency_ms,
        "maxLatencyMs": r.max_latency_ms, "minLatencyMs": r.min_latency_ms,
        "totalToday": r.total_today, "totalMonth": r.total_month,
        "successRate": r.success_rate, "errorCount": r.error_count, "dayUsed": r.day_used,
        "dayLimit": r.day_limit, "monthUsed": r.month_used, "monthLimit": r.month_limit,
        "timestamp": rfc3339(r.timestamp),
    }  # fmt: skip


async def rate_limit(req: RestRequest) -> dict[str, Any]:
    status = await apikeys.rate_limit(req.ctx)
    return {
        "planId": status.plan_id, "planName": status.plan_name,
        "limits": [
            {"name": s.name.value, "limit": s.limit, "remaining": s.remaining,
             "resetAfter": s.reset_after, "windowSeconds": s.window_seconds}
            for s in status.limits
        ],
    }  # fmt: skip
