"""Resolvers of the quota gate: the limits a caller is measured against."""

from __future__ import annotations

from domain.principal import AuthMethod
from domain.quota.access import key_caller
from domain.quota.plans import Plan
from domain.quota.service import Caller, QuotaStatus
from resolvers.context import Context


async def caller(ctx: Context) -> Caller:
    """Whose allowances the request draws on: the API key's, or the signed-in user's."""
    principal = ctx.principal
    if principal.method is AuthMethod.API_KEY and ctx.api_key is not None:
        return key_caller(ctx.api_key)
    user = await ctx.services.accounts.me(principal)
    return Caller(user_id=user.id, plan_id=user.plan_id)


async def rate_limit(ctx: Context) -> QuotaStatus:
    return await ctx.services.gate.quota.status(await caller(ctx))


async def plan_for_reports(ctx: Context) -> Plan | None:
    """The plan usage reports measure against; ``None`` for a superadmin (everyone's)."""
    if ctx.principal.is_superadmin:
        return None
    return await ctx.services.gate.quota.plan((await caller(ctx)).plan_id)
