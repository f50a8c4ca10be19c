"""Shutdown stops the periodic flush loops by cancelling them. A loop cancelled while its
batch is being written must not lose that batch (it was already taken off the buffer):
the write runs to its end and the final flush waits for it (the CI failure of stop 21:
SIGTERM one second after start dropped every usage event of the run)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from domain.apikeys.model import KeyUsage
from domain.apikeys.verifier import ApiKeyVerifier
from domain.clock import ManualClock
from domain.quota.metering import Metered
from domain.usage.model import UsageEvent
from domain.usage.service import UsageRecorder
from persistence.memory.usage import MemoryUsageStore


class SlowUsageStore(MemoryUsageStore):
    """Holds each write until ``release`` is set, so a test can cancel mid-write."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = asyncio.Event()
        self.release = asyncio.Event()
        self.written: list[str] = []

    async def record(self, events: Sequence[UsageEvent]) -> None:
        self.writing.set()
        await self.release.wait()
        self.written.extend(e.id for e in events)
        await super().record(events)


async def cancel_mid_write(loop_task: asyncio.Task[None], store_writing: asyncio.Event) -> None:
    await asyncio.wait_for(store_writing.wait(), 5)
    loop_task.cancel()
    await asyncio.wait([loop_task], timeout=5)
    assert loop_task.cancelled()


async def test_a_usage_batch_being_written_when_the_loop_is_cancelled_is_kept() -> None:
    clock = ManualClock()
    store = SlowUsageStore()
    recorder = UsageRecorder(store, clock, timezone=ZoneInfo("UTC"))
    for _ in range(5):
        recorder.record(
            user_id="u1", key_id="k1", metered=Metered("local.search"), ok=True,
            started=clock.now(),
        )  # fmt: skip
    loop_task = asyncio.create_task(recorder.flush_periodically(0.01))
    await cancel_mid_write(loop_task, store.writing)
    recorder.record(
        user_id="u1", key_id="k1", metered=Metered("local.search"), ok=True, started=clock.now()
    )
    final = asyncio.create_task(recorder.flush())  # what Container.close() does
    await asyncio.sleep(0.05)
    assert not final.done()  # it waits for the write in flight
    store.release.set()
    await asyncio.wait_for(final, 5)
    assert len(store.written) == 6 == len(set(store.written))  # every event, exactly once
    totals = await store.totals("u1", clock.now().date())
    assert totals.day_count == 6


class SlowKeyStore:
    def __init__(self) -> None:
        self.writing = asyncio.Event()
        self.release = asyncio.Event()
        self.requests: dict[str, int] = {}

    async def add_usage(self, usage: Mapping[str, KeyUsage]) -> None:
        self.writing.set()
        await self.release.wait()
        for key_id, used in usage.items():
            self.requests[key_id] = self.requests.get(key_id, 0) + used.requests


async def test_key_request_counts_being_written_when_the_loop_is_cancelled_are_kept() -> None:
    store = SlowKeyStore()
    verifier = ApiKeyVerifier(
        store=store,  # type: ignore[arg-type]  # only add_usage is reached
        owners=lambda _id: asyncio.sleep(0, None),
        hasher=None,  # type: ignore[arg-type]
        clock=ManualClock(),
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(3):
        verifier._note_use("k1", now)  # what a verified request does
    loop_task = asyncio.create_task(verifier.flush_periodically(0.01))
    await cancel_mid_write(loop_task, store.writing)
    verifier._note_use("k1", now)
    final = asyncio.create_task(verifier.flush_usage())
    await asyncio.sleep(0.05)
    assert not final.done()
    store.release.set()
    await asyncio.wait_for(final, 5)
    assert store.requests == {"k1": 4}  # counted once each: an increment is never resent
