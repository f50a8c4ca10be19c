"""Two-factor use cases on the in-process ports: ``TwoFactorService`` and the TOTP part of
``AccountService.login``, built as the composition root builds them but on the memory
stores, a ``ManualClock``, a key ring on a zero master key and a trivial QR renderer."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from domain.accounts.errors import AccountLocked
from domain.accounts.model import User, UserStatus
from domain.accounts.passwords import Argon2PasswordHasher
from domain.accounts.ports import SessionStore
from domain.accounts.service import AccountService
from domain.clock import ManualClock
from domain.errors import InvalidInput, RateLimited, Unauthenticated
from domain.keyring import KeyEncryptionKey, KeyRing
from domain.keyring_service import KeyRingProvider, KeyRotation
from domain.principal import AuthMethod, Principal, anonymous
from domain.twofactor import codes
from domain.twofactor.errors import (
    TotpAlreadyEnabled,
    TotpChallengeNotFound,
    TotpInvalidCode,
    TotpNoPendingEnrolment,
    TotpNotEnabled,
)
from domain.twofactor.model import TotpFactor
from domain.twofactor.ports import ChallengeStore, UnitOfWorkFactory
from domain.twofactor.service import TwoFactorService, secret_aad
from tests.support.services import MASTER_KEY as UNIT_MASTER_KEY
from tests.support.services import FakeQr, build, offline

STRONG = "Correct-Horse-42-Battery"
HASHER = Argon2PasswordHasher(time_cost=1, memory_cost_kib=8)
MASTER_KEY = bytes.fromhex(UNIT_MASTER_KEY)
STEP = 30
RECOVERY_CODE = re.compile(r"^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$")


@dataclass
class World:
    clock: ManualClock
    uow: UnitOfWorkFactory
    sessions: SessionStore
    challenges: ChallengeStore
    keys: KeyRingProvider
    """A second view of the services' key ring (same store, same master key)."""
    accounts: AccountService
    twofactor: TwoFactorService
    rotation: KeyRotation

    def code(self, secret: str, offset: float = 0) -> str:
        return str(pyotp.TOTP(secret).at(self.clock.now() + timedelta(seconds=offset)))

    def wrong(self, secret: str) -> str:
        valid = {self.code(secret, offset) for offset in (-STEP, 0, STEP)}
        return next(c for c in ("000000", "111111", "222222") if c not in valid)

    def tick(self, seconds: float = STEP) -> None:
        self.clock.advance(seconds)


def make_world() -> World:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC))
    built = build(clock, outbound=offline(hasher=HASHER, qr=FakeQr()))
    a, services = built.adapters, built.services
    keys = KeyRingProvider(a.key_versions, KeyEncryptionKey(MASTER_KEY))
    return World(clock, a.uow, a.sessions, a.challenges, keys, services.accounts,
                 services.twofactor, services.key_rotation)  # fmt: skip


@pytest.fixture
def world() -> World:
    return make_world()


# -- helpers ---------------------------------------------------------------------------


@dataclass
class Person:
    user: User
    principal: Principal
    token: str


async def person(world: World, email: str = "alice@example.com") -> Person:
    """A registered user signed in with a password (before any second factor)."""
    user = (await world.accounts.register(email, STRONG)).user
    return await sign_in(world, email, user)


async def sign_in(world: World, email: str, user: User | None = None) -> Person:
    result = await world.accounts.login(email, STRONG)
    assert result.issued is not None
    found = await world.accounts.authenticate(result.issued.token)
    assert found is not None
    return Person(
        user or result.user, found.principal("198.51.100.1", "pytest"), result.issued.token
    )


@dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]


async def enrol(world: World, who: Person) -> Enrolled:
    enrolment = await world.twofactor.begin_enrolment(who.principal)
    confirmed = await world.twofactor.confirm_enrolment(
        who.principal, world.code(enrolment.secret_base32)
    )
    return Enrolled(enrolment.secret_base32, confirmed.recovery_codes)


async def factor(world: World, user_id: str) -> TotpFactor | None:
    async with world.uow() as uow:
        return await uow.totp.get(user_id)


async def stored_user(world: World, user_id: str) -> User:
    async with world.uow() as uow:
        user = await uow.users.get(user_id)
    assert user is not None
    return user


async def challenge(world: World, email: str = "alice@example.com") -> str:
    result = await world.accounts.login(email, STRONG)
    assert result.totp_required and result.issued is None and result.challenge_id
    return result.challenge_id


async def complete(world: World, challenge_id: str, code: str) -> str:
    """Complete a challenge; returns the new session's token (which must work)."""
    user, issued = await world.twofactor.complete_challenge(
        challenge_id, code, client_ip="198.51.100.2", user_agent="phone"
    )
    assert (await world.accounts.authenticate(issued.token)) is not None
    assert issued.session.user_id == user.id
    return issued.token


async def live(world: World, token: str) -> bool:
    return await world.accounts.authenticate(token) is not None


# -- enrolment -------------------------------------------------------------------------


async def test_begin_enrolment_returns_a_secret_url_and_qr_code(world: World) -> None:
    alice = await person(world)
    enrolment = await world.twofactor.begin_enrolment(alice.principal)
    assert re.fullmatch(r"[A-Z2-7]{32}", enrolment.secret_base32)
    assert len(pyotp.TOTP(enrolment.secret_base32).byte_secret()) == 20
    assert enrolment.otpauth_url == pyotp.TOTP(enrolment.secret_base32).provisioning_uri(
        name="alice@example.com", issuer_name="Karpov"
    )
    assert enrolment.otpauth_url.startswith("otpauth://totp/Karpov:alice%40example.com?")
    assert enrolment.qr_code_svg == FakeQr().svg_data_uri(enrolment.otpauth_url)

    again = await world.twofactor.begin_enrolment(alice.principal)
    assert again.secret_base32 != enrolment.secret_base32
    assert not (await stored_user(world, alice.user.id)).totp_enabled
    stored = await factor(world, alice.user.id)
    assert stored is not None and not stored.enabled
    assert stored.pending_expires_at == world.clock.now() + timedelta(minutes=10)
    assert stored.pending_secret_enc is not None
    assert enrolment.secret_base32.encode() not in stored.pending_secret_enc
    assert (await world.twofactor.status(alice.principal)).enabled is False


async def test_only_a_signed_in_session_may_change_the_factor(world: World) -> None:
    alice = await person(world)
    api_key = Principal(AuthMethod.API_KEY, user_id=alice.user.id)
    for principal in (anonymous(), api_key):
        with pytest.raises(Unauthenticated):
            await world.twofactor.begin_enrolment(principal)
        with pytest.raises(Unauthenticated):
            await world.twofactor.confirm_enrolment(principal, "123456")
        with pytest.raises(Unauthenticated):
            await world.twofactor.disable(principal, "123456")
        with pytest.raises(Unauthenticated):
            await world.twofactor.regenerate_recovery_codes(principal, "123456")


async def test_confirm_enables_the_factor_and_returns_ten_recovery_codes(world: World) -> None:
    alice = await person(world)
    with pytest.raises(TotpNoPendingEnrolment):
        await world.twofactor.confirm_enrolment(alice.principal, "123456")
    secret = (await world.twofactor.begin_enrolment(alice.principal)).secret_base32
    for bad in (world.wrong(secret), "", "12345", "1234567", "abcdef"):
        with pytest.raises(TotpInvalidCode):
            await world.twofactor.confirm_enrolment(alice.principal, bad)
    still = await factor(world, alice.user.id)
    assert still is not None and not still.enabled and still.pending_secret_enc is not None

    confirmed = await world.twofactor.confirm_enrolment(alice.principal, f" {world.code(secret)} ")
    assert confirmed.user.totp_enabled and (await stored_user(world, alice.user.id)).totp_enabled
    recovery = confirmed.recovery_codes
    assert len(set(recovery)) == codes.RECOVERY_CODE_COUNT == 10
    assert all(RECOVERY_CODE.match(c) for c in recovery), recovery
    stored = await factor(world, alice.user.id)
    assert stored is not None and stored.enabled and stored.pending_secret_enc is None
    assert stored.last_step == codes.time_step(world.clock.now())
    assert stored.secret_enc is not None and stored.secret_enc.startswith(b"K1")
    assert secret.encode() not in stored.secret_enc
    status = await world.twofactor.status(alice.principal)
    assert (status.enabled, status.recovery_codes_remaining) == (True, 10)

    with pytest.raises(TotpAlreadyEnabled):
        await world.twofactor.begin_enrolment(alice.principal)
    with pytest.raises(TotpAlreadyEnabled):
        await world.twofactor.confirm_enrolment(alice.principal, world.code(secret, STEP))


async def test_a_pending_enrolment_lives_ten_minutes(world: World) -> None:
    alice = await person(world)
    secret = (await world.twofactor.begin_enrolment(alice.principal)).secret_base32
    world.tick(601)
    with pytest.raises(TotpNoPendingEnrolment):
        await world.twofactor.confirm_enrolment(alice.principal, world.code(secret))
    secret = (await world.twofactor.begin_enrolment(alice.principal)).secret_base32
    world.tick(599)
    await world.twofactor.confirm_enrolment(alice.principal, world.code(secret))


# -- sign-in ---------------------------------------------------------------------------


async def test_login_of_a_totp_user_opens_a_challenge_and_issues_no_session(
    world: World,
) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    before = len(await world.sessions.list_for_user(alice.user.id))
    result = await world.accounts.login("alice@example.com", STRONG, client_ip="198.51.100.9")
    assert result.totp_required is True and result.issued is None
    assert result.challenge_id and len(result.challenge_id) >= 16
    assert len(await world.sessions.list_for_user(alice.user.id)) == before

    world.tick()
    token = await complete(world, result.challenge_id, world.code(enrolled.secret))
    assert len(await world.sessions.list_for_user(alice.user.id)) == before + 1
    assert await live(world, token)


async def test_completing_a_challenge_records_the_login_time(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    world.tick(120)
    challenge_id = await challenge(world)
    world.tick(7)
    await complete(world, challenge_id, world.code(enrolled.secret))
    assert (await stored_user(world, alice.user.id)).last_login_at == world.clock.now()


async def test_an_inline_code_sign_in_records_the_login_time(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    world.tick(120)
    await world.accounts.login("alice@example.com", STRONG, totp_code=world.code(enrolled.secret))
    assert (await stored_user(world, alice.user.id)).last_login_at == world.clock.now()


async def test_a_code_is_never_accepted_twice(world: World) -> None:
    enrolled = await enrol(world, await person(world))  # step N used to confirm
    challenge_id = await challenge(world)
    with pytest.raises(TotpInvalidCode):
        await complete(world, challenge_id, world.code(enrolled.secret))
    world.tick()  # N+1
    code = world.code(enrolled.secret)
    await complete(world, challenge_id, code)

    second = await challenge(world)
    with pytest.raises(TotpInvalidCode):
        await complete(world, second, code)  # same step
    world.tick()  # N+2: within the skew, but not newer than the last accepted step
    with pytest.raises(TotpInvalidCode):
        await complete(world, second, code)
    await complete(world, second, world.code(enrolled.secret))


async def test_one_step_of_skew_is_accepted_two_are_not(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    world.tick(3 * STEP)  # N+3
    user = await stored_user(world, alice.user.id)
    for offset in (-2 * STEP, 2 * STEP):
        with pytest.raises(TotpInvalidCode):
            await world.twofactor.verify(user, world.code(enrolled.secret, offset))
    await world.twofactor.verify(user, world.code(enrolled.secret, -STEP))  # N+2
    await world.twofactor.verify(user, world.code(enrolled.secret, STEP))  # N+4
    with pytest.raises(TotpInvalidCode):  # N+3 is not newer than N+4
        await world.twofactor.verify(user, world.code(enrolled.secret))
    stored = await factor(world, alice.user.id)
    assert stored is not None and stored.last_step == codes.time_step(world.clock.now()) + 1


async def test_a_challenge_lives_five_minutes(world: World) -> None:
    enrolled = await enrol(world, await person(world))
    challenge_id = await challenge(world)
    world.tick(301)
    with pytest.raises(TotpChallengeNotFound):
        await complete(world, challenge_id, world.code(enrolled.secret))
    challenge_id = await challenge(world)
    world.tick(299)
    await complete(world, challenge_id, world.code(enrolled.secret))


async def test_a_challenge_is_single_use(world: World) -> None:
    enrolled = await enrol(world, await person(world))
    world.tick()
    challenge_id = await challenge(world)
    await complete(world, challenge_id, world.code(enrolled.secret))
    world.tick()
    with pytest.raises(TotpChallengeNotFound):
        await complete(world, challenge_id, world.code(enrolled.secret))
    with pytest.raises(TotpChallengeNotFound):
        await complete(world, "unknown", world.code(enrolled.secret))
    with pytest.raises(InvalidInput):
        await complete(world, "", world.code(enrolled.secret))


async def test_five_wrong_codes_kill_the_challenge(world: World) -> None:
    enrolled = await enrol(world, await person(world))
    world.tick()
    challenge_id = await challenge(world)
    for _ in range(5):
        with pytest.raises(TotpInvalidCode):
            await complete(world, challenge_id, world.wrong(enrolled.secret))
    with pytest.raises(TotpChallengeNotFound):
        await complete(world, challenge_id, world.code(enrolled.secret))
    await complete(world, await challenge(world), world.code(enrolled.secret))


async def test_a_challenge_ends_when_the_account_is_locked_or_the_factor_disabled(
    world: World,
) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    world.tick()
    challenge_id = await challenge(world)
    async with world.uow() as uow:
        user = await uow.users.get(alice.user.id)
        assert user is not None
        await uow.users.update(user.with_changes(status=UserStatus.LOCKED))
        await uow.commit()
    with pytest.raises(AccountLocked):
        await complete(world, challenge_id, world.code(enrolled.secret))
    async with world.uow() as uow:
        user = await uow.users.get(alice.user.id)
        assert user is not None
        await uow.users.update(user.with_changes(status=UserStatus.ACTIVE))
        await uow.commit()

    other = await challenge(world)
    await world.twofactor.disable(alice.principal, enrolled.recovery_codes[0])
    with pytest.raises(TotpChallengeNotFound):
        await complete(world, other, world.code(enrolled.secret))
    with pytest.raises(TotpChallengeNotFound):
        await complete(world, challenge_id, world.code(enrolled.secret))


async def test_a_code_sent_with_the_login(world: World) -> None:
    enrolled = await enrol(world, await person(world))
    world.tick()
    with pytest.raises(TotpInvalidCode):
        await world.accounts.login(
            "alice@example.com", STRONG, totp_code=world.wrong(enrolled.secret)
        )
    code = world.code(enrolled.secret)
    result = await world.accounts.login("alice@example.com", STRONG, totp_code=code)
    assert result.issued is not None and not result.totp_required
    assert await live(world, result.issued.token)
    with pytest.raises(TotpInvalidCode):
        await world.accounts.login("alice@example.com", STRONG, totp_code=code)
    result = await world.accounts.login(
        "alice@example.com", STRONG, totp_code=enrolled.recovery_codes[0]
    )
    assert result.issued is not None


# -- recovery codes --------------------------------------------------------------------


async def test_recovery_codes_are_single_use_in_any_order(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    order = list(enrolled.recovery_codes)
    random.Random(7).shuffle(order)
    for used, code in enumerate(order, start=1):
        typed = code.lower().replace("-", " ") if used % 3 == 0 else code
        await complete(world, await challenge(world), typed)
        assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 10 - used
        assert (await world.twofactor.status(alice.principal)).recovery_codes_remaining == (
            10 - used
        )
    user = await stored_user(world, alice.user.id)
    for code in order[:5]:  # (ten wrong codes in a row would lock the factor)
        with pytest.raises(TotpInvalidCode):
            await world.twofactor.verify(user, code)
    with pytest.raises(TotpInvalidCode):
        await world.twofactor.verify(user, "ABCDE-FGHJK")  # well-formed, never issued


async def test_regenerating_needs_a_totp_code_and_replaces_the_set(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    world.tick()
    with pytest.raises(TotpInvalidCode):
        await world.twofactor.regenerate_recovery_codes(alice.principal, enrolled.recovery_codes[0])
    assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 10
    fresh = await world.twofactor.regenerate_recovery_codes(
        alice.principal, world.code(enrolled.secret)
    )
    assert len(set(fresh)) == 10 and not set(fresh) & set(enrolled.recovery_codes)
    user = await stored_user(world, alice.user.id)
    with pytest.raises(TotpInvalidCode):
        await world.twofactor.verify(user, enrolled.recovery_codes[1])
    await world.twofactor.verify(user, fresh[1])
    assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 9

    bob = await person(world, "bob@example.com")
    with pytest.raises(TotpNotEnabled):
        await world.twofactor.regenerate_recovery_codes(bob.principal, "123456")


async def test_recovery_codes_of_one_user_do_not_work_for_another(world: World) -> None:
    alice = await person(world)
    bob = await person(world, "bob@example.com")
    alice_codes = (await enrol(world, alice)).recovery_codes
    await enrol(world, bob)
    bob_user = await stored_user(world, bob.user.id)
    with pytest.raises(TotpInvalidCode):
        await world.twofactor.verify(bob_user, alice_codes[0])
    assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 10


# -- disabling and other sessions ------------------------------------------------------


async def test_disable_needs_a_valid_code_and_then_login_needs_none(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    with pytest.raises(TotpInvalidCode):
        await world.twofactor.disable(alice.principal, world.wrong(enrolled.secret))
    assert (await stored_user(world, alice.user.id)).totp_enabled
    await world.twofactor.disable(alice.principal, enrolled.recovery_codes[9])
    assert not (await stored_user(world, alice.user.id)).totp_enabled
    assert await factor(world, alice.user.id) is None
    assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 0
    result = await world.accounts.login("alice@example.com", STRONG)
    assert result.issued is not None and not result.totp_required
    with pytest.raises(TotpNotEnabled):
        await world.twofactor.disable(alice.principal, world.code(enrolled.secret, STEP))


async def test_changes_to_the_factor_end_the_other_sessions_only(world: World) -> None:
    laptop = await person(world)
    phone = await sign_in(world, "alice@example.com")
    enrolled = await enrol(world, laptop)
    assert await live(world, laptop.token) and not await live(world, phone.token)

    world.tick()
    phone_token = await complete(world, await challenge(world), world.code(enrolled.secret))
    world.tick()
    await world.twofactor.regenerate_recovery_codes(laptop.principal, world.code(enrolled.secret))
    assert await live(world, laptop.token) and not await live(world, phone_token)

    world.tick()
    phone_token = await complete(world, await challenge(world), world.code(enrolled.secret))
    world.tick()
    await world.twofactor.disable(laptop.principal, world.code(enrolled.secret))
    assert await live(world, laptop.token) and not await live(world, phone_token)


# -- the per-user lock -----------------------------------------------------------------


async def test_ten_wrong_codes_in_a_row_lock_the_factor_for_fifteen_minutes(
    world: World,
) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    world.tick()
    for _ in range(2):
        challenge_id = await challenge(world)
        for _ in range(5):
            with pytest.raises(TotpInvalidCode):
                await complete(world, challenge_id, world.wrong(enrolled.secret))
    challenge_id = await challenge(world)
    with pytest.raises(RateLimited) as caught:
        await complete(world, challenge_id, world.code(enrolled.secret))
    assert caught.value.code == "RATE_LIMITED"
    assert 899 <= caught.value.retry_after <= 901
    with pytest.raises(RateLimited):
        await world.accounts.login(
            "alice@example.com", STRONG, totp_code=world.code(enrolled.secret)
        )
    with pytest.raises(RateLimited):  # disabling is behind the same lock
        await world.twofactor.disable(alice.principal, enrolled.recovery_codes[0])
    assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 10

    world.tick(899)
    with pytest.raises(RateLimited) as caught:
        await complete(world, await challenge(world), world.code(enrolled.secret))
    assert caught.value.retry_after <= 2
    world.tick(1)
    challenge_id = await challenge(world)
    with pytest.raises(TotpInvalidCode):  # a fresh budget, not an instant relock
        await complete(world, challenge_id, world.wrong(enrolled.secret))
    await complete(world, challenge_id, world.code(enrolled.secret))


async def test_a_right_code_resets_the_count(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    user = await stored_user(world, alice.user.id)
    for _ in range(3):
        world.tick()
        for _ in range(9):
            with pytest.raises(TotpInvalidCode):
                await world.twofactor.verify(user, world.wrong(enrolled.secret))
        await world.twofactor.verify(user, world.code(enrolled.secret))
    stored = await factor(world, alice.user.id)
    assert stored is not None and stored.failed_attempts == 0 and stored.locked_until is None


# -- concurrency -----------------------------------------------------------------------


async def test_concurrent_uses_of_one_code_accept_exactly_one(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    user = await stored_user(world, alice.user.id)
    for _ in range(5):
        world.tick()
        code = world.code(enrolled.secret)
        results = await asyncio.gather(
            world.twofactor.verify(user, code),
            world.twofactor.verify(user, code),
            return_exceptions=True,
        )
        assert sum(r is None for r in results) == 1, results
        assert sum(isinstance(r, TotpInvalidCode) for r in results) == 1, results


async def test_concurrent_challenges_with_one_code_issue_one_session(world: World) -> None:
    enrolled = await enrol(world, await person(world))
    world.tick()
    first, second = await challenge(world), await challenge(world)
    code = world.code(enrolled.secret)
    results = await asyncio.gather(
        complete(world, first, code), complete(world, second, code), return_exceptions=True
    )
    assert sum(isinstance(r, str) for r in results) == 1, results
    assert sum(isinstance(r, TotpInvalidCode) for r in results) == 1, results


async def test_concurrent_uses_of_one_recovery_code_accept_exactly_one(world: World) -> None:
    alice = await person(world)
    enrolled = await enrol(world, alice)
    user = await stored_user(world, alice.user.id)
    code = enrolled.recovery_codes[0]
    results = await asyncio.gather(
        *(world.twofactor.verify(user, code) for _ in range(3)), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1, results
    assert await world.twofactor.recovery_codes_remaining(alice.user.id) == 9


async def test_concurrent_completions_of_one_challenge_issue_one_session(world: World) -> None:
    enrolled = await enrol(world, await person(world))
    challenge_id = await challenge(world)
    results = await asyncio.gather(
        complete(world, challenge_id, enrolled.recovery_codes[0]),
        complete(world, challenge_id, enrolled.recovery_codes[1]),
        return_exceptions=True,
    )
    assert sum(isinstance(r, str) for r in results) == 1, results
    assert sum(isinstance(r, TotpChallengeNotFound) for r in results) == 1, results


# -- key rotation ----------------------------------------------------------------------


async def test_key_rotation_reencrypts_and_old_versions_still_decrypt(world: World) -> None:
    alice = await person(world)
    bob = await person(world, "bob@example.com")
    enrolled = await enrol(world, alice)
    bob_secret = (await world.twofactor.begin_enrolment(bob.principal)).secret_base32
    stored = await factor(world, alice.user.id)
    assert stored is not None and stored.secret_enc is not None
    assert KeyRing.version_of(stored.secret_enc) == 1

    # A new version alone: new secrets use it, old blobs still open.
    assert await world.keys.add_version() == 2
    world.tick()
    await world.twofactor.verify(
        await stored_user(world, alice.user.id), world.code(enrolled.secret)
    )

    rotation = world.rotation
    report = await rotation.rotate()
    assert (report.version, report.reencrypted, report.remaining) == (3, 2, 0)
    stored = await factor(world, alice.user.id)
    assert stored is not None and stored.secret_enc is not None
    assert KeyRing.version_of(stored.secret_enc) == 3
    secret = await world.keys.decrypt(stored.secret_enc, secret_aad(alice.user.id))
    assert secret.decode() == enrolled.secret
    world.tick()
    await complete(world, await challenge(world), world.code(enrolled.secret))
    await world.twofactor.confirm_enrolment(bob.principal, world.code(bob_secret))

    report = await rotation.rotate()
    assert (report.version, report.reencrypted, report.remaining) == (4, 2, 0)
    world.tick()
    await complete(world, await challenge(world, "bob@example.com"), world.code(bob_secret))
    await complete(world, await challenge(world), world.code(enrolled.secret))
