"""``OAuthService`` on the in-process ports with a scripted provider: the decisions that
the end-to-end tests cannot reach cheaply (store failures, placeholder e-mails, unlink
counting only configured providers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.accounts.model import Role, User, UserStatus
from domain.accounts.policy import AccountPolicy
from domain.accounts.ports import UnitOfWork
from domain.accounts.sessions import SessionIssuer
from domain.clock import ManualClock
from domain.ids import new_id
from domain.keyring import KeyEncryptionKey
from domain.keyring_service import KeyRingProvider
from domain.oauth.errors import LastSignInMethod
from domain.oauth.model import (
    AuthorizationRequest,
    CallbackKind,
    CallbackOutcome,
    OAuthIdentity,
    ProviderProfile,
    ProviderTokens,
)
from domain.oauth.service import CallbackParams, OAuthService
from domain.principal import AuthMethod, Principal, anonymous
from persistence.memory.accounts import MemorySessionStore, MemoryUnitOfWorkFactory
from persistence.memory.oauth import MemoryOAuthStateStore
from persistence.memory.twofactor import MemoryKeyVersionStore

FRONTEND = "https://app.example.com"


@dataclass
class ScriptedProvider:
    """An ``OAuthProvider`` that answers with ``profile`` and remembers the PKCE verifier."""

    name: str = "fake"
    display_name: str = "Fake"
    redirect_uri: str = "https://api.example.com/v1/auth/oauth/fake/callback"
    profile: ProviderProfile = field(
        default_factory=lambda: ProviderProfile(subject="s1", login="sam")
    )
    verifiers: dict[str, str] = field(default_factory=dict)

    async def authorization_url(self, request: AuthorizationRequest) -> str:
        self.verifiers[request.state] = request.code_verifier
        return f"https://idp.example/authorize?state={request.state}"

    async def exchange_code(self, code: str, request: AuthorizationRequest) -> ProviderTokens:
        assert self.verifiers[request.state] == request.code_verifier  # PKCE round trip
        return ProviderTokens(access_token=f"at-{code}", refresh_token="rt", scopes=("read",))

    async def fetch_profile(self, tokens: ProviderTokens) -> ProviderProfile:
        return self.profile

    def validate(self, profile: ProviderProfile) -> None:
        return None


class FailingUnitOfWorkFactory:
    """Memory units of work whose identity lookups fail (a database outage)."""

    def __init__(self, inner: MemoryUnitOfWorkFactory) -> None:
        self.inner = inner
        self.fail = False

    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._unit()

    @asynccontextmanager
    async def _unit(self) -> AsyncIterator[UnitOfWork]:
        async with self.inner() as unit:
            if self.fail:

                async def broken(provider: str, subject: str) -> None:
                    raise ConnectionError("database is down")

                unit.identities.get = broken  # type: ignore[method-assign,assignment]
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
    sessions = MemorySessionStore()
    provider = ScriptedProvider()
    service = OAuthService(
        providers=[provider],
        uow=uow,
        states=MemoryOAuthStateStore(),
        keys=KeyRingProvider(MemoryKeyVersionStore(), KeyEncryptionKey(b"k" * 32)),
        issuer=SessionIssuer(sessions=sessions, uow=uow, clock=clock, policy=AccountPolicy()),
        clock=clock,
        frontend_base_url=FRONTEND,
    )
    return World(clock, uow, provider, service)


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
