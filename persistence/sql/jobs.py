"""Scheduled jobs' state and final failures (``job_states``, ``job_failures``); the
(job, tick) claim of a deployment without Redis; the purge of expired rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.jobs.model import JobFailure, JobOutcome, JobRun, JobState
from persistence.sql.engine import is_sqlite, reader, writer
from persistence.sql.tables import (
    job_failures,
    job_states,
    login_challenges,
    oauth_states,
    one_time_tokens,
    sessions,
)


def _insert_ignore(engine: AsyncEngine, values: dict[str, Any]) -> Any:
    statement = (sqlite.insert if is_sqlite(engine) else postgresql.insert)(job_states)
    return statement.values(values).on_conflict_do_nothing(index_elements=["name"])


class SqlJobStore:
    """``JobStore`` and ``TickClaims``: a tick is claimed by moving ``last_tick`` forward
    in one conditional UPDATE, which exactly one process wins."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._reader = reader(engine)

    async def claim(self, name: str, tick: int, ttl_seconds: float) -> bool:
        async with self._writer.begin() as conn:
            await conn.execute(_insert_ignore(self._engine, {"name": name, "runs": 0}))
            result = await conn.execute(
                update(job_states)
                .where(job_states.c.name == name)
                .where(or_(job_states.c.last_tick.is_(None), job_states.c.last_tick < tick))
                .values(last_tick=tick)
            )
        return result.rowcount == 1

    async def record(self, run: JobRun, next_run_at: datetime, failure_id: str) -> None:
        failed = run.outcome is JobOutcome.FAILED
        async with self._writer.begin() as conn:
            await conn.execute(_insert_ignore(self._engine, {"name": run.name, "runs": 0}))
            await conn.execute(
                update(job_states)
                .where(job_states.c.name == run.name)
                .values(
                    last_run_at=run.started_at, last_duration_ms=run.duration_ms,
                    last_outcome=run.outcome.value, last_error=run.error,
                    last_detail=(run.detail or None) and run.detail[:500],
                    next_run_at=next_run_at, runs=job_states.c.runs + 1,
                    failures=job_states.c.failures + (1 if failed else 0),
                )
            )  # fmt: skip
            if failed:
                await conn.execute(
                    job_failures.insert().values(
                        id=failure_id, name=run.name, failed_at=run.finished_at,
                        attempts=run.attempts, error=run.error or "",
                    )
                )  # fmt: skip

    async def states(self) -> list[JobState]:
        async with self._reader.connect() as conn:
            rows = (await conn.execute(select(job_states))).mappings().all()
        return [_to_state(r) for r in rows]

    async def failures(self, *, limit: int) -> list[JobFailure]:
        query = (
            select(job_failures)
            .order_by(job_failures.c.failed_at.desc(), job_failures.c.id.desc())
            .limit(limit)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            JobFailure(r["id"], r["name"], r["failed_at"], r["attempts"], r["error"]) for r in rows
        ]


def _to_state(r: RowMapping) -> JobState:
    return JobState(
        name=r["name"], last_run_at=r["last_run_at"], last_duration_ms=r["last_duration_ms"],
        last_outcome=JobOutcome(r["last_outcome"]) if r["last_outcome"] else None,
        last_error=r["last_error"], last_detail=r["last_detail"], next_run_at=r["next_run_at"],
        runs=r["runs"], failures=r["failures"],
    )  # fmt: skip


class SqlExpiredPurger:
    """Deletes expired sessions, sign-in challenges, one-time tokens and OAuth flow states
    kept in the database (in Redis they expire by themselves)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._writer = writer(engine)

    async def purge_expired(self, now: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        async with self._writer.begin() as conn:
            for table in (sessions, login_challenges, one_time_tokens, oauth_states):
                result = await conn.execute(delete(table).where(table.c.expires_at <= now))
                counts[table.name] = result.rowcount
        return counts
