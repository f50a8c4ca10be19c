"""The operators' metrics of issue 17 beyond jobs: pool leases, releases by result and
health checks by provider; payment callbacks by verdict; music provider calls by provider,
operation and status, with their latency. Each is read back from the Prometheus registry
after the domain operation that it counts."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from domain.billing.commands import CreateOrder
from domain.clock import ManualClock
from domain.leases import LeaseResult
from domain.music.errors import UpstreamUnreachable
from domain.music.model import PageRequest, SearchType
from domain.pool.commands import AddCredential
from domain.principal import AuthMethod, Principal, Role
from gateway.metrics import DomainMetrics
from integrations.payments import MockProvider
from tests.fakes.pool_lifecycle import ScriptedLifecycle
from tests.support.billing import new_user
from tests.support.services import Built, build, offline, unit_settings

ADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def lifecycle() -> ScriptedLifecycle:
    return ScriptedLifecycle("qqmusic")


@pytest.fixture
def world(lifecycle: ScriptedLifecycle) -> tuple[Built, CollectorRegistry]:
    built = build(
        ManualClock(T0),
        settings=unit_settings(billing_mock_payments=True),
        outbound=offline(credential_lifecycles=(lifecycle,)),
    )
    registry = CollectorRegistry()
    built.services.observations.add(DomainMetrics(registry))
    return built, registry


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_pool_leases_releases_and_health_checks_are_counted(
    world: tuple[Built, CollectorRegistry], lifecycle: ScriptedLifecycle
) -> None:
    built, registry = world
    pool = built.services.pool
    payload = base64.b64encode(json.dumps({"cookie": "c"}).encode()).decode()
    await pool.add(ADMIN, AddCredential("qqmusic", "one", payload))
    lease = await pool.acquire("qqmusic", "song.url")
    assert lease is not None
    await pool.release(lease, LeaseResult.RATE_LIMITED)
    await pool.release(lease, LeaseResult.OK)  # released already: not counted twice
    assert value(registry, "karpov_pool_leases_total", provider="qqmusic") == 1
    assert value(registry, "karpov_pool_releases_total", result="rate_limited") == 1
    assert value(registry, "karpov_pool_releases_total", result="ok") == 0

    await built.services.jobs.run("pool_health")
    lifecycle.failure = UpstreamUnreachable("down")
    await built.services.jobs.run("pool_health")
    checks = "karpov_pool_health_checks_total"
    assert value(registry, checks, provider="qqmusic", outcome="ok") == 1
    assert value(registry, checks, provider="qqmusic", outcome="failed") == 1


async def test_payment_callbacks_are_counted_by_verdict(
    world: tuple[Built, CollectorRegistry],
) -> None:
    built, registry = world
    _, me = await new_user(built.adapters.uow)
    order = await built.services.orders.create_plan_order(me, CreateOrder("pro", "mock"))
    params = MockProvider.callback_params(order.id, order.amount)
    callbacks = built.services.payment_callbacks
    await callbacks.receive("mock", params, "203.0.113.7")
    await callbacks.receive("mock", params, "203.0.113.7")
    await callbacks.receive("mock", {"order_id": order.id}, "203.0.113.7")  # no amount
    total = "karpov_payment_callbacks_total"
    assert value(registry, total, provider="mock", verdict="fulfilled") == 1
    assert value(registry, total, provider="mock", verdict="duplicate") == 1
    assert value(registry, total, provider="mock", verdict="refused") == 1


async def test_music_provider_calls_are_counted_with_their_latency(
    world: tuple[Built, CollectorRegistry],
) -> None:
    built, registry = world
    await built.services.music.search("local", "dawn", SearchType.SONG, PageRequest())
    await built.services.music.search("local", "dawn", SearchType.SONG, PageRequest())  # cached
    calls = value(registry, "karpov_upstream_calls_total",
                  provider="local", operation="search", status="ok")  # fmt: skip
    timed = value(registry, "karpov_upstream_call_duration_seconds_count",
                  provider="local", operation="search")  # fmt: skip
    assert calls == timed == 1
