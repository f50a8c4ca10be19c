"""Contract of ``OAuthIdentityRepository`` (``uow.identities``), run against every
unit-of-work factory."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.accounts.errors import UserNotFound
from domain.accounts.model import Role, User, UserStatus
from domain.clock import ManualClock
from domain.ids import new_id
from domain.keyring_service import StoredSecret
from domain.oauth.errors import OAuthAlreadyBound, OAuthIdentityNotFound
from domain.oauth.model import OAuthIdentity
from domain.oauth.ports import UnitOfWorkFactory
from domain.oauth.service import token_aad
from tests.contract.conftest import Backend
from tests.contract.users import add_user as add_plain_user

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_8 = timezone(timedelta(hours=8))
ACCESS = b"K1\x00\x00\x00\x01" + b"a" * 40
REFRESH = b"K1\x00\x00\x00\x01" + b"r" * 40


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def uow(backend: Backend) -> UnitOfWorkFactory:
    return backend.adapters.uow


async def add_user(uow: UnitOfWorkFactory) -> str:
    user_id = new_id()
    await add_plain_user(uow, user_id, T0)
    return user_id


@pytest.fixture
async def alice(uow: UnitOfWorkFactory) -> str:
    return await add_user(uow)


@pytest.fixture
async def bob(uow: UnitOfWorkFactory) -> str:
    return await add_user(uow)


def make_identity(user_id: str, provider: str = "linuxdo", subject: str = "1001") -> OAuthIdentity:
    return OAuthIdentity(
        id=new_id(),
        user_id=user_id,
        provider=provider,
        subject=subject,
        created_at=T0,
        updated_at=T0,
        login="alice",
        email="alice@linux.do",
        name="Alice",
        avatar_url="https://connect.linux.do/user_avatar/alice/96/1.png",
        trust_level=2,
        scopes=("read",),
        access_token_enc=ACCESS,
        refresh_token_enc=REFRESH,
        token_expires_at=T0 + timedelta(hours=1),
        last_login_at=T0,
    )


async def add(uow: UnitOfWorkFactory, identity: OAuthIdentity) -> None:
    async with uow() as unit:
        await unit.identities.add(identity)
        await unit.commit()


async def get(uow: UnitOfWorkFactory, provider: str, subject: str) -> OAuthIdentity | None:
    async with uow() as unit:
        return await unit.identities.get(provider, subject)


async def listed(uow: UnitOfWorkFactory, user_id: str) -> list[OAuthIdentity]:
    async with uow() as unit:
        return await unit.identities.list_for_user(user_id)


async def test_an_identity_round_trips(uow: UnitOfWorkFactory, alice: str) -> None:
    identity = make_identity(alice)
    await add(uow, identity)

    assert await get(uow, "linuxdo", "1001") == identity
    assert await listed(uow, alice) == [identity]
    assert await get(uow, "linuxdo", "9999") is None
    assert await get(uow, "corp", "1001") is None


async def test_optional_fields_may_be_empty(uow: UnitOfWorkFactory, alice: str) -> None:
    identity = replace(
        make_identity(alice),
        login=None,
        email=None,
        name=None,
        avatar_url=None,
        trust_level=None,
        scopes=(),
        access_token_enc=None,
        refresh_token_enc=None,
        token_expires_at=None,
        last_login_at=None,
    )
    await add(uow, identity)

    assert await get(uow, "linuxdo", "1001") == identity


async def test_aware_datetimes_come_back_as_utc(uow: UnitOfWorkFactory, alice: str) -> None:
    when = T0.astimezone(PLUS_8)
    identity = replace(make_identity(alice), created_at=when, updated_at=when, last_login_at=when)
    await add(uow, identity)

    stored = await get(uow, "linuxdo", "1001")

    assert stored is not None
    assert stored.created_at == T0 and stored.created_at.utcoffset() == timedelta(0)


async def test_a_subject_links_to_one_user_only(
    uow: UnitOfWorkFactory, alice: str, bob: str
) -> None:
    await add(uow, make_identity(alice))

    with pytest.raises(OAuthAlreadyBound):
        await add(uow, make_identity(bob))

    assert await listed(uow, bob) == []


async def test_a_user_has_one_identity_per_provider(uow: UnitOfWorkFactory, alice: str) -> None:
    await add(uow, make_identity(alice, subject="1001"))

    with pytest.raises(OAuthAlreadyBound):
        await add(uow, make_identity(alice, subject="2002"))

    await add(uow, make_identity(alice, provider="corp", subject="2002"))  # another provider
    assert [i.provider for i in await listed(uow, alice)] == ["corp", "linuxdo"]  # same time


async def test_the_unit_stays_usable_after_a_lost_race(
    uow: UnitOfWorkFactory, alice: str, bob: str
) -> None:
    await add(uow, make_identity(alice))
    async with uow() as unit:
        with pytest.raises(OAuthAlreadyBound):
            await unit.identities.add(make_identity(bob))
        await unit.identities.add(make_identity(bob, provider="corp", subject="b"))
        await unit.commit()

    assert [i.subject for i in await listed(uow, bob)] == ["b"]


async def test_an_unknown_user_is_refused(uow: UnitOfWorkFactory) -> None:
    with pytest.raises(UserNotFound):
        await add(uow, make_identity(new_id()))


async def test_a_user_and_its_identity_commit_together(uow: UnitOfWorkFactory) -> None:
    user_id = new_id()
    user = User(
        id=user_id,
        email=f"{user_id}@oauth.invalid",
        password_hash=None,
        status=UserStatus.ACTIVE,
        role=Role.USER,
        created_at=T0,
        updated_at=T0,
    )
    async with uow() as unit:
        await unit.users.add(user)
        await unit.identities.add(make_identity(user_id))
        # left without commit: both roll back

    assert await get(uow, "linuxdo", "1001") is None
    async with uow() as unit:
        assert await unit.users.get(user_id) is None
        await unit.users.add(user)
        await unit.identities.add(make_identity(user_id))
        await unit.commit()
    found = await get(uow, "linuxdo", "1001")
    assert found is not None and found.user_id == user_id


async def test_update_replaces_the_mutable_fields(uow: UnitOfWorkFactory, alice: str) -> None:
    identity = make_identity(alice)
    await add(uow, identity)
    later = T0 + timedelta(days=1)
    changed = replace(
        identity,
        login="alice2",
        email=None,
        trust_level=3,
        scopes=("read", "write"),
        access_token_enc=ACCESS + b"2",
        updated_at=later,
        last_login_at=later,
    )

    async with uow() as unit:
        await unit.identities.update(changed)
        await unit.commit()

    assert await get(uow, "linuxdo", "1001") == changed


async def test_update_of_a_missing_identity_fails(uow: UnitOfWorkFactory, alice: str) -> None:
    async with uow() as unit:
        with pytest.raises(OAuthIdentityNotFound):
            await unit.identities.update(make_identity(alice))


async def test_delete_removes_the_users_identity_of_a_provider(
    uow: UnitOfWorkFactory, alice: str, bob: str
) -> None:
    await add(uow, make_identity(alice))
    await add(uow, make_identity(alice, provider="corp", subject="c"))
    async with uow() as unit:
        assert await unit.identities.delete(bob, "linuxdo") is False
        assert await unit.identities.delete(alice, "linuxdo") is True
        assert await unit.identities.delete(alice, "linuxdo") is False
        await unit.commit()

    assert [i.provider for i in await listed(uow, alice)] == ["corp"]
    await add(uow, make_identity(bob))  # the subject is free again


async def test_list_is_oldest_first_then_by_provider(uow: UnitOfWorkFactory, alice: str) -> None:
    await add(uow, replace(make_identity(alice, "b", "1"), created_at=T0 + timedelta(seconds=1)))
    await add(uow, make_identity(alice, "z", "2"))
    await add(uow, make_identity(alice, "a", "3"))

    assert [i.provider for i in await listed(uow, alice)] == ["a", "z", "b"]


async def test_encrypted_tokens_are_listed_and_swapped_by_compare_and_set(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    identity = make_identity(alice)
    await add(uow, identity)
    await add(uow, replace(make_identity(alice, "corp", "c"), refresh_token_enc=None))
    async with uow() as unit:
        secrets = await unit.identities.list_encrypted()
    kinds = sorted((s.kind, s.blob) for s in secrets if s.owner == identity.id)
    assert kinds == [("oauth-access", ACCESS), ("oauth-refresh", REFRESH)]
    assert len(secrets) == 3
    access = next(s for s in secrets if s.owner == identity.id and s.kind == "oauth-access")
    assert access.aad == token_aad("linuxdo", "1001") == b"oauth:linuxdo:1001"

    async with uow() as unit:
        assert await unit.identities.replace_encrypted(access, b"new-blob") is True
        assert await unit.identities.replace_encrypted(access, b"again") is False  # stale
        unknown = StoredSecret("other", identity.id, ACCESS, access.aad)
        assert await unit.identities.replace_encrypted(unknown, b"x") is False
        await unit.commit()

    stored = await get(uow, "linuxdo", "1001")
    assert stored is not None
    assert (stored.access_token_enc, stored.refresh_token_enc) == (b"new-blob", REFRESH)


async def test_concurrent_links_of_one_subject_have_one_winner(
    uow: UnitOfWorkFactory, alice: str, bob: str
) -> None:
    async def link(user_id: str) -> bool:
        try:
            await add(uow, make_identity(user_id))
        except OAuthAlreadyBound:
            return False
        return True

    results = await asyncio.gather(link(alice), link(bob))

    assert sorted(results) == [False, True]
    found = await get(uow, "linuxdo", "1001")
    assert found is not None and found.user_id in (alice, bob)
