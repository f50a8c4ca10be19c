"""QQ Music logins refreshed under the pool's refresh lock, across processes: two service
instances ("processes": each its own adapters, its own QQ Music client) on one PostgreSQL
and one Redis, both asked to refresh the same credential at once, make ONE upstream
refresh; a refused refresh leaves the credential ``expired``; the health check makes a
call only a live login answers, so a dead login is never reported healthy. The real QQ
Music client talks to the fake over loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clock import SystemClock
from domain.leases import LeaseResult
from domain.pool.commands import AddCredential, CheckCredential
from domain.pool.errors import PoolRefreshFailed, PoolRefreshInProgress
from domain.pool.model import Credential, CredentialStatus
from domain.pool.service import PoolService
from domain.principal import AuthMethod, Principal, Role
from gateway.adapters import Adapters
from gateway.bootstrap import build_services
from integrations.qqmusic import QQMusicUpstream
from tests.fakes.qqmusic import FakeQQMusic, LoopbackServer
from tests.support.services import offline, unit_settings

ADMIN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
LOGIN = ("music.login.LoginServer", "Login")


@dataclass
class World:
    fake: FakeQQMusic
    pools: tuple[PoolService, PoolService]

    def refreshes(self) -> int:
        return sum(1 for c in self.fake.musicu.calls if (c.module, c.method) == LOGIN)

    async def add(self, musicid: int) -> Credential:
        payload = self.fake.credential_payload(self.fake.accounts.add(musicid))
        command = AddCredential(
            provider="qqmusic", label=f"qq {musicid}",
            payload_base64=base64.b64encode(payload).decode(),
        )  # fmt: skip
        return await self.pools[0].add(ADMIN, command)

    async def status(self, credential_id: str) -> CredentialStatus:
        return (await self.pools[1].get(ADMIN, credential_id)).status


@pytest.fixture
def served() -> Iterator[tuple[FakeQQMusic, str]]:
    fake = FakeQQMusic()
    with LoopbackServer(fake) as server:
        yield fake, server.origin


@pytest_asyncio.fixture(loop_scope="session")
async def world(
    served: tuple[FakeQQMusic, str], pg_engine: AsyncEngine, redis_client: Redis
) -> AsyncIterator[World]:
    fake, origin = served
    clients = [QQMusicUpstream(FakeQQMusic.config_for(origin)) for _ in range(2)]
    pools = []
    for client in clients:
        clock = SystemClock()
        outbound = offline(credential_lifecycles=(client.credentials,))
        adapters = Adapters.sql(
            pg_engine, redis_client, quota_redis=redis_client, clock=clock, outbound=outbound
        )
        pools.append(build_services(adapters, unit_settings(), clock).pool)
    try:
        yield World(fake, (pools[0], pools[1]))
    finally:
        for client in clients:
            await client.aclose()


async def test_two_processes_refreshing_one_credential_make_one_upstream_refresh(
    world: World,
) -> None:
    credential = await world.add(880101)
    world.fake.delay_s = 0.3  # the refresh is still under way when the other asks
    outcomes = await asyncio.gather(
        world.pools[0].refresh(ADMIN, credential.id),
        world.pools[1].refresh(ADMIN, credential.id),
        return_exceptions=True,
    )
    world.fake.delay_s = 0.0
    renewed = [o for o in outcomes if isinstance(o, Credential)]
    refused = [o for o in outcomes if isinstance(o, PoolRefreshInProgress)]
    assert len(renewed) == 1 and len(refused) == 1, outcomes
    assert world.refreshes() == 1
    assert renewed[0].status is CredentialStatus.ACTIVE
    # The lock is let go: a later refresh from the other process goes through.
    await world.pools[1].refresh(ADMIN, credential.id)
    assert world.refreshes() == 2


async def test_two_background_refreshers_renew_a_dead_login_once(world: World) -> None:
    credential = await world.add(880102)
    lease = await world.pools[0].acquire("qqmusic", "play_url")
    assert lease is not None
    await world.pools[0].release(lease, LeaseResult.AUTH_FAILED)  # a call found it dead
    assert await world.status(credential.id) is CredentialStatus.EXPIRED
    world.fake.delay_s = 0.3
    renewed = await asyncio.gather(world.pools[0].refresh_queued(), world.pools[1].refresh_queued())
    world.fake.delay_s = 0.0
    assert sorted(renewed) == [0, 1] and world.refreshes() == 1
    assert await world.status(credential.id) is CredentialStatus.ACTIVE
    assert await world.pools[0].refresh_queued() == 0  # off the queue


async def test_a_refused_refresh_leaves_the_credential_expired(world: World) -> None:
    credential = await world.add(880103)
    account = world.fake.accounts.get(880103)
    assert account is not None
    world.fake.accounts.rotate(account)  # renewed elsewhere: our refresh key is stale
    with pytest.raises(PoolRefreshFailed):
        await world.pools[1].refresh(ADMIN, credential.id)
    assert await world.status(credential.id) is CredentialStatus.EXPIRED
    assert await world.pools[0].acquire("qqmusic", "play_url") is None  # never leased


async def test_the_health_check_needs_a_live_login(world: World) -> None:
    live = await world.add(880104)
    dead = await world.add(880105)
    account = world.fake.accounts.get(880105)
    assert account is not None
    account.revoked = True  # logged out elsewhere, before its stated expiry
    ok = await world.pools[0].check(ADMIN, CheckCredential(credential_id=live.id))
    failed = await world.pools[1].check(ADMIN, CheckCredential(credential_id=dead.id))
    assert ok.success and not failed.success and failed.error
    assert await world.status(live.id) is CredentialStatus.ACTIVE
    assert await world.status(dead.id) is CredentialStatus.EXPIRED
