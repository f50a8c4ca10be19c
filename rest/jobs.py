"""``GET /v1/admin/jobs``: each scheduled job's last run, duration, outcome and next run,
and the runs that failed on their last try (camelCase JSON, as GraphQL's ``adminJobs``)."""

from __future__ import annotations

from typing import Annotated

from domain.jobs.model import JobsOverview
from resolvers import jobs
from rest.router import RestRequest
from rest.schemas import Shape
from rest.views import camel


async def overview(req: RestRequest) -> Annotated[dict[str, object], Shape(JobsOverview)]:
    return camel(await jobs.jobs_overview(req.ctx))
