"""Every way of signing in records ``login.succeeded`` exactly once: a password, a password
plus a code sent with it (TOTP or recovery code), a login challenge completed with a TOTP
or a recovery code, an OAuth provider, and an OAuth provider for a two-factor account
(which ends in a login challenge). The services are the composition root's, on the
in-process bundle, so a sign-in path wired without the audit log fails here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from domain.accounts.model import IssuedSession, Role, User, UserFilter
from domain.clock import ManualClock
from domain.oauth.model import CallbackKind, ProviderProfile
from domain.oauth.service import CallbackParams
from domain.principal import AuthMethod, Principal, anonymous
from domain.security.model import AuditAction, AuditFilter
from resolvers.context import Services
from tests.fakes.scripted_provider import ScriptedProvider
from tests.support.services import build, offline, unit_settings

PASSWORD = "Correct-Horse-42-Battery"
EMAIL = "alice@example.com"


@dataclass
class World:
    clock: ManualClock
    services: Services
    provider: ScriptedProvider
    audit_count: Callable[[str], Awaitable[int]]

    def code(self, secret: str) -> str:
        self.clock.advance(30)  # a fresh step: a code is never accepted twice
        return str(pyotp.TOTP(secret).at(self.clock.now()))


@pytest.fixture
def world() -> World:
    clock = ManualClock(datetime(2026, 6, 1, 9, 0, 3, tzinfo=UTC))
    provider = ScriptedProvider(profile=ProviderProfile(subject="s1", login="alice"))
    built = build(
        clock,
        settings=unit_settings(frontend_base_url="https://app.example.com"),
        outbound=offline(oauth_providers=(provider,)),
    )

    async def audit_count(user_id: str) -> int:
        flt = AuditFilter(action=AuditAction.LOGIN_SUCCEEDED, subject_user_id=user_id)
        return (await built.adapters.audit.list(flt, limit=100, offset=0)).total

    return World(clock, built.services, provider, audit_count)


async def principal_of(world: World, issued: IssuedSession) -> Principal:
    found = await world.services.accounts.authenticate(issued.token)
    assert found is not None
    return found.principal("198.51.100.1", "pytest")


async def with_totp(world: World, principal: Principal) -> tuple[str, list[str]]:
    twofactor = world.services.twofactor
    secret = (await twofactor.begin_enrolment(principal)).secret_base32
    confirmed = await twofactor.confirm_enrolment(principal, world.code(secret))
    return secret, confirmed.recovery_codes


async def password_user(world: World) -> tuple[User, Principal]:
    user = (await world.services.accounts.register(EMAIL, PASSWORD)).user
    result = await world.services.accounts.login(EMAIL, PASSWORD)
    assert result.issued is not None
    return user, await principal_of(world, result.issued)


async def oauth_callback(world: World) -> tuple[CallbackKind, str]:
    """One anonymous provider sign-in; the outcome's kind and where it sends the browser."""
    who = anonymous()
    started = await world.services.oauth.start(who, world.provider.name)
    state = parse_qs(urlsplit(started.authorization_url).query)["state"][0]
    outcome = await world.services.oauth.complete(
        who, world.provider.name, CallbackParams(code="c1", state=state), started.cookie_value
    )
    return outcome.kind, outcome.location


async def test_a_password_sign_in_is_recorded(world: World) -> None:
    user, _ = await password_user(world)
    assert await world.audit_count(user.id) == 1
    await world.services.accounts.login(EMAIL, PASSWORD)
    assert await world.audit_count(user.id) == 2


@pytest.mark.parametrize("which", ["totp", "recovery"])
async def test_a_sign_in_with_a_code_sent_along_is_recorded(world: World, which: str) -> None:
    user, principal = await password_user(world)
    secret, recovery = await with_totp(world, principal)
    code = world.code(secret) if which == "totp" else recovery[0]
    result = await world.services.accounts.login(EMAIL, PASSWORD, totp_code=code)
    assert result.issued is not None
    assert await world.audit_count(user.id) == 2


@pytest.mark.parametrize("which", ["totp", "recovery"])
async def test_a_completed_login_challenge_is_recorded(world: World, which: str) -> None:
    user, principal = await password_user(world)
    secret, recovery = await with_totp(world, principal)
    challenge = await world.services.accounts.login(EMAIL, PASSWORD)
    assert challenge.totp_required and challenge.challenge_id and challenge.issued is None
    assert await world.audit_count(user.id) == 1  # a challenge is not a sign-in yet
    code = world.code(secret) if which == "totp" else recovery[0]
    await world.services.twofactor.complete_challenge(
        challenge.challenge_id, code, client_ip="198.51.100.1", user_agent="pytest"
    )
    assert await world.audit_count(user.id) == 2


async def test_an_oauth_sign_in_is_recorded(world: World) -> None:
    kind, _ = await oauth_callback(world)
    assert kind == CallbackKind.SIGNED_IN
    [identity_user] = await users(world.services)
    assert await world.audit_count(identity_user.id) == 1
    kind, _ = await oauth_callback(world)  # the linked account signs in again
    assert kind == CallbackKind.SIGNED_IN
    assert await world.audit_count(identity_user.id) == 2


async def test_an_oauth_sign_in_of_a_two_factor_account_is_recorded_once_completed(
    world: World,
) -> None:
    user, principal = await password_user(world)
    started = await world.services.oauth.start(principal, world.provider.name, intent="bind")
    state = parse_qs(urlsplit(started.authorization_url).query)["state"][0]
    bound = await world.services.oauth.complete(
        principal, world.provider.name, CallbackParams(code="c1", state=state),
        started.cookie_value,
    )  # fmt: skip
    assert bound.kind is CallbackKind.BOUND
    secret, _ = await with_totp(world, principal)
    kind, location = await oauth_callback(world)
    assert kind == CallbackKind.TOTP_REQUIRED
    assert await world.audit_count(user.id) == 1  # only the password sign-in so far
    [challenge_id] = parse_qs(urlsplit(location).query)["challengeId"]
    await world.services.twofactor.complete_challenge(
        challenge_id, world.code(secret), client_ip=None, user_agent=None
    )
    assert await world.audit_count(user.id) == 2


async def users(services: Services) -> list[User]:
    """Every account (as a superadmin sees them)."""
    admin = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)
    page = await services.admin_users.list_users(admin, UserFilter(), limit=100, offset=0)
    return page.items
