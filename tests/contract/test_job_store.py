"""Contract of the jobs' ``JobStore`` and ``TickClaims`` (``adapters.jobs`` /
``adapters.tick_claims``): the database without Redis, Redis's ``SET NX`` with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.jobs.model import JobOutcome, JobRun
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres", "redis")

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def run(name: str, outcome: JobOutcome, *, error: str | None = None, at: datetime = T0) -> JobRun:
    return JobRun(
        name=name, tick=1, started_at=at, finished_at=at + timedelta(milliseconds=250),
        attempts=3 if error else 1, outcome=outcome, error=error, detail="checked=2",
    )  # fmt: skip


async def test_a_tick_is_claimed_once_and_the_next_one_again(backend: Backend) -> None:
    claims = backend.adapters.tick_claims
    name = f"job-{backend.kind}-{id(backend)}"
    assert await claims.claim(name, 100, 60) is True
    assert await claims.claim(name, 100, 60) is False
    assert await claims.claim(name, 101, 60) is True
    assert await claims.claim(name, 100, 60) is False  # an old tick stays taken


@pytest.mark.backends("sqlite", "postgres", "redis")
async def test_concurrent_claims_of_one_tick_have_exactly_one_winner(backend: Backend) -> None:
    claims = backend.adapters.tick_claims
    name = f"race-{backend.kind}-{id(backend)}"
    results = await asyncio.gather(*(claims.claim(name, 7, 60) for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]


async def test_runs_are_counted_and_a_final_failure_is_kept(backend: Backend) -> None:
    store = backend.adapters.jobs
    await store.record(run("purge", JobOutcome.OK), T0 + timedelta(minutes=10), "f1")
    failed = run("purge", JobOutcome.FAILED, error="OSError: down", at=T0 + timedelta(minutes=10))
    await store.record(failed, T0 + timedelta(minutes=20), "f2")
    states = {s.name: s for s in await store.states()}
    state = states["purge"]
    assert (state.runs, state.failures) == (2, 1)
    assert state.last_outcome is JobOutcome.FAILED and state.last_error == "OSError: down"
    assert state.last_run_at == T0 + timedelta(minutes=10) and state.last_duration_ms == 250
    assert state.next_run_at == T0 + timedelta(minutes=20)
    failures = await store.failures(limit=10)
    assert [(f.id, f.name, f.attempts, f.error) for f in failures] == [
        ("f2", "purge", 3, "OSError: down")
    ]
    assert failures[0].failed_at == failed.finished_at
