"""``OAuthService`` on the in-process ports with a scripted provider: the decisions that
the end-to-end tests cannot reach cheaply (store failures, placeholder e-mails, unlink
counting only configured providers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.accounts.model import Role, User, UserStatus
from domain.clock import ManualClock
from domain.ids import new_id
from domain.oauth.errors import LastSignInMethod
from domain.oauth.model import (
    CallbackKind,
    CallbackOutcome,
    OAuthIdentity,
    ProviderProfile,
)
from domain.oauth.service import CallbackParams, OAuthService
from domain.principal import AuthMethod, Principal, anonymous
from persistence.memory.uow import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from tests.fakes.scripted_provider import ScriptedProvider
from tests.support.services import build, offline, unit_settings

FRONTEND = "https://app.example.com"


class FailingUnitOfWorkFactory:
    """Memory units of work whose identity lookups fail (a database outage)."""

    def __init__(self, inner: MemoryUnitOfWorkFactory) -> None:
        self.inner = inner
        self.fail = False

    def __call__(self) -> AbstractAsyncContextManager[MemoryUnitOfWork]:
        return self._unit()

    @asynccontextmanager
    async def _unit(self) -> AsyncIterator[MemoryUnitOfWork]:
        async with self.inner() as unit:
            if self.fail:

                async def broken(provider: str, subject: str) -> None:
                    raise ConnectionError("database is down")

                unit.identities.get = broken  # type: ignore[method-assign]
            yield unit


@dataclass
class World:
    clock: ManualClock
    uow: FailingUnitOfWorkFactory
    provider: ScriptedProvider
    service: OAuthService


@pytest.fixture
def world() -> World:
    clock = ManualClock(datetime(2026, 5, 1, tzinfo=UTC))
    uow = FailingUnitOfWorkFactory(MemoryUnitOfWorkFactory(clock))
    provider = ScriptedProvider()
    built = build(
        clock,
        settings=unit_settings(frontend_base_url=FRONTEND),
        outbound=offline(oauth_providers=(provider,)),
        uow=uow,
    )
    return World(clock, uow, provider, built.services.oauth)


async def flow(world: World, principal: Principal | None = None) -> CallbackOutcome:
    who = principal or anonymous()
    started = await world.service.start(who, "fake")
    state = parse_qs(urlsplit(started.authorization_url).query)["state"][0]
    return await world.service.complete(
        who, "fake", CallbackParams(code="c1", state=state), started.cookie_value
    )


def error_code(outcome: CallbackOutcome) -> str | None:
    return parse_qs(urlsplit(outcome.location).query).get("code", [None])[0]


async def add_user(world: World, email: str, password_hash: str | None = None) -> User:
    now = world.clock.now()
    user = User(
        id=new_id(), email=email, password_hash=password_hash, status=UserStatus.ACTIVE,
        role=Role.USER, created_at=now, updated_at=now,
    )  # fmt: skip
    async with world.uow() as unit:
        await unit.users.add(user)
        await unit.commit()
    return user


async def test_a_new_account_is_created_and_signed_in(world: World) -> None:
    outcome = await flow(world)
    assert outcome.kind is CallbackKind.SIGNED_IN
    assert outcome.location == f"{FRONTEND}/"
    assert outcome.user is not None and outcome.user.email == "fake-s1@oauth.invalid"
    assert outcome.user.password_hash is None and outcome.issued is not None


async def test_a_store_failure_during_lookup_has_the_originals_code(world: World) -> None:
    world.uow.fail = True
    outcome = await flow(world)
    assert outcome.kind is CallbackKind.FAILED
    assert error_code(outcome) == "identity_lookup_failed"


async def test_a_taken_placeholder_gets_a_random_suffix(world: World) -> None:
    await add_user(world, "fake-s1@oauth.invalid")  # e.g. an account the subject left

    outcome = await flow(world)

    assert outcome.user is not None
    email = outcome.user.email
    assert email.startswith("fake-s1-") and email.endswith("@oauth.invalid")


async def test_an_unusual_subject_is_hashed_into_the_placeholder(world: World) -> None:
    world.provider.profile = ProviderProfile(subject="Mixed/Case Subject")
    outcome = await flow(world)
    assert outcome.user is not None
    local = outcome.user.email.split("@")[0]
    assert local.startswith("fake-") and len(local) == len("fake-") + 32
    assert "/" not in local and " " not in local


async def test_unlink_counts_only_providers_that_are_still_configured(world: World) -> None:
    outcome = await flow(world)
    assert outcome.user is not None
    user_id = outcome.user.id
    now = world.clock.now()
    async with world.uow() as unit:  # an identity of a provider removed from the settings
        await unit.identities.add(
            OAuthIdentity(
                id=new_id(),
                user_id=user_id,
                provider="gone",
                subject="g",
                created_at=now,
                updated_at=now,
            )
        )
        await unit.commit()
    me = Principal(AuthMethod.SESSION, user_id=user_id, session_id="s")

    with pytest.raises(LastSignInMethod):
        await world.service.unlink(me, "fake")

    await world.service.unlink(me, "gone")  # "fake" still remains
    assert [i.provider for i in await world.service.identities(me)] == ["fake"]
