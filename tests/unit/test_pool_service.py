"""The credential pool's rules, on the in-process bundle with a controllable clock:
validation, weighted choice, exclusive leases (concurrency and rate), lease TTL, the
release taxonomy, refresh (its lock cannot stick) and tests through the lifecycle."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from datetime import timedelta
from typing import Any

import pytest

from domain.clock import ManualClock
from domain.errors import DomainError, Unauthenticated
from domain.leases import CredentialLeaser, LeaseResult
from domain.music.errors import UpstreamAuthFailed, UpstreamRateLimit, UpstreamUnreachable
from domain.pool.commands import AddCredential, CheckCredential, SetCredentialStatus
from domain.pool.errors import (
    PoolAdminRequired,
    PoolCredentialNotFound,
    PoolInvalidInput,
    PoolInvalidPayload,
    PoolLifecycleUnavailable,
    PoolRefreshFailed,
    PoolRefreshInProgress,
    PoolUnknownProvider,
)
from domain.pool.model import Credential, CredentialStatus
from domain.pool.service import PoolService
from domain.principal import AuthMethod, Principal, Role
from domain.security.model import AuditFilter
from tests.fakes.pool_lifecycle import RENEWED_EXPIRY, ScriptedLifecycle
from tests.support.services import Built, build, offline

ADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
USER = Principal(AuthMethod.SESSION, user_id="u" * 32, session_id="s")
SECRET_COOKIE = "MUSIC_U=very-secret-cookie-value"


def payload(cookie: str = SECRET_COOKIE, **extra: Any) -> str:
    return base64.b64encode(json.dumps({"cookie": cookie, **extra}).encode()).decode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def lifecycle() -> ScriptedLifecycle:
    return ScriptedLifecycle("qqmusic")


@pytest.fixture
def built(clock: ManualClock, lifecycle: ScriptedLifecycle) -> Built:
    return build(clock, outbound=offline(credential_lifecycles=(lifecycle,)))


@pytest.fixture
def pool(built: Built) -> PoolService:
    return built.services.pool


async def add(pool: PoolService, provider: str = "qqmusic", **fields: Any) -> Credential:
    command = AddCredential(
        provider=provider,
        label=fields.pop("label", "account"),
        payload_base64=fields.pop("payload_base64", payload()),
        **fields,
    )
    return await pool.add(ADMIN, command)


async def stored(pool: PoolService, credential_id: str) -> Credential:
    return await pool.get(ADMIN, credential_id)


def test_the_pool_is_the_music_leaser(pool: PoolService) -> None:
    leaser: CredentialLeaser = pool
    assert leaser is pool


# -- adding and validation ------------------------------------------------------------------


async def test_a_new_credential_is_active_and_healthy(pool: PoolService) -> None:
    created = await add(pool, capabilities=["play_url", "song"], label="  main  ")
    assert created.status is CredentialStatus.ACTIVE
    assert (created.health_score, created.fail_count) == (1.0, 0)
    assert created.capabilities == ("play_url", "song")
    assert created.label == "main"
    assert (created.max_concurrency, created.requests_per_second) == (4, 3)
    assert await stored(pool, created.id) == created


async def test_the_lifecycle_reads_the_payloads_expiry(pool: PoolService) -> None:
    created = await add(pool, payload_base64=payload(expires=1_900_000_000))
    assert created.expires_at is not None
    assert int(created.expires_at.timestamp()) == 1_900_000_000


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"provider": "spotify"}, PoolUnknownProvider, "provider"),
        ({"capabilities": ["teleport"]}, PoolInvalidInput, "capabilities"),
        ({"payload_base64": "not base64!!"}, PoolInvalidPayload, "payload"),
        ({"payload_base64": ""}, PoolInvalidPayload, "payload"),
        ({"payload_base64": base64.b64encode(b"{}").decode()}, PoolInvalidPayload, "payload"),
        ({"label": "   "}, PoolInvalidInput, "label"),
        ({"label": "x" * 201}, PoolInvalidInput, "label"),
        ({"max_concurrency": 0}, PoolInvalidInput, "maxConcurrency"),
        ({"requests_per_second": 5000}, PoolInvalidInput, "requestsPerSecond"),
    ],
)
async def test_bad_input_names_the_field(
    pool: PoolService, fields: dict[str, Any], error: type[DomainError], field: str
) -> None:
    provider = fields.pop("provider", "qqmusic")
    with pytest.raises(error) as caught:
        await add(pool, provider, **fields)
    assert caught.value.field == field
    assert caught.value.http_status == 400


async def test_a_provider_without_lifecycle_takes_any_payload(pool: PoolService) -> None:
    created = await add(pool, "netease", payload_base64=base64.b64encode(b"raw").decode())
    assert created.provider == "netease" and created.expires_at is None


async def test_only_admins_manage_the_pool(pool: PoolService) -> None:
    with pytest.raises(PoolAdminRequired):
        await pool.add(USER, AddCredential("qqmusic", "x", payload()))
    with pytest.raises(Unauthenticated):
        await pool.list_credentials(Principal(AuthMethod.ANONYMOUS))


async def test_list_filters_and_pages_by_id(pool: PoolService) -> None:
    made = [await add(pool, label=f"q{i}") for i in range(3)]
    other = await add(pool, "netease")
    await pool.set_status(ADMIN, SetCredentialStatus(made[0].id, "disabled"))
    everything = await pool.list_credentials(ADMIN)
    assert [c.id for c in everything.items] == sorted(c.id for c in [*made, other])
    qq = await pool.list_credentials(ADMIN, provider="qqmusic", limit=2)
    assert qq.total == 3 and len(qq.items) == 2
    disabled = await pool.list_credentials(ADMIN, status="disabled")
    assert [c.id for c in disabled.items] == [made[0].id]
    with pytest.raises(PoolInvalidInput) as caught:
        await pool.list_credentials(ADMIN, status="sleepy")
    assert caught.value.field == "statusFilter"


async def test_removal_is_a_hard_delete(pool: PoolService) -> None:
    created = await add(pool)
    await pool.remove(ADMIN, created.id)
    with pytest.raises(PoolCredentialNotFound):
        await stored(pool, created.id)
    with pytest.raises(PoolCredentialNotFound):
        await pool.remove(ADMIN, created.id)


# -- leasing --------------------------------------------------------------------------------


async def test_a_lease_hands_out_the_decrypted_payload(pool: PoolService) -> None:
    created = await add(pool, capabilities=["play_url"])
    lease = await pool.acquire("qqmusic", "play_url")
    assert lease is not None
    assert lease.secret.credential_id == created.id
    assert json.loads(lease.secret.payload)["cookie"] == SECRET_COOKIE
    assert SECRET_COOKIE not in repr(lease)


async def test_acquire_filters_provider_capability_status_cooldown_and_exclude(
    pool: PoolService, clock: ManualClock
) -> None:
    songs = await add(pool, capabilities=["song"])
    assert await pool.acquire("netease", "song") is None
    assert await pool.acquire("qqmusic", "play_url") is None
    assert await pool.acquire("qqmusic", "song", exclude=[songs.id]) is None
    everything = await add(pool)  # no capabilities: serves all
    lease = await pool.acquire("qqmusic", "play_url")
    assert lease is not None and lease.secret.credential_id == everything.id
    await pool.release(lease, LeaseResult.OK)
    await pool.set_status(ADMIN, SetCredentialStatus(everything.id, "disabled"))
    assert await pool.acquire("qqmusic", "play_url") is None
    await pool.set_status(ADMIN, SetCredentialStatus(everything.id, "active"))
    lease = await pool.acquire("qqmusic", "play_url")
    assert lease is not None
    await pool.release(lease, LeaseResult.RATE_LIMITED)
    assert await pool.acquire("qqmusic", "play_url") is None  # cooling down
    clock.advance(timedelta(minutes=5, seconds=1))
    assert await pool.acquire("qqmusic", "play_url") is not None


async def test_leases_are_exclusive_up_to_max_concurrency(
    pool: PoolService, clock: ManualClock
) -> None:
    await add(pool, max_concurrency=2, requests_per_second=100)
    first = await pool.acquire("qqmusic", "song")
    second = await pool.acquire("qqmusic", "song")
    assert first is not None and second is not None
    assert await pool.acquire("qqmusic", "song") is None
    await pool.release(first, LeaseResult.OK)
    assert await pool.acquire("qqmusic", "song") is not None


async def test_the_request_rate_is_per_credential_per_second(
    pool: PoolService, clock: ManualClock
) -> None:
    await add(pool, max_concurrency=10)  # default: 3 requests a second
    for _ in range(3):
        lease = await pool.acquire("qqmusic", "song")
        assert lease is not None
        await pool.release(lease, LeaseResult.OK)
    assert await pool.acquire("qqmusic", "song") is None
    clock.advance(1.001)
    assert await pool.acquire("qqmusic", "song") is not None


async def test_a_full_credential_passes_the_call_to_another(pool: PoolService) -> None:
    one = await add(pool, max_concurrency=1)
    two = await add(pool, max_concurrency=1)
    leases = [await pool.acquire("qqmusic", "song") for _ in range(2)]
    assert {lease.secret.credential_id for lease in leases if lease} == {one.id, two.id}
    assert await pool.acquire("qqmusic", "song") is None


async def test_an_expired_lease_frees_its_slot_and_its_release_is_moot(
    pool: PoolService, clock: ManualClock
) -> None:
    created = await add(pool, max_concurrency=1)
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None
    assert await pool.acquire("qqmusic", "song") is None
    clock.advance(30.001)
    again = await pool.acquire("qqmusic", "song")
    assert again is not None
    await pool.release(lease, LeaseResult.AUTH_FAILED)  # too late: changes nothing
    assert (await stored(pool, created.id)).status is CredentialStatus.ACTIVE


async def test_releasing_twice_applies_the_outcome_once(pool: PoolService) -> None:
    created = await add(pool)
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None
    await pool.release(lease, LeaseResult.NETWORK_ERROR)
    await pool.release(lease, LeaseResult.NETWORK_ERROR)
    assert (await stored(pool, created.id)).fail_count == 1


async def test_the_choice_is_weighted_by_health_and_failures(
    built: Built, clock: ManualClock
) -> None:
    pool = built.services.pool
    pool._rng = random.Random(7)
    healthy = await add(pool, requests_per_second=1000, max_concurrency=64)
    failing = await add(pool, requests_per_second=1000, max_concurrency=64)
    for _ in range(3):  # failCount 3: weight 1/4
        lease = await pool.acquire("qqmusic", "song", exclude=[healthy.id])
        assert lease is not None
        await pool.release(lease, LeaseResult.UPSTREAM_ERROR)
    picks = {healthy.id: 0, failing.id: 0}
    for _ in range(500):
        lease = await pool.acquire("qqmusic", "song")
        assert lease is not None
        picks[lease.secret.credential_id] += 1
        await pool.release(lease, LeaseResult.NOT_FOUND)  # no penalty: weights stay
        clock.advance(0.01)
    share = picks[healthy.id] / 500
    assert 0.72 < share < 0.88  # expected 1 / (1 + 1/4) = 0.8


# -- the release taxonomy -----------------------------------------------------------------


async def released(pool: PoolService, result: LeaseResult, credential: Credential) -> Credential:
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None and lease.secret.credential_id == credential.id
    await pool.release(lease, result)
    return await stored(pool, credential.id)


async def lower_health(pool: PoolService, credential: Credential) -> Credential:
    # A rate-limit takes health to 0.8; the cooldown is lifted by re-activation.
    after = await released(pool, LeaseResult.RATE_LIMITED, credential)
    await pool.set_status(ADMIN, SetCredentialStatus(credential.id, "active"))
    return after


async def test_ok_raises_health_by_a_hundredth_and_clears_failures(
    pool: PoolService, clock: ManualClock
) -> None:
    created = await add(pool, requests_per_second=100)
    await released(pool, LeaseResult.NETWORK_ERROR, created)
    await lower_health(pool, created)
    await released(pool, LeaseResult.NETWORK_ERROR, created)
    after = await released(pool, LeaseResult.OK, created)
    assert after.health_score == pytest.approx(0.81)
    assert after.fail_count == 0
    assert after.last_used_at == clock.now()
    for _ in range(30):
        after = await released(pool, LeaseResult.OK, created)
    assert after.health_score == 1.0  # capped


async def test_rate_limited_cools_down_five_minutes_and_costs_a_fifth_of_health(
    pool: PoolService, clock: ManualClock
) -> None:
    created = await add(pool)
    after = await released(pool, LeaseResult.RATE_LIMITED, created)
    assert after.health_score == pytest.approx(0.8)
    assert after.cooldown_until == clock.now() + timedelta(minutes=5)
    assert after.status is CredentialStatus.ACTIVE
    assert after.last_failed_at == clock.now()


async def test_auth_failed_expires_the_credential_and_queues_a_refresh(
    pool: PoolService, clock: ManualClock, lifecycle: ScriptedLifecycle
) -> None:
    created = await add(pool)
    after = await released(pool, LeaseResult.AUTH_FAILED, created)
    assert after.status is CredentialStatus.EXPIRED
    assert after.refresh_queued_at == clock.now()
    assert await pool.acquire("qqmusic", "song") is None
    assert await pool.refresh_queued() == 1
    renewed = await stored(pool, created.id)
    assert renewed.status is CredentialStatus.ACTIVE and renewed.refresh_queued_at is None
    assert lifecycle.refreshed[0].credential_id == created.id


@pytest.mark.parametrize("result", [LeaseResult.NOT_FOUND, LeaseResult.NO_RIGHTS])
async def test_the_contents_failures_cost_the_credential_nothing(
    pool: PoolService, result: LeaseResult
) -> None:
    created = await add(pool)
    await released(pool, LeaseResult.NETWORK_ERROR, created)
    after = await released(pool, result, created)
    assert (after.health_score, after.fail_count, after.status) == (
        1.0, 1, CredentialStatus.ACTIVE,
    )  # fmt: skip
    assert after.cooldown_until is None


@pytest.mark.parametrize("result", [LeaseResult.UPSTREAM_ERROR, LeaseResult.NETWORK_ERROR])
async def test_the_fifth_failure_in_a_row_cools_down_one_minute(
    pool: PoolService, clock: ManualClock, result: LeaseResult
) -> None:
    created = await add(pool, requests_per_second=100)
    for count in range(1, 5):
        after = await released(pool, result, created)
        assert (after.fail_count, after.cooldown_until) == (count, None)
        assert after.health_score == 1.0
    after = await released(pool, result, created)
    assert after.cooldown_until == clock.now() + timedelta(minutes=1)
    assert after.fail_count == 0
    assert await pool.acquire("qqmusic", "song") is None
    clock.advance(61)
    assert await pool.acquire("qqmusic", "song") is not None


# -- status, health ---------------------------------------------------------------------------


async def test_status_can_be_set_to_active_or_disabled_only(pool: PoolService) -> None:
    created = await add(pool)
    for status in ("banned", "expired", "refreshing", "nope"):
        with pytest.raises(PoolInvalidInput) as caught:
            await pool.set_status(ADMIN, SetCredentialStatus(created.id, status))
        assert caught.value.field == "status"
    changed = await pool.set_status(ADMIN, SetCredentialStatus(created.id, "DISABLED"))
    assert changed.status is CredentialStatus.DISABLED
    with pytest.raises(PoolCredentialNotFound):
        await pool.set_status(ADMIN, SetCredentialStatus("f" * 32, "active"))


async def test_health_fills_every_count(pool: PoolService, clock: ManualClock) -> None:
    active = await add(pool, requests_per_second=100)
    cooling = await add(pool, requests_per_second=100)
    disabled = await add(pool)
    expired = await add(pool)
    await add(pool, "netease")
    await pool.set_status(ADMIN, SetCredentialStatus(disabled.id, "disabled"))
    for target, result in ((cooling, LeaseResult.RATE_LIMITED), (expired, LeaseResult.AUTH_FAILED)):
        lease = await pool.acquire("qqmusic", "song", exclude=[active.id])
        while lease is not None and lease.secret.credential_id != target.id:
            await pool.release(lease, LeaseResult.NOT_FOUND)
            lease = await pool.acquire(
                "qqmusic", "song", exclude=[active.id, lease.secret.credential_id]
            )
        assert lease is not None
        await pool.release(lease, result)
    health = await pool.health(ADMIN, "qqmusic")
    assert (health.total, health.active, health.disabled, health.expired) == (4, 2, 1, 1)
    assert (health.banned, health.refreshing, health.in_cooldown) == (0, 0, 1)
    assert health.avg_health_score == pytest.approx(0.9)
    with pytest.raises(PoolUnknownProvider):
        await pool.health(ADMIN, "spotify")


# -- refresh and test -------------------------------------------------------------------------


async def test_refresh_renews_the_payload_and_revives_the_credential(
    pool: PoolService, lifecycle: ScriptedLifecycle
) -> None:
    created = await add(pool)
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None
    await pool.release(lease, LeaseResult.AUTH_FAILED)
    renewed = await pool.refresh(ADMIN, created.id)
    assert renewed.status is CredentialStatus.ACTIVE
    assert renewed.expires_at == RENEWED_EXPIRY
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None
    assert json.loads(lease.secret.payload)["cookie"] == SECRET_COOKIE + "-renewed"


async def test_a_refused_refresh_is_a_502_and_a_dead_login_expires(
    pool: PoolService, lifecycle: ScriptedLifecycle
) -> None:
    created = await add(pool)
    lifecycle.failure = UpstreamUnreachable("connection refused")
    with pytest.raises(PoolRefreshFailed):
        await pool.refresh(ADMIN, created.id)
    assert (await stored(pool, created.id)).status is CredentialStatus.ACTIVE
    lifecycle.failure = UpstreamAuthFailed("log in again")
    with pytest.raises(PoolRefreshFailed) as caught:
        await pool.refresh(ADMIN, created.id)
    assert caught.value.http_status == 502
    assert (await stored(pool, created.id)).status is CredentialStatus.EXPIRED


async def test_one_refresh_at_a_time_shown_as_refreshing(
    pool: PoolService, lifecycle: ScriptedLifecycle
) -> None:
    created = await add(pool)
    lifecycle.refresh_gate = asyncio.Event()
    running = asyncio.create_task(pool.refresh(ADMIN, created.id))
    for _ in range(100):  # let the refresh run up to the lifecycle call
        if lifecycle.refreshed:
            break
        await asyncio.sleep(0)
    assert (await stored(pool, created.id)).status is CredentialStatus.REFRESHING
    assert (await pool.health(ADMIN, "qqmusic")).refreshing == 1
    listed = await pool.list_credentials(ADMIN, status="refreshing")
    assert [c.id for c in listed.items] == [created.id]
    assert await pool.acquire("qqmusic", "song") is None  # not leased mid-refresh
    with pytest.raises(PoolRefreshInProgress):
        await pool.refresh(ADMIN, created.id)
    lifecycle.refresh_gate.set()
    assert (await running).status is CredentialStatus.ACTIVE
    assert (await stored(pool, created.id)).status is CredentialStatus.ACTIVE


async def test_a_crashed_refresh_cannot_leave_refreshing_behind(
    built: Built, clock: ManualClock
) -> None:
    pool = built.services.pool
    created = await add(pool)
    # What a process that died mid-refresh leaves: the lock, never released.
    lock = built.adapters.pool_refresh
    assert await lock.hold(created.id, "dead-process", ttl_seconds=60, now=clock.now())
    assert (await stored(pool, created.id)).status is CredentialStatus.REFRESHING
    with pytest.raises(PoolRefreshInProgress):
        await pool.refresh(ADMIN, created.id)
    clock.advance(60.001)
    assert (await stored(pool, created.id)).status is CredentialStatus.ACTIVE
    assert (await pool.refresh(ADMIN, created.id)).status is CredentialStatus.ACTIVE


async def test_refresh_and_test_need_the_providers_lifecycle(pool: PoolService) -> None:
    created = await add(pool, "netease", payload_base64=base64.b64encode(b"raw").decode())
    with pytest.raises(PoolLifecycleUnavailable) as caught:
        await pool.refresh(ADMIN, created.id)
    assert caught.value.http_status == 503
    with pytest.raises(PoolLifecycleUnavailable):
        await pool.check(ADMIN, CheckCredential(created.id))


async def test_a_test_reports_and_applies_its_outcome(
    pool: PoolService, lifecycle: ScriptedLifecycle, clock: ManualClock
) -> None:
    created = await add(pool)
    ok = await pool.check(ADMIN, CheckCredential(created.id))
    assert (ok.success, ok.capability, ok.error) == (True, "health_check", None)
    assert lifecycle.checked[0].credential_id == created.id
    lifecycle.failure = UpstreamRateLimit("slow down")
    limited = await pool.check(ADMIN, CheckCredential(created.id, "play_url"))
    assert (limited.success, limited.capability, limited.error) == (False, "play_url", "slow down")
    assert (await stored(pool, created.id)).cooldown_until == clock.now() + timedelta(minutes=5)
    with pytest.raises(PoolInvalidInput) as caught:
        await pool.check(ADMIN, CheckCredential(created.id, "teleport"))
    assert caught.value.field == "capability"


# -- audit ------------------------------------------------------------------------------------


async def test_every_change_is_audited_without_the_payload(
    built: Built, lifecycle: ScriptedLifecycle
) -> None:
    pool = built.services.pool
    created = await add(pool)
    await pool.set_status(ADMIN, SetCredentialStatus(created.id, "disabled"))
    await pool.refresh(ADMIN, created.id)
    await pool.check(ADMIN, CheckCredential(created.id))
    await pool.remove(ADMIN, created.id)
    events = await built.adapters.audit.list(AuditFilter(), limit=50, offset=0)
    actions = sorted(e.action.value for e in events.items)
    assert actions == sorted([
        "pool.credential_added", "pool.credential_status_set", "pool.credential_refreshed",
        "pool.credential_tested", "pool.credential_removed",
    ])  # fmt: skip
    for event in events.items:
        assert event.details["credential"] == created.id
        text = json.dumps(event.details)
        assert "very-secret" not in text and payload() not in text


async def test_the_background_refresher_renews_the_queue(
    pool: PoolService, lifecycle: ScriptedLifecycle
) -> None:
    created = await add(pool)
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None
    await pool.release(lease, LeaseResult.AUTH_FAILED)
    task = asyncio.create_task(pool.refresh_queued_periodically(0.001))
    try:
        for _ in range(200):
            if (await stored(pool, created.id)).status is CredentialStatus.ACTIVE:
                break
            await asyncio.sleep(0.005)
    finally:
        task.cancel()
    assert (await stored(pool, created.id)).status is CredentialStatus.ACTIVE


async def test_no_log_line_carries_a_payload(
    pool: PoolService, lifecycle: ScriptedLifecycle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await add(pool)
    lease = await pool.acquire("qqmusic", "song")
    assert lease is not None
    await pool.release(lease, LeaseResult.AUTH_FAILED)
    lifecycle.failure = UpstreamAuthFailed("dead")
    with pytest.raises(PoolRefreshFailed):
        await pool.refresh(ADMIN, created.id)
    await pool.refresh(ADMIN, created.id)
    await pool.check(ADMIN, CheckCredential(created.id))
    assert caplog.records  # the auth failure was logged
    for record in caplog.records:
        line = record.getMessage() + " " + repr(record.__dict__)
        assert "very-secret" not in line and payload() not in line
