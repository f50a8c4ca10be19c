"""GraphQL types of the scheduled jobs' admin view (mirrors of the domain read models)."""

from __future__ import annotations

from domain.jobs import model
from schema.mirror import Mirrored, mirror


@mirror(model.JobView, description="A scheduled job: its tick, last run and next run.")
class JobView(Mirrored):
    pass


@mirror(model.JobFailure, description="A job run that failed on its last try.")
class JobFailure(Mirrored):
    pass


@mirror(
    model.JobsOverview,
    description="Every scheduled job and the most recent final failures (admin).",
)
class JobsOverview(Mirrored):
    pass
