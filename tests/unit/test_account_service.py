"""Use cases of the accounts context, on the in-process ports: no database, no network.

The services are built as the composition root builds them, but on ``MemoryUnitOfWorkFactory``
and ``MemorySessionStore``, a cheap argon2id hasher, a ``ManualClock`` and a tiny in-test
breach checker, so expiry windows and breach modes are exact and fast."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from domain.accounts.admin import AdminUserService, parse_role, parse_status
from domain.accounts.errors import (
    AccountLocked,
    AccountNotActivated,
    BreachCheckUnavailable,
    EmailTaken,
    InsufficientRole,
    InvalidCredentials,
    LastSuperadmin,
    PwnedPassword,
    SessionNotFound,
    UserNotFound,
    WeakPassword,
)
from domain.accounts.model import Role, User, UserFilter, UserStatus
from domain.accounts.passwords import MAX_PASSWORD_LENGTH, Argon2PasswordHasher
from domain.accounts.policy import AccountPolicy, BreachCheckMode
from domain.accounts.ports import SessionStore, UnitOfWorkFactory
from domain.accounts.service import AccountService, PasswordRules
from domain.clock import ManualClock
from domain.errors import DomainError, InvalidInput, Unauthenticated
from domain.ids import new_id, token_hash
from domain.paging import DEFAULT_PAGE_SIZE
from domain.principal import AuthMethod, Principal, anonymous
from gateway.bootstrap import account_policy
from tests.support.services import build, offline, unit_settings

STRONG = "Correct-Horse-42-Battery"
OTHER_STRONG = "Another#Strong#Pass99"
WRONG = "Wrong-Password-123!"
PWNED = "Pwned-Password-2024!"  # strong by the score, but "breached" in the fake below
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=8)
ADMIN_TOKEN = Principal(AuthMethod.ADMIN_TOKEN, role=Role.SUPERADMIN)


class FakeBreaches:
    """A ``BreachedPasswordChecker``: a fixed breach table, or an outage."""

    def __init__(self, breached: dict[str, int] | None = None) -> None:
        self.breached = dict(breached or {})
        self.unavailable = False
        self.calls = 0

    async def times_pwned(self, password: str) -> int:
        self.calls += 1
        if self.unavailable:
            raise BreachCheckUnavailable()
        return self.breached.get(password, 0)


@dataclass
class World:
    clock: ManualClock
    uow: UnitOfWorkFactory
    sessions: SessionStore
    breaches: FakeBreaches
    policy: AccountPolicy
    accounts: AccountService
    admin: AdminUserService


def make_world(
    *, breach_check: BreachCheckMode = BreachCheckMode.FAIL_OPEN, **settings: object
) -> World:
    clock = ManualClock()
    breaches = FakeBreaches({PWNED: 1234})
    config = unit_settings(hibp_mode=breach_check, **settings)
    built = build(clock, settings=config, outbound=offline(hasher=HASHER, breaches=breaches))
    a, s = built.adapters, built.services
    return World(clock, a.uow, a.sessions, breaches, account_policy(config), s.accounts,
                 s.admin_users)  # fmt: skip


@pytest.fixture
def world() -> World:
    return make_world()


# -- helpers ---------------------------------------------------------------------------


async def stored(world: World, user_id: str) -> User:
    async with world.uow() as uow:
        user = await uow.users.get(user_id)
    assert user is not None
    return user


async def user_count(world: World) -> int:
    async with world.uow() as uow:
        return (await uow.users.list(UserFilter(), limit=1000, offset=0)).total


async def force(world: World, user_id: str, **changes: object) -> User:
    """Change a stored user behind the services' back (test set-up only)."""
    async with world.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None
        user = user.with_changes(**changes)
        await uow.users.update(user)
        await uow.commit()
    return user


async def make_user(
    world: World,
    email: str,
    *,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
    password: str = STRONG,
) -> User:
    user = (await world.accounts.register(email, password)).user
    if role is not Role.USER or status is not UserStatus.ACTIVE:
        user = await force(world, user.id, role=role, status=status)
    return user


async def sign_in(world: World, email: str, password: str = STRONG) -> tuple[str, Principal]:
    """Log in; returns the bearer token and the principal a request with it would get."""
    result = await world.accounts.login(email, password, client_ip="198.51.100.1")
    assert result.issued is not None
    found = await world.accounts.authenticate(result.issued.token)
    assert found is not None
    return result.issued.token, found.principal("198.51.100.1", "pytest")


def acting_as(user: User) -> Principal:
    return Principal(AuthMethod.SESSION, user_id=user.id, role=user.role, session_id=new_id())


async def live(world: World, token: str) -> bool:
    return await world.accounts.authenticate(token) is not None


# -- registration ------------------------------------------------------------------------


async def test_register_normalises_the_email_and_stores_an_active_user(world: World) -> None:
    result = await world.accounts.register("  Alice@Example.COM\t", STRONG, client_ip="203.0.113.9")
    user = result.user
    assert user.email == "alice@example.com"
    assert (user.role, user.status) == (Role.USER, UserStatus.ACTIVE)
    assert user.register_ip == "203.0.113.9"
    assert user.created_at == user.updated_at == world.clock.now()
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert STRONG not in user.password_hash
    assert result.email_verification_required is False
    assert await stored(world, user.id) == user
    assert await world.accounts.login("ALICE@example.com ", STRONG)


async def test_register_rejects_a_taken_email_in_any_spelling(world: World) -> None:
    await world.accounts.register("alice@example.com", STRONG)
    with pytest.raises(EmailTaken) as caught:
        await world.accounts.register("  ALICE@Example.com", OTHER_STRONG)
    assert caught.value.code == "EMAIL_TAKEN"
    assert caught.value.field == "email"
    assert await user_count(world) == 1


@pytest.mark.parametrize(
    ("email", "password", "error", "field"),
    [
        ("not-an-email", STRONG, InvalidInput, "email"),
        ("", STRONG, InvalidInput, "email"),
        ("bob@example.com", "", InvalidInput, "password"),
        ("bob@example.com", "abcdefgh", WeakPassword, "password"),
        ("bob@example.com", "password", WeakPassword, "password"),  # on the weak list
        ("bob@example.com", "Abcdef1!x", WeakPassword, "password"),  # score 2 < 3
        ("bob@example.com", "Aa1!" * 40, InvalidInput, "password"),  # 160 > 128 characters
        ("bob@example.com", PWNED, PwnedPassword, "password"),
    ],
    ids=["bad-email", "no-email", "empty", "weak", "weak-list", "score-2", "too-long", "pwned"],
)
async def test_register_rejects_bad_input_and_stores_nothing(
    world: World, email: str, password: str, error: type[DomainError], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        await world.accounts.register(email, password)
    assert type(caught.value) is error
    assert caught.value.field == field
    assert await user_count(world) == 0


async def test_the_longest_allowed_password_is_accepted(world: World) -> None:
    longest = ("Aa1!" * 40)[:MAX_PASSWORD_LENGTH]
    await world.accounts.register("long@example.com", longest)
    assert await world.accounts.login("long@example.com", longest)
    with pytest.raises(InvalidInput):
        await world.accounts.register("longer@example.com", longest + "x")


# -- the breach check -------------------------------------------------------------------


async def test_breach_check_off_never_asks_the_checker() -> None:
    world = make_world(breach_check=BreachCheckMode.OFF)
    await world.accounts.register("a@example.com", PWNED)
    assert world.breaches.calls == 0


async def test_breach_check_without_a_checker_is_skipped() -> None:
    rules = PasswordRules(AccountPolicy(breach_check=BreachCheckMode.FAIL_CLOSED), None)
    await rules.check(PWNED)


@pytest.mark.parametrize("mode", [BreachCheckMode.FAIL_OPEN, BreachCheckMode.FAIL_CLOSED])
async def test_a_breached_password_is_rejected_in_both_checking_modes(
    mode: BreachCheckMode,
) -> None:
    world = make_world(breach_check=mode)
    with pytest.raises(PwnedPassword):
        await world.accounts.register("a@example.com", PWNED)
    await world.accounts.register("a@example.com", STRONG)
    assert world.breaches.calls == 2


async def test_fail_open_accepts_the_password_when_the_check_is_unavailable() -> None:
    world = make_world(breach_check=BreachCheckMode.FAIL_OPEN)
    world.breaches.unavailable = True
    user = (await world.accounts.register("a@example.com", PWNED)).user
    assert world.breaches.calls == 1
    assert await stored(world, user.id) == user


async def test_fail_closed_refuses_the_password_when_the_check_is_unavailable() -> None:
    world = make_world(breach_check=BreachCheckMode.FAIL_CLOSED)
    world.breaches.unavailable = True
    with pytest.raises(BreachCheckUnavailable):
        await world.accounts.register("a@example.com", STRONG)
    assert await user_count(world) == 0
    world.breaches.unavailable = False
    await world.accounts.register("a@example.com", STRONG)


async def test_the_strength_check_runs_before_the_breach_check(world: World) -> None:
    with pytest.raises(WeakPassword):
        await world.accounts.register("a@example.com", "abcdefgh")
    assert world.breaches.calls == 0


# -- sign-in ----------------------------------------------------------------------------


async def test_login_issues_a_session_and_records_the_sign_in(world: World) -> None:
    user = await make_user(world, "alice@example.com")
    world.clock.advance(30)
    result = await world.accounts.login(
        "Alice@Example.com", STRONG, client_ip="198.51.100.1", user_agent="UA/1.0"
    )
    assert result.issued is not None and result.totp_required is False
    session, token = result.issued.session, result.issued.token
    now = world.clock.now()
    assert len(token) == 43  # 32 random bytes, base64url without padding
    assert session.token_hash == token_hash(token) != token
    assert (session.user_id, session.ip, session.user_agent) == (user.id, "198.51.100.1", "UA/1.0")
    assert session.created_at == session.last_seen_at == now
    assert session.expires_at == now + world.policy.session_ttl
    assert await world.sessions.get_by_token_hash(token_hash(token)) == session
    assert result.user.last_login_at == now
    assert (await stored(world, user.id)).last_login_at == now


async def test_every_login_gets_a_new_session(world: World) -> None:
    await make_user(world, "alice@example.com")
    first, _ = await sign_in(world, "alice@example.com")
    second, _ = await sign_in(world, "alice@example.com")
    assert first != second
    assert await live(world, first) and await live(world, second)


async def test_wrong_password_and_unknown_email_fail_the_same_way(world: World) -> None:
    await make_user(world, "alice@example.com")
    failures = []
    for email, password in [
        ("alice@example.com", WRONG),
        ("nobody@example.com", STRONG),
        ("not an email", STRONG),
    ]:
        with pytest.raises(DomainError) as caught:
            await world.accounts.login(email, password)
        failures.append(caught.value)
    assert {type(e) for e in failures} == {InvalidCredentials}
    assert len({(e.code, e.message, e.field) for e in failures}) == 1


async def test_a_user_without_a_password_cannot_log_in(world: World) -> None:
    user = await make_user(world, "oauth@example.com")
    await force(world, user.id, password_hash=None)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("oauth@example.com", "")


@pytest.mark.parametrize("status", [UserStatus.LOCKED, UserStatus.DISABLED, UserStatus.BANNED])
async def test_a_blocked_status_is_revealed_only_to_the_right_password(
    world: World, status: UserStatus
) -> None:
    user = await make_user(world, "alice@example.com", status=status)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("alice@example.com", WRONG)
    with pytest.raises(AccountLocked):
        await world.accounts.login("alice@example.com", STRONG)
    assert await world.sessions.list_for_user(user.id) == []
    assert (await stored(world, user.id)).last_login_at is None


async def test_a_pending_account_is_revealed_only_to_the_right_password(world: World) -> None:
    user = await make_user(world, "alice@example.com", status=UserStatus.PENDING_EMAIL)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("alice@example.com", WRONG)
    with pytest.raises(AccountNotActivated):
        await world.accounts.login("alice@example.com", STRONG)
    assert await world.sessions.list_for_user(user.id) == []


# -- session resolution -----------------------------------------------------------------


async def test_concurrent_lookups_of_one_session_share_one_read(world: World) -> None:
    """perf (issue 18): when the memo lapses under load, the requests of one session that
    miss it together read the session store once, and all get the same answer."""
    user = await make_user(world, "many@example.com")
    token, _ = await sign_in(world, "many@example.com")
    world.clock.advance(5)  # past the memo
    reads = 0
    get = world.sessions.get_by_token_hash

    async def counted(hashed: str) -> Any:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0)  # a store round trip: the others arrive meanwhile
        return await get(hashed)

    world.sessions.get_by_token_hash = counted  # type: ignore[method-assign,assignment]
    found = await asyncio.gather(*(world.accounts.authenticate(token) for _ in range(20)))
    assert reads == 1
    assert {f.user.id for f in found if f is not None} == {user.id} and None not in found


async def test_authenticate_resolves_a_token_to_the_user_and_a_principal(world: World) -> None:
    user = await make_user(world, "alice@example.com", role=Role.ADMIN)
    result = await world.accounts.login("alice@example.com", STRONG)
    assert result.issued is not None
    found = await world.accounts.authenticate(result.issued.token)
    assert found is not None
    assert found.user.id == user.id and found.session.id == result.issued.session.id
    principal = found.principal("192.0.2.1", "UA")
    assert principal.method is AuthMethod.SESSION
    assert (principal.user_id, principal.role, principal.session_id) == (
        user.id,
        Role.ADMIN,
        result.issued.session.id,
    )
    assert principal.is_admin and not principal.is_superadmin


@pytest.mark.parametrize("token", ["", "x" * 43, "y" * 257])
async def test_authenticate_ignores_unknown_and_oversized_tokens(world: World, token: str) -> None:
    assert await world.accounts.authenticate(token) is None


async def test_a_session_expires_after_its_ttl_and_is_then_deleted() -> None:
    world = make_world(session_ttl=timedelta(hours=2))
    user = await make_user(world, "alice@example.com")
    token, _ = await sign_in(world, "alice@example.com")
    world.clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert await live(world, token)
    world.clock.advance(1)  # expires_at <= now: expired
    assert await world.accounts.authenticate(token) is None
    assert await world.sessions.get_by_token_hash(token_hash(token)) is None
    assert await world.sessions.list_for_user(user.id) == []


async def test_last_seen_is_written_at_most_once_per_touch_interval() -> None:
    world = make_world()  # the policy's touch interval: 60 s
    await make_user(world, "alice@example.com")
    token, _ = await sign_in(world, "alice@example.com")
    signed_in_at = world.clock.now()

    async def last_seen() -> object:
        session = await world.sessions.get_by_token_hash(token_hash(token))
        assert session is not None
        return session.last_seen_at

    world.clock.advance(59)
    assert await live(world, token)
    assert await last_seen() == signed_in_at  # debounced: no write yet
    world.clock.advance(1)
    assert await live(world, token)
    assert await last_seen() == signed_in_at + timedelta(seconds=60)
    world.clock.advance(30)
    assert await live(world, token)
    assert await last_seen() == signed_in_at + timedelta(seconds=60)
    world.clock.advance(30)
    assert await live(world, token)
    assert await last_seen() == signed_in_at + timedelta(seconds=120)


@pytest.mark.parametrize("status", [UserStatus.DISABLED, UserStatus.LOCKED, UserStatus.BANNED])
async def test_a_session_of_a_blocked_user_does_not_authenticate(
    world: World, status: UserStatus
) -> None:
    user = await make_user(world, "alice@example.com")
    token, _ = await sign_in(world, "alice@example.com")
    await force(world, user.id, status=status)
    assert await world.accounts.authenticate(token) is None
    await force(world, user.id, status=UserStatus.ACTIVE)
    assert await live(world, token)


# -- the signed-in user -----------------------------------------------------------------


async def test_me_requires_a_user(world: World) -> None:
    user = await make_user(world, "alice@example.com")
    _, principal = await sign_in(world, "alice@example.com")
    assert (await world.accounts.me(principal)).id == user.id
    for nobody in (anonymous(), ADMIN_TOKEN):
        with pytest.raises(Unauthenticated):
            await world.accounts.me(nobody)


async def test_logout_ends_the_current_session_or_the_given_one(world: World) -> None:
    await make_user(world, "alice@example.com")
    token, principal = await sign_in(world, "alice@example.com")
    other, _ = await sign_in(world, "alice@example.com")
    await world.accounts.logout(principal)
    assert not await live(world, token)
    assert await live(world, other)
    await world.accounts.logout(anonymous(), other)
    assert not await live(world, other)
    with pytest.raises(Unauthenticated):
        await world.accounts.logout(anonymous(), other)
    with pytest.raises(Unauthenticated):
        await world.accounts.logout(anonymous())


async def test_change_password_revokes_the_other_sessions_and_keeps_this_one(
    world: World,
) -> None:
    await make_user(world, "alice@example.com")
    current, principal = await sign_in(world, "alice@example.com")
    others = [(await sign_in(world, "alice@example.com"))[0] for _ in range(2)]
    revoked = await world.accounts.change_password(principal, STRONG, OTHER_STRONG)
    assert revoked == 2
    assert await live(world, current)
    for token in others:
        assert not await live(world, token)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("alice@example.com", STRONG)
    assert await world.accounts.login("alice@example.com", OTHER_STRONG)


async def test_change_password_checks_the_old_password_then_the_new_one(world: World) -> None:
    user = await make_user(world, "alice@example.com")
    _, principal = await sign_in(world, "alice@example.com")
    other, _ = await sign_in(world, "alice@example.com")
    before = (await stored(world, user.id)).password_hash
    with pytest.raises(InvalidCredentials) as wrong:
        await world.accounts.change_password(principal, WRONG, OTHER_STRONG)
    assert wrong.value.field == "oldPassword"
    with pytest.raises(WeakPassword) as weak:
        await world.accounts.change_password(principal, STRONG, "abcdefgh")
    assert weak.value.field == "newPassword"
    with pytest.raises(PwnedPassword) as pwned:
        await world.accounts.change_password(principal, STRONG, PWNED)
    assert pwned.value.field == "newPassword"
    with pytest.raises(InvalidInput) as empty:
        await world.accounts.change_password(principal, STRONG, "")
    assert empty.value.field == "newPassword"
    assert (await stored(world, user.id)).password_hash == before
    assert await live(world, other)


async def test_sessions_are_listed_newest_first_without_expired_ones(world: World) -> None:
    await make_user(world, "alice@example.com")
    _, principal = await sign_in(world, "alice@example.com")
    world.clock.advance(timedelta(days=1))
    await sign_in(world, "alice@example.com")
    world.clock.advance(timedelta(days=1))
    _, newest = await sign_in(world, "alice@example.com")
    listed = [s.id for s in await world.accounts.list_sessions(principal)]
    assert len(listed) == 3
    assert (listed[0], listed[-1]) == (newest.session_id, principal.session_id)
    world.clock.advance(timedelta(days=5, seconds=1))  # the first one is past its 7 days
    assert principal.session_id not in {s.id for s in await world.accounts.list_sessions(newest)}
    assert len(await world.accounts.list_sessions(newest)) == 2


async def test_revoke_session_only_reaches_the_callers_own_sessions(world: World) -> None:
    await make_user(world, "alice@example.com")
    await make_user(world, "bob@example.com")
    _, alice = await sign_in(world, "alice@example.com")
    alice_phone, _ = await sign_in(world, "alice@example.com")
    bob_token, bob = await sign_in(world, "bob@example.com")
    assert bob.session_id is not None
    with pytest.raises(SessionNotFound) as caught:
        await world.accounts.revoke_session(alice, bob.session_id)
    assert caught.value.field == "sessionId"
    assert await live(world, bob_token)
    with pytest.raises(SessionNotFound):
        await world.accounts.revoke_session(alice, new_id())
    phone_id = next(
        s.id for s in await world.accounts.list_sessions(alice) if s.id != alice.session_id
    )
    await world.accounts.revoke_session(alice, phone_id)
    assert not await live(world, alice_phone)
    with pytest.raises(SessionNotFound):
        await world.accounts.revoke_session(alice, phone_id)


async def test_revoke_other_sessions_keeps_the_current_one(world: World) -> None:
    await make_user(world, "alice@example.com")
    await make_user(world, "bob@example.com")
    current, principal = await sign_in(world, "alice@example.com")
    others = [(await sign_in(world, "alice@example.com"))[0] for _ in range(3)]
    bob_token, _ = await sign_in(world, "bob@example.com")
    assert await world.accounts.revoke_other_sessions(principal) == 3
    assert await live(world, current) and await live(world, bob_token)
    assert not any([await live(world, t) for t in others])
    assert await world.accounts.revoke_other_sessions(principal) == 0


async def test_session_operations_require_a_user(world: World) -> None:
    for call in (
        world.accounts.list_sessions(anonymous()),
        world.accounts.revoke_session(anonymous(), new_id()),
        world.accounts.revoke_other_sessions(anonymous()),
        world.accounts.change_password(anonymous(), STRONG, OTHER_STRONG),
    ):
        with pytest.raises(Unauthenticated):
            await call


# -- administration: the role hierarchy -------------------------------------------------


@dataclass
class Cast:
    superadmin: User
    admin: User
    user: User


@pytest.fixture
async def cast(world: World) -> Cast:
    return Cast(
        superadmin=await make_user(world, "root@example.com", role=Role.SUPERADMIN),
        admin=await make_user(world, "admin@example.com", role=Role.ADMIN),
        user=await make_user(world, "user@example.com"),
    )


async def test_only_admins_may_administer(world: World, cast: Cast) -> None:
    flt = UserFilter()
    with pytest.raises(Unauthenticated):
        await world.admin.list_users(anonymous(), flt, limit=10, offset=0)
    user = acting_as(cast.user)
    for call in (
        world.admin.list_users(user, flt, limit=10, offset=0),
        world.admin.get_user(user, cast.user.id),
        world.admin.update_user(user, cast.user.id, status=UserStatus.LOCKED),
        world.admin.set_password(user, cast.user.id, OTHER_STRONG),
    ):
        with pytest.raises(InsufficientRole):
            await call
    assert (await stored(world, cast.user.id)).status is UserStatus.ACTIVE
    page = await world.admin.list_users(acting_as(cast.admin), flt, limit=10, offset=0)
    assert page.total == 3


async def test_an_admin_cannot_change_a_superadmin(world: World, cast: Cast) -> None:
    for status in (UserStatus.LOCKED, UserStatus.DISABLED, UserStatus.ACTIVE):
        with pytest.raises(InsufficientRole):
            await world.admin.update_user(acting_as(cast.admin), cast.superadmin.id, status=status)
    assert await stored(world, cast.superadmin.id) == cast.superadmin


async def test_an_admin_cannot_change_roles(world: World, cast: Cast) -> None:
    for target, role in [
        (cast.user, Role.ADMIN),
        (cast.user, Role.USER),
        (cast.admin, Role.SUPERADMIN),
        (cast.admin, Role.USER),
    ]:
        with pytest.raises(InsufficientRole) as caught:
            await world.admin.update_user(acting_as(cast.admin), target.id, role=role)
        assert caught.value.field == "role"
        assert (await stored(world, target.id)).role is target.role


async def test_an_admin_can_lock_a_user_and_the_users_sessions_end(
    world: World, cast: Cast
) -> None:
    token, _ = await sign_in(world, "user@example.com")
    world.clock.advance(5)
    locked = await world.admin.update_user(
        acting_as(cast.admin), cast.user.id, status=UserStatus.LOCKED
    )
    assert locked.status is UserStatus.LOCKED and locked.role is Role.USER
    assert locked.updated_at == world.clock.now()
    assert await stored(world, cast.user.id) == locked
    assert await world.sessions.list_for_user(cast.user.id) == []
    assert not await live(world, token)
    with pytest.raises(AccountLocked):
        await world.accounts.login("user@example.com", STRONG)
    await world.admin.update_user(acting_as(cast.admin), cast.user.id, status=UserStatus.ACTIVE)
    assert await world.accounts.login("user@example.com", STRONG)


async def test_demoting_a_user_revokes_their_sessions_and_promoting_does_not(
    world: World, cast: Cast
) -> None:
    root = acting_as(cast.superadmin)
    admin_token, _ = await sign_in(world, "admin@example.com")
    user_token, _ = await sign_in(world, "user@example.com")
    await world.admin.update_user(root, cast.user.id, role=Role.ADMIN)
    found = await world.accounts.authenticate(user_token)
    assert found is not None and found.principal(None, None).is_admin  # takes effect at once
    await world.admin.update_user(root, cast.admin.id, role=Role.USER)
    assert not await live(world, admin_token)
    assert await world.sessions.list_for_user(cast.admin.id) == []


async def test_an_unchanged_status_update_keeps_the_sessions(world: World, cast: Cast) -> None:
    token, _ = await sign_in(world, "user@example.com")
    await world.admin.update_user(acting_as(cast.admin), cast.user.id, status=UserStatus.ACTIVE)
    assert await live(world, token)


async def test_a_superadmin_can_change_roles_and_statuses(world: World, cast: Cast) -> None:
    root = acting_as(cast.superadmin)
    updated = await world.admin.update_user(
        root, cast.user.id, role=Role.ADMIN, status=UserStatus.DISABLED
    )
    assert (updated.role, updated.status) == (Role.ADMIN, UserStatus.DISABLED)
    assert await world.admin.get_user(root, cast.user.id) == updated
    same = await world.admin.update_user(ADMIN_TOKEN, cast.admin.id, role=Role.SUPERADMIN)
    assert same.role is Role.SUPERADMIN


async def test_only_a_superadmin_sets_passwords(world: World, cast: Cast) -> None:
    token, _ = await sign_in(world, "user@example.com")
    with pytest.raises(InsufficientRole):
        await world.admin.set_password(acting_as(cast.admin), cast.user.id, OTHER_STRONG)
    assert await live(world, token)
    await world.admin.set_password(acting_as(cast.superadmin), cast.user.id, OTHER_STRONG)
    assert not await live(world, token)
    with pytest.raises(InvalidCredentials):
        await world.accounts.login("user@example.com", STRONG)
    assert await world.accounts.login("user@example.com", OTHER_STRONG)
    await world.admin.set_password(ADMIN_TOKEN, cast.user.id, STRONG)
    assert await world.accounts.login("user@example.com", STRONG)


async def test_set_password_applies_the_password_rules(world: World, cast: Cast) -> None:
    root = acting_as(cast.superadmin)
    with pytest.raises(WeakPassword) as weak:
        await world.admin.set_password(root, cast.user.id, "abcdefgh")
    assert weak.value.field == "newPassword"
    with pytest.raises(PwnedPassword):
        await world.admin.set_password(root, cast.user.id, PWNED)
    assert await world.accounts.login("user@example.com", STRONG)


async def test_unknown_users_are_not_found(world: World, cast: Cast) -> None:
    root = acting_as(cast.superadmin)
    missing = new_id()
    for call in (
        world.admin.get_user(root, missing),
        world.admin.update_user(root, missing, status=UserStatus.LOCKED),
        world.admin.set_password(root, missing, OTHER_STRONG),
    ):
        with pytest.raises(UserNotFound):
            await call


@pytest.mark.parametrize(
    "change",
    [
        {"role": Role.ADMIN},
        {"role": Role.USER},
        {"status": UserStatus.LOCKED},
        {"status": UserStatus.DISABLED},
        {"status": UserStatus.BANNED},
        {"status": UserStatus.PENDING_EMAIL},
        {"role": Role.SUPERADMIN, "status": UserStatus.LOCKED},
    ],
    ids=lambda c: "-".join(str(v) for v in c.values()),
)
async def test_the_last_active_superadmin_can_be_neither_demoted_nor_locked(
    world: World, cast: Cast, change: dict[str, object]
) -> None:
    token, root = await sign_in(world, "root@example.com")
    for actor in (root, ADMIN_TOKEN):
        with pytest.raises(LastSuperadmin):
            await world.admin.update_user(actor, cast.superadmin.id, **change)  # type: ignore[arg-type]
    unchanged = await stored(world, cast.superadmin.id)
    assert (unchanged.role, unchanged.status) == (Role.SUPERADMIN, UserStatus.ACTIVE)
    assert await live(world, token)


async def test_a_locked_superadmin_does_not_count_as_the_other_active_one(
    world: World, cast: Cast
) -> None:
    await make_user(world, "root2@example.com", role=Role.SUPERADMIN, status=UserStatus.LOCKED)
    with pytest.raises(LastSuperadmin):
        await world.admin.update_user(ADMIN_TOKEN, cast.superadmin.id, role=Role.ADMIN)


async def test_with_a_second_active_superadmin_one_can_be_demoted_or_locked(
    world: World, cast: Cast
) -> None:
    root = acting_as(cast.superadmin)
    second = await world.admin.update_user(root, cast.admin.id, role=Role.SUPERADMIN)
    token, _ = await sign_in(world, "root@example.com")
    locked = await world.admin.update_user(
        acting_as(second), cast.superadmin.id, status=UserStatus.LOCKED
    )
    assert locked.status is UserStatus.LOCKED
    assert not await live(world, token)
    with pytest.raises(LastSuperadmin):  # now `second` is the last active one
        await world.admin.update_user(ADMIN_TOKEN, second.id, role=Role.ADMIN)
    # a locked superadmin is not "active": it can be demoted freely
    demoted = await world.admin.update_user(ADMIN_TOKEN, cast.superadmin.id, role=Role.USER)
    assert demoted.role is Role.USER
    # ...and reactivated, after which the other one may be demoted again
    await world.admin.update_user(ADMIN_TOKEN, demoted.id, role=Role.SUPERADMIN)
    await world.admin.update_user(ADMIN_TOKEN, demoted.id, status=UserStatus.ACTIVE)
    assert (await world.admin.update_user(ADMIN_TOKEN, second.id, role=Role.ADMIN)).role is (
        Role.ADMIN
    )


async def test_two_superadmins_demoting_each_other_at_once_leave_one(
    world: World, cast: Cast
) -> None:
    second = await world.admin.update_user(ADMIN_TOKEN, cast.admin.id, role=Role.SUPERADMIN)
    results = await asyncio.gather(
        world.admin.update_user(acting_as(cast.superadmin), second.id, role=Role.ADMIN),
        world.admin.update_user(acting_as(second), cast.superadmin.id, role=Role.ADMIN),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["LastSuperadmin", "User"]
    async with world.uow() as uow:
        assert await uow.users.count_active_superadmins() == 1


# -- administration: listing ------------------------------------------------------------


async def add_users(world: World, count: int, *, domain: str = "example.com") -> list[User]:
    """``count`` users one second apart (cheap: no hashing), oldest first."""
    users = []
    async with world.uow() as uow:
        for i in range(count):
            world.clock.advance(1)
            now = world.clock.now()
            user = User(
                id=new_id(), email=f"u{i:03d}@{domain}", password_hash=None,
                status=UserStatus.ACTIVE, role=Role.USER, created_at=now, updated_at=now,
            )  # fmt: skip
            await uow.users.add(user)
            users.append(user)
        await uow.commit()
    return users


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(0, DEFAULT_PAGE_SIZE), (-5, DEFAULT_PAGE_SIZE), (201, DEFAULT_PAGE_SIZE),
     (10_000, DEFAULT_PAGE_SIZE), (1, 1), (7, 7), (200, 200)],
)  # fmt: skip
async def test_list_users_normalises_the_limit(world: World, limit: int, expected: int) -> None:
    await add_users(world, 60)
    page = await world.admin.list_users(ADMIN_TOKEN, UserFilter(), limit=limit, offset=0)
    assert page.limit == expected
    assert len(page.items) == min(expected, 60)
    assert page.total == 60


async def test_list_users_pages_newest_first(world: World) -> None:
    users = await add_users(world, 7)
    newest_first = [u.id for u in reversed(users)]
    seen: list[str] = []
    for offset in (0, 3, 6):
        page = await world.admin.list_users(ADMIN_TOKEN, UserFilter(), limit=3, offset=offset)
        assert (page.total, page.limit, page.offset) == (7, 3, offset)
        seen += [u.id for u in page.items]
    assert seen == newest_first
    negative = await world.admin.list_users(ADMIN_TOKEN, UserFilter(), limit=3, offset=-4)
    assert negative.offset == 0 and [u.id for u in negative.items] == newest_first[:3]
    beyond = await world.admin.list_users(ADMIN_TOKEN, UserFilter(), limit=3, offset=50)
    assert beyond.items == [] and beyond.total == 7


async def test_list_users_filters_by_email_role_and_status(world: World, cast: Cast) -> None:
    await add_users(world, 4, domain="Corp.Example.org")
    await force(world, cast.admin.id, status=UserStatus.LOCKED)

    async def emails(**flt: Any) -> tuple[int, list[str]]:
        page = await world.admin.list_users(ADMIN_TOKEN, UserFilter(**flt), limit=50, offset=0)
        return page.total, [u.email for u in page.items]

    total, found = await emails(email_contains="CORP.example")
    assert total == 4 and found == [f"u{i:03d}@corp.example.org" for i in (3, 2, 1, 0)]
    assert await emails(role=Role.SUPERADMIN) == (1, ["root@example.com"])
    assert await emails(status=UserStatus.LOCKED) == (1, ["admin@example.com"])
    assert await emails(role=Role.ADMIN, status=UserStatus.ACTIVE) == (0, [])
    total, found = await emails(email_contains="@example.com", role=Role.USER)
    assert (total, found) == (1, ["user@example.com"])
    assert (await emails(email_contains="nobody"))[0] == 0
    assert (await emails())[0] == 7


@pytest.mark.parametrize(
    ("raw", "role"), [("admin", Role.ADMIN), (" SuperAdmin ", Role.SUPERADMIN), ("USER", Role.USER)]
)
def test_parse_role(raw: str, role: Role) -> None:
    assert parse_role(raw) is role


def test_parse_status_and_role_reject_unknown_values() -> None:
    assert parse_status(" Pending_Email") is UserStatus.PENDING_EMAIL
    for parse, raw, field in [
        (parse_role, "root", "role"),
        (parse_role, "", "role"),
        (parse_status, "frozen", "status"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            parse(raw)
        assert caught.value.field == field


# -- bootstrap --------------------------------------------------------------------------

BASE32 = re.compile(r"^[A-Z2-7]{39}$")


async def test_bootstrap_creates_an_active_superadmin_with_a_one_time_password(
    world: World,
) -> None:
    first = await world.admin.bootstrap_superadmin("  Root@Example.COM ")
    assert first.created is True
    assert first.password is not None and BASE32.fullmatch(first.password)
    user = first.user
    assert (user.email, user.role, user.status) == (
        "root@example.com",
        Role.SUPERADMIN,
        UserStatus.ACTIVE,
    )
    assert await stored(world, user.id) == user
    assert first.password not in (user.password_hash or "")
    result = await world.accounts.login("root@example.com", first.password)
    assert result.user.id == user.id

    again = await world.admin.bootstrap_superadmin("ROOT@example.com")
    assert (again.created, again.password, again.user.id) == (False, None, user.id)
    assert await user_count(world) == 1
    assert await world.accounts.login("root@example.com", first.password)


async def test_bootstrap_passwords_differ_and_bypass_the_breach_check() -> None:
    world = make_world(breach_check=BreachCheckMode.FAIL_CLOSED)
    world.breaches.unavailable = True
    a = await world.admin.bootstrap_superadmin("a@example.com")
    b = await world.admin.bootstrap_superadmin("b@example.com")
    assert a.password and b.password and a.password != b.password
    assert world.breaches.calls == 0


async def test_bootstrap_leaves_an_existing_account_of_any_role_alone(world: World) -> None:
    user = await make_user(world, "root@example.com")
    result = await world.admin.bootstrap_superadmin("root@example.com")
    assert (result.created, result.password) == (False, None)
    assert result.user == user and result.user.role is Role.USER
    assert await world.accounts.login("root@example.com", STRONG)


async def test_bootstrap_rejects_an_invalid_email(world: World) -> None:
    with pytest.raises(InvalidInput):
        await world.admin.bootstrap_superadmin("not-an-email")
    assert await user_count(world) == 0
