"""Contract of ``QrSessionStore`` (admin QR login sessions between polls; upstreams,
issue 15), against every implementation: in-process and Redis (shared by processes)."""

from __future__ import annotations

import asyncio

import pytest

from domain.ids import new_token
from domain.pool.ports import QrSessionStore
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "redis")


@pytest.fixture
def store(backend: Backend) -> QrSessionStore:
    return backend.adapters.qr_sessions


async def test_a_kept_record_is_read_back(store: QrSessionStore) -> None:
    session = new_token()
    await store.put(session, b"\x00state\xff", ttl_seconds=60)
    assert await store.get(session) == b"\x00state\xff"
    assert await store.get(session) == b"\x00state\xff"  # reading keeps it
    assert await store.get(new_token()) is None


async def test_put_replaces_the_record(store: QrSessionStore) -> None:
    session = new_token()
    await store.put(session, b"first", ttl_seconds=60)
    await store.put(session, b"second", ttl_seconds=60)
    assert await store.get(session) == b"second"


async def test_a_record_expires_with_its_ttl(store: QrSessionStore) -> None:
    session = new_token()
    await store.put(session, b"short", ttl_seconds=0.2)
    await asyncio.sleep(0.35)
    assert await store.get(session) is None
    assert await store.take(session) is None


async def test_take_removes_it_for_exactly_one_caller(store: QrSessionStore) -> None:
    session = new_token()
    await store.put(session, b"done", ttl_seconds=60)
    taken = await asyncio.gather(*(store.take(session) for _ in range(8)))
    assert taken.count(b"done") == 1 and taken.count(None) == 7
    assert await store.get(session) is None
