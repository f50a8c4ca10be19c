"""Contract of the payment callback store (issue 16), on every implementation: a record is
kept as received, its verdict written later, and admins page through it newest first by
order, provider or "refused"."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.billing.callbacks import CallbackFilter, CallbackRecord, CallbackResultKind
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")

NOW = datetime(2026, 12, 2, 7, tzinfo=UTC)


def received(n: int, provider: str = "yipay", order_id: str | None = None) -> CallbackRecord:
    return CallbackRecord(
        id=f"{n:032x}", provider=provider, params={"out_trade_no": order_id or "?", "n": str(n)},
        client_ip="198.51.100.9", received_at=NOW + timedelta(seconds=n),
    )  # fmt: skip


async def test_a_record_is_kept_then_completed_with_its_verdict(backend: Backend) -> None:
    store = backend.adapters.payment_callbacks
    record = received(1)
    await store.add(record)
    assert await store.get(record.id) == record
    verdict = replace(
        record, signature_ok=True, processed=True, result=CallbackResultKind.FULFILLED,
        order_id="a" * 32, provider_txn_id="T1", amount_minor=990, currency="CNY", late=True,
        params={"ignored": "the stored body never changes"},
    )  # fmt: skip
    await store.update(verdict)
    stored = await store.get(record.id)
    assert stored == replace(verdict, params=record.params)
    assert await store.get("f" * 32) is None


async def test_pages_filter_by_order_provider_and_refusal(backend: Backend) -> None:
    store = backend.adapters.payment_callbacks
    for n in range(1, 6):
        record = received(n, "yipay" if n % 2 else "ldcpay")
        await store.add(record)
        if n <= 3:
            result = CallbackResultKind.FULFILLED if n == 1 else CallbackResultKind.DUPLICATE
            await store.update(replace(record, order_id="b" * 32, result=result, processed=True))
        elif n == 4:
            await store.update(replace(record, result=CallbackResultKind.REFUSED, error="sig"))
    everything = await store.list(CallbackFilter(), limit=2, offset=0)
    assert everything.total == 5 and [r.id for r in everything.items] == [f"{5:032x}", f"{4:032x}"]
    by_order = await store.list(CallbackFilter(order_id="b" * 32), limit=50, offset=0)
    assert [r.id for r in by_order.items] == [f"{n:032x}" for n in (3, 2, 1)]
    by_provider = await store.list(CallbackFilter(provider="ldcpay"), limit=50, offset=0)
    assert by_provider.total == 2
    refused = await store.list(CallbackFilter(refused_only=True), limit=50, offset=0)
    assert [r.result for r in refused.items] == [CallbackResultKind.RECEIVED,
                                                 CallbackResultKind.REFUSED]  # fmt: skip
