"""GraphQL types of the scheduled jobs' admin view (mirrors of the domain read models)."""

from __future__ import annotations

from domain.jobs import model
from schema.mirror import Mirrored, mirror


@mirror(
    model.JobView,
    description="A scheduled job: its tick, last run and next run.",
    descriptions={
        "name": "The job's stable name (as in the worker's logs and metrics).",
        "description": "What the job does.",
        "every_seconds": "The tick length: the job runs once per tick across every process.",
        "max_tries": "How many tries a run gets before it is recorded as a failure.",
        "last_run_at": "When the last run finished (null before the first).",
        "last_duration_ms": "How long the last run took, in milliseconds.",
        "last_outcome": "`ok` or `failed`.",
        "last_error": "The last run's error, when it failed.",
        "last_detail": "What the last run did (for example how many orders it expired).",
        "next_run_at": "When the next tick starts.",
        "runs": "Runs recorded since the job's state was created.",
        "failures": "Runs that failed on their last try.",
    },
)
class JobView(Mirrored):
    pass


@mirror(
    model.JobFailure,
    description="A job run that failed on its last try.",
    descriptions={
        "id": "The failure's id.",
        "name": "The job's name.",
        "failed_at": "When the last try failed.",
        "attempts": "How many tries were made.",
        "error": "The error of the last try.",
    },
)
class JobFailure(Mirrored):
    pass


@mirror(
    model.JobsOverview,
    description="Every scheduled job and the most recent final failures (admin).",
    descriptions={
        "jobs": "Every scheduled job, by name.",
        "failures": "The most recent runs that failed on their last try, newest first.",
        "runner": "Where the jobs run: `worker` (arq on Redis) or `in-process` (inside serve).",
    },
)
class JobsOverview(Mirrored):
    pass
