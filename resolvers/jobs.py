"""Resolvers of the scheduled jobs' admin view (admins; the domain checks)."""

from __future__ import annotations

from domain.jobs.model import JobsOverview
from resolvers.context import Context


async def jobs_overview(ctx: Context) -> JobsOverview:
    return await ctx.services.jobs.overview(ctx.principal)
