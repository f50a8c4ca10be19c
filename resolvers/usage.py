"""Resolvers of usage reports (shared by GraphQL and /v1)."""

from __future__ import annotations

from domain.usage.service import UsageHistory, UsageRealtime, UsageSummary
from resolvers.context import Context
from resolvers.quota import plan_for_reports


async def usage_summary(ctx: Context) -> UsageSummary:
    return await ctx.services.usage.summary(ctx.principal, await plan_for_reports(ctx))


async def usage_history(ctx: Context, days: int | None) -> UsageHistory:
    return await ctx.services.usage.history(ctx.principal, days)


async def usage_realtime(ctx: Context) -> UsageRealtime:
    return await ctx.services.usage.realtime(ctx.principal, await plan_for_reports(ctx))
