"""Errors of the background jobs."""

from __future__ import annotations

from domain.errors import Forbidden, NotFound


class JobsAdminRequired(Forbidden):
    code = "JOBS_ADMIN_REQUIRED"
    default_message = "the background jobs are visible to admins only"


class JobUnknown(NotFound):
    code = "JOB_UNKNOWN"
    default_message = "no such scheduled job"
