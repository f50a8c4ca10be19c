"""Contract of the mail outbox: ``uow.mail_outbox`` stages a mail in the unit of work
(gone on rollback), ``adapters.mail_outbox`` hands each due mail to one deliverer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.ids import new_id
from domain.mail.ports import OutboxMail
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def mail(**fields: object) -> OutboxMail:
    values: dict[str, object] = {
        "id": new_id(), "to": "a@example.com", "sealed": b"\x00sealed", "created_at": T0,
        "next_attempt_at": T0, **fields,
    }  # fmt: skip
    return OutboxMail(**values)  # type: ignore[arg-type]


async def stage(backend: Backend, m: OutboxMail, *, commit: bool = True) -> OutboxMail:
    async with backend.adapters.uow() as uow:
        await uow.mail_outbox.add(m)
        if commit:
            await uow.commit()
    return m


async def test_a_staged_mail_exists_only_after_commit(backend: Backend) -> None:
    dropped = await stage(backend, mail(), commit=False)
    kept = await stage(backend, mail())
    store = backend.adapters.mail_outbox
    assert await store.get(dropped.id) is None
    assert await store.get(kept.id) == kept
    assert [m.id for m in await store.due(T0, limit=10)] == [kept.id]


async def test_one_deliverer_claims_a_due_mail(backend: Backend) -> None:
    m = await stage(backend, mail())
    store = backend.adapters.mail_outbox
    until = T0 + timedelta(minutes=2)
    claims = await asyncio.gather(*(store.claim(m.id, T0, until) for _ in range(4)))
    assert sum(1 for c in claims if c is not None) == 1
    assert await store.due(T0 + timedelta(minutes=1), limit=10) == []  # held by the claim
    assert [x.id for x in await store.due(until, limit=10)] == [m.id]  # a crashed attempt


async def test_sent_and_failed_attempts_are_recorded(backend: Backend) -> None:
    store = backend.adapters.mail_outbox
    sent, failing = await stage(backend, mail()), await stage(backend, mail())
    await store.mark_sent(sent.id, T0 + timedelta(seconds=1))
    retry = T0 + timedelta(seconds=30)
    await store.mark_failed(failing.id, attempts=1, next_attempt_at=retry, error="smtp down")
    done = await store.get(sent.id)
    assert done is not None and done.sent_at == T0 + timedelta(seconds=1)
    assert done.next_attempt_at is None and done.attempts == 1
    again = await store.get(failing.id)
    assert again is not None and (again.attempts, again.last_error) == (1, "smtp down")
    assert [m.id for m in await store.due(retry, limit=10)] == [failing.id]
    await store.mark_failed(failing.id, attempts=2, next_attempt_at=None, error="given up")
    assert await store.due(retry + timedelta(days=1), limit=10) == []
