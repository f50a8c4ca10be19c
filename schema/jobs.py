"""GraphQL fields of the scheduled jobs (admin): the twin of ``GET /v1/admin/jobs``."""

from __future__ import annotations

import strawberry

from resolvers import jobs
from schema.info import CtxInfo
from schema.types.jobs import JobsOverview


@strawberry.type
class JobsQueries:
    @strawberry.field(description="Every scheduled job's last run and next run, and the "
                      "runs that failed on their last try (admin).")  # fmt: skip
    async def admin_jobs(self, info: CtxInfo) -> JobsOverview | None:
        return JobsOverview.from_domain(await jobs.jobs_overview(info.context))
