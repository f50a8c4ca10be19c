"""Contract of the pool's ``CredentialRepository`` (``uow.pool_credentials``), run
against every implementation of the unit of work."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from domain.ids import new_id
from domain.keyring_service import StoredSecret
from domain.pool.model import Credential, CredentialFilter, CredentialStatus
from domain.pool.service import payload_aad
from tests.contract.conftest import Backend

pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")

T0 = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)


def make(provider: str = "qqmusic", **fields: object) -> Credential:
    values: dict[str, object] = {
        "id": new_id(),
        "provider": provider,
        "label": "account",
        "capabilities": ("play_url", "song"),
        "status": CredentialStatus.ACTIVE,
        "health_score": 1.0,
        "fail_count": 0,
        "created_at": T0,
        **fields,
    }
    return Credential(**values)  # type: ignore[arg-type]


async def put(backend: Backend, credential: Credential, blob: bytes = b"sealed") -> Credential:
    async with backend.adapters.uow() as uow:
        await uow.pool_credentials.add(credential, blob)
        await uow.commit()
    return credential


async def test_a_credential_round_trips_every_field(backend: Backend) -> None:
    full = make(
        cooldown_until=T0 + timedelta(minutes=5),
        last_used_at=T0 + timedelta(seconds=1),
        last_failed_at=T0 + timedelta(seconds=2),
        expires_at=T0 + timedelta(days=3),
        max_concurrency=2,
        requests_per_second=7,
        refresh_queued_at=T0 + timedelta(seconds=3),
        health_score=0.8125,
        fail_count=3,
        status=CredentialStatus.EXPIRED,
        check_failures=2,  # worker (issue 17): the health-check streak is stored
    )
    await put(backend, full, b"\x00blob\xff")
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.get(full.id) == full
        sealed = await uow.pool_credentials.sealed(full.id)
    assert sealed is not None and sealed.credential == full
    assert sealed.payload_enc == b"\x00blob\xff"


async def test_an_unknown_credential_is_none(backend: Backend) -> None:
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.get(new_id()) is None
        assert await uow.pool_credentials.sealed(new_id()) is None
        assert await uow.pool_credentials.get_for_update(new_id()) is None
        assert await uow.pool_credentials.delete(new_id()) is False


async def test_leaving_without_commit_rolls_back(backend: Backend) -> None:
    credential = make()
    async with backend.adapters.uow() as uow:
        await uow.pool_credentials.add(credential, b"sealed")
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.get(credential.id) is None


async def test_leasable_is_the_providers_stored_active_credentials(backend: Backend) -> None:
    active = await put(backend, make(), b"a")
    await put(backend, make(status=CredentialStatus.DISABLED))
    await put(backend, make(status=CredentialStatus.EXPIRED))
    await put(backend, make("netease"))
    async with backend.adapters.uow() as uow:
        found = await uow.pool_credentials.leasable("qqmusic")
    assert [(s.credential.id, s.payload_enc) for s in found] == [(active.id, b"a")]


async def test_update_changes_the_state_but_not_the_payload(backend: Backend) -> None:
    credential = await put(backend, make(), b"kept")
    changed = replace(
        credential,
        label="renamed",
        status=CredentialStatus.DISABLED,
        health_score=0.5,
        fail_count=4,
        capabilities=(),
        cooldown_until=T0 + timedelta(minutes=1),
    )
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.get_for_update(credential.id) == credential
        await uow.pool_credentials.update(changed)
        await uow.commit()
    async with backend.adapters.uow() as uow:
        sealed = await uow.pool_credentials.sealed(credential.id)
    assert sealed is not None
    assert (sealed.credential, sealed.payload_enc) == (changed, b"kept")


async def test_replace_payload_sets_the_blob_and_expiry(backend: Backend) -> None:
    credential = await put(backend, make(), b"old")
    async with backend.adapters.uow() as uow:
        await uow.pool_credentials.replace_payload(credential.id, b"new", T0 + timedelta(days=9))
        await uow.commit()
    async with backend.adapters.uow() as uow:
        sealed = await uow.pool_credentials.sealed(credential.id)
    assert sealed is not None and sealed.payload_enc == b"new"
    assert sealed.credential.expires_at == T0 + timedelta(days=9)


async def test_delete_removes_it(backend: Backend) -> None:
    credential = await put(backend, make())
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.delete(credential.id) is True
        await uow.commit()
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.get(credential.id) is None


async def test_pages_filter_by_provider_and_status_in_id_order(backend: Backend) -> None:
    made = [await put(backend, make()) for _ in range(4)]
    disabled = await put(backend, make(status=CredentialStatus.DISABLED))
    await put(backend, make("netease"))
    qq = sorted(c.id for c in [*made, disabled])
    async with backend.adapters.uow() as uow:
        repo = uow.pool_credentials
        first = await repo.page(CredentialFilter(provider="qqmusic"), limit=3, offset=0)
        rest = await repo.page(CredentialFilter(provider="qqmusic"), limit=3, offset=3)
        only = await repo.page(
            CredentialFilter(status=CredentialStatus.DISABLED), limit=10, offset=0
        )
        everyone = await repo.page(CredentialFilter(), limit=100, offset=0)
        of_provider = await repo.of_provider("qqmusic")
    assert [c.id for c in first.items + rest.items] == qq
    assert (first.total, first.limit, first.offset) == (5, 3, 0)
    assert [c.id for c in only.items] == [disabled.id] and only.total == 1
    assert everyone.total == 6
    assert [c.id for c in of_provider] == qq


async def test_the_refresh_queue_is_oldest_first(backend: Backend) -> None:
    later = await put(backend, make(refresh_queued_at=T0 + timedelta(minutes=2)))
    sooner = await put(backend, make(refresh_queued_at=T0 + timedelta(minutes=1)))
    await put(backend, make())
    async with backend.adapters.uow() as uow:
        queued = await uow.pool_credentials.refresh_queue(limit=10)
        one = await uow.pool_credentials.refresh_queue(limit=1)
    assert [c.id for c in queued] == [sooner.id, later.id]
    assert [c.id for c in one] == [sooner.id]


async def test_encrypted_payloads_are_listed_and_replaced_compare_and_set(
    backend: Backend,
) -> None:
    credential = await put(backend, make(), b"v1-blob")
    async with backend.adapters.uow() as uow:
        listed = await uow.pool_credentials.list_encrypted()
    assert listed == [StoredSecret("pool", credential.id, b"v1-blob", payload_aad(credential.id))]
    async with backend.adapters.uow() as uow:
        assert await uow.pool_credentials.replace_encrypted(listed[0], b"v2-blob") is True
        await uow.commit()
    async with backend.adapters.uow() as uow:
        # The blob changed meanwhile: a stale rotation loses.
        assert await uow.pool_credentials.replace_encrypted(listed[0], b"v3-blob") is False
        sealed = await uow.pool_credentials.sealed(credential.id)
    assert sealed is not None and sealed.payload_enc == b"v2-blob"


async def test_concurrent_locked_updates_lose_nothing(backend: Backend) -> None:
    credential = await put(backend, make())

    async def fail_once() -> None:
        async with backend.adapters.uow() as uow:
            current = await uow.pool_credentials.get_for_update(credential.id)
            assert current is not None
            await asyncio.sleep(0.001)  # let the others try to interleave
            await uow.pool_credentials.update(replace(current, fail_count=current.fail_count + 1))
            await uow.commit()

    await asyncio.gather(*(fail_once() for _ in range(12)))
    async with backend.adapters.uow() as uow:
        after = await uow.pool_credentials.get(credential.id)
    assert after is not None and after.fail_count == 12


@pytest.mark.backends("sqlite", "postgres")
async def test_the_database_refuses_a_stored_refreshing_status(backend: Backend) -> None:
    credential = await put(backend, make())
    assert backend.engine is not None
    with pytest.raises(Exception, match=r"(?i)check"):
        async with backend.engine.begin() as conn:
            await conn.execute(
                text("UPDATE pool_credentials SET status = 'refreshing' WHERE id = :id"),
                {"id": credential.id},
            )
