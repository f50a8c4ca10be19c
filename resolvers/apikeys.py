"""Resolvers of API keys, usage and rate limits (shared by GraphQL and /v1)."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from domain.apikeys.service import UNSET, KeyChanges, KeySpec
from domain.principal import AuthMethod
from domain.quota.access import key_caller
from domain.quota.plans import Plan
from domain.quota.service import Caller
from resolvers.context import Context
from schema.apikeys import (
    ApiKey,
    ApiKeyCreateInput,
    ApiKeyRotateInput,
    ApiKeySetEnabledInput,
    ApiKeyUpdateInput,
    IssuedApiKey,
    LimitStatus,
    RateLimitStatus,
    UsageDay,
    UsageHistory,
    UsageRealtime,
    UsageSummary,
)
from schema.scalars import from_global_id


def _key_id(value: str) -> str:
    return from_global_id(value, "ApiKey", field="apiKeyId")


async def api_keys(ctx: Context) -> list[ApiKey]:
    now = ctx.services.clock.now()
    return [ApiKey.from_domain(k, now) for k in await ctx.services.api_keys.list(ctx.principal)]


async def api_key(ctx: Context, key_id: str) -> ApiKey:
    key = await ctx.services.api_keys.get(ctx.principal, _key_id(key_id))
    return ApiKey.from_domain(key, ctx.services.clock.now())


async def api_key_create(ctx: Context, input: ApiKeyCreateInput) -> IssuedApiKey:
    spec = KeySpec(
        name=input.name, description=input.description, scopes=tuple(input.scopes),
        ip_allowlist=tuple(input.ip_allowlist), rate_limit_rpm=input.rate_limit_rpm,
        rate_limit_daily=input.rate_limit_daily, expires_at=input.expires_at,
    )  # fmt: skip
    issued = await ctx.services.api_keys.create(ctx.principal, spec)
    now = ctx.services.clock.now()
    return IssuedApiKey(key=ApiKey.from_domain(issued.key, now), plaintext=issued.plaintext)


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


async def api_key_update(ctx: Context, input: ApiKeyUpdateInput) -> ApiKey:
    def text(value: str | None) -> str | object:
        return UNSET if not _given(value) else (value or "")

    changes = KeyChanges(
        name=text(input.name),  # type: ignore[arg-type]
        description=text(input.description),  # type: ignore[arg-type]
        scopes=tuple(input.scopes or ()) if _given(input.scopes) else UNSET,
        ip_allowlist=tuple(input.ip_allowlist or ()) if _given(input.ip_allowlist) else UNSET,
        rate_limit_rpm=(input.rate_limit_rpm or 0) if _given(input.rate_limit_rpm) else UNSET,
        rate_limit_daily=(
            (input.rate_limit_daily or 0) if _given(input.rate_limit_daily) else UNSET
        ),
        expires_at=input.expires_at if _given(input.expires_at) else UNSET,
    )
    key = await ctx.services.api_keys.update(ctx.principal, _key_id(input.api_key_id), changes)
    return ApiKey.from_domain(key, ctx.services.clock.now())


async def api_key_set_enabled(ctx: Context, input: ApiKeySetEnabledInput) -> ApiKey:
    key = await ctx.services.api_keys.set_enabled(
        ctx.principal, _key_id(input.api_key_id), input.enabled
    )
    return ApiKey.from_domain(key, ctx.services.clock.now())


async def api_key_revoke(ctx: Context, key_id: str) -> ApiKey:
    key = await ctx.services.api_keys.revoke(ctx.principal, _key_id(key_id))
    return ApiKey.from_domain(key, ctx.services.clock.now())


async def api_key_rotate(ctx: Context, input: ApiKeyRotateInput) -> IssuedApiKey:
    issued = await ctx.services.api_keys.rotate(
        ctx.principal, _key_id(input.api_key_id), timedelta(seconds=input.grace_seconds)
    )
    now = ctx.services.clock.now()
    return IssuedApiKey(key=ApiKey.from_domain(issued.key, now), plaintext=issued.plaintext)


# -- usage and limits -------------------------------------------------------------------


async def _caller(ctx: Context) -> Caller:
    principal = ctx.principal
    if principal.method is AuthMethod.API_KEY and ctx.api_key is not None:
        return key_caller(ctx.api_key)
    user = await ctx.services.accounts.me(principal)
    return Caller(user_id=user.id, plan_id=user.plan_id)


async def rate_limit(ctx: Context) -> RateLimitStatus:
    caller = await _caller(ctx)
    plan, states = await ctx.services.gate.quota.status(caller)
    return RateLimitStatus(
        plan_id=plan.id, plan_name=plan.name, limits=[LimitStatus.from_domain(s) for s in states]
    )


async def _plan_for_reports(ctx: Context) -> Plan | None:
    if ctx.principal.is_superadmin:
        return None
    caller = await _caller(ctx)
    return await ctx.services.gate.quota.plan(caller.plan_id)


async def usage_summary(ctx: Context) -> UsageSummary:
    plan = await _plan_for_reports(ctx)
    s = await ctx.services.usage.summary(ctx.principal, plan)
    return UsageSummary(
        day_used=s.day_used, month_used=s.month_used, day_limit=s.day_limit,
        month_limit=s.month_limit, date=s.day, month=s.month,
    )  # fmt: skip


async def usage_history(ctx: Context, days: int | None) -> UsageHistory:
    history = await ctx.services.usage.history(ctx.principal, days)
    return UsageHistory(
        days=[UsageDay(date=d.day, operation=d.operation, count=d.count, units=d.units)
              for d in history.days],
        total=history.total,
    )  # fmt: skip


async def usage_realtime(ctx: Context) -> UsageRealtime:
    plan = await _plan_for_reports(ctx)
    r = await ctx.services.usage.realtime(ctx.principal, plan)
    return UsageRealtime(
        qpm=r.qpm, qps=r.qps, avg_latency_ms=r.avg_latency_ms, max_latency_ms=r.max_latency_ms,
        min_latency_ms=r.min_latency_ms, total_today=r.total_today, total_month=r.total_month,
        success_rate=r.success_rate, error_count=r.error_count, day_used=r.day_used,
        day_limit=r.day_limit, month_used=r.month_used, month_limit=r.month_limit,
        timestamp=r.timestamp,
    )  # fmt: skip
