"""Contract of ``TotpRepository`` (``uow.totp``), run against every unit-of-work factory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

import pytest

from domain.accounts.errors import UserNotFound
from domain.accounts.model import Role, User, UserStatus
from domain.clock import ManualClock
from domain.ids import new_id
from domain.keyring_service import StoredSecret
from domain.twofactor.model import TotpFactor
from domain.twofactor.ports import UnitOfWork, UnitOfWorkFactory
from domain.twofactor.service import pending_aad, secret_aad
from persistence.memory.uow import MemoryUnitOfWorkFactory
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_8 = timezone(timedelta(hours=8))
SECRET = b"K1\x00\x00\x00\x01" + b"s" * 40
OTHER_SECRET = b"K1\x00\x00\x00\x02" + b"o" * 40
PENDING = b"K1\x00\x00\x00\x01" + b"p" * 40
CODES = [f"{i:064x}" for i in range(10)]

T = TypeVar("T")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0 + timedelta(days=1))


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def uow(backend: Backend) -> UnitOfWorkFactory:
    """The bundle's unit of work; its clock (``clock``) stamps ``users.updated_at``."""
    return backend.adapters.uow


def make_user(user_id: str | None = None) -> User:
    user_id = user_id or new_id()
    return User(
        id=user_id,
        email=f"{user_id}@example.com",
        password_hash="$argon2id$hash",
        status=UserStatus.ACTIVE,
        role=Role.USER,
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
async def alice(uow: UnitOfWorkFactory) -> str:
    return await add_user(uow)


async def add_user(uow: UnitOfWorkFactory) -> str:
    user = make_user()
    async with uow() as unit:
        await unit.users.add(user)
        await unit.commit()
    return user.id


async def get_factor(uow: UnitOfWorkFactory, user_id: str) -> TotpFactor | None:
    async with uow() as unit:
        return await unit.totp.get(user_id)


async def get_user(uow: UnitOfWorkFactory, user_id: str) -> User:
    async with uow() as unit:
        user = await unit.users.get(user_id)
    assert user is not None
    return user


async def enable(
    uow: UnitOfWorkFactory,
    user_id: str,
    *,
    secret: bytes = SECRET,
    step: int = 1000,
    codes: list[str] | None = None,
) -> None:
    async with uow() as unit:
        await unit.totp.enable(user_id, secret, step, CODES if codes is None else codes)
        await unit.commit()


async def contend(
    uow: UnitOfWorkFactory, n: int, action: Callable[[UnitOfWork], Awaitable[T]]
) -> list[T]:
    """``n`` units of work each run ``action`` and commit, all at once.

    On the SQL backends every unit first holds its connection and has run a read, and none
    acts before all of them have: the race is real, not serialised by connection set-up.
    Memory units of work are serialised by design, so they just queue."""
    barrier = None if isinstance(uow, MemoryUnitOfWorkFactory) else asyncio.Barrier(n)

    async def one() -> T:
        async with uow() as unit:
            await unit.users.get("warm-up")
            if barrier is not None:
                await barrier.wait()
            result = await action(unit)
            await unit.commit()
            return result

    return await asyncio.gather(*(one() for _ in range(n)))


async def remaining_codes(uow: UnitOfWorkFactory, user_id: str) -> int:
    async with uow() as unit:
        return await unit.totp.count_recovery_codes(user_id)


# -- enrolment ---------------------------------------------------------------------------


async def test_no_factor_is_none(uow: UnitOfWorkFactory, alice: str) -> None:
    assert await get_factor(uow, alice) is None
    assert await get_factor(uow, new_id()) is None
    assert await remaining_codes(uow, alice) == 0


async def test_save_pending_creates_a_pending_enrolment(uow: UnitOfWorkFactory, alice: str) -> None:
    expires = datetime(2026, 3, 2, 20, 10, 0, 654321, tzinfo=PLUS_8)

    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, expires)
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor == TotpFactor(
        user_id=alice,
        secret_enc=None,
        last_step=None,
        pending_secret_enc=PENDING,
        pending_expires_at=expires,
    )
    assert factor is not None and not factor.enabled
    assert factor.pending_expires_at is not None
    assert factor.pending_expires_at.utcoffset() == timedelta(0)
    assert (await get_user(uow, alice)).totp_enabled is False


async def test_save_pending_replaces_the_pending_enrolment(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    async with uow() as unit:
        await unit.totp.save_pending(alice, OTHER_SECRET, T0)
        await unit.commit()
    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, T0 + timedelta(minutes=10))
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None
    assert factor.pending_secret_enc == PENDING
    assert factor.pending_expires_at == T0 + timedelta(minutes=10)


async def test_save_pending_keeps_the_enabled_secret(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice, step=77)

    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, T0)
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.secret_enc, factor.last_step) == (SECRET, 77)
    assert (factor.pending_secret_enc, factor.pending_expires_at) == (PENDING, T0)
    assert (await get_user(uow, alice)).totp_enabled is True
    assert await remaining_codes(uow, alice) == len(CODES)


async def test_enable_stores_the_secret_clears_pending_and_flags_the_user(
    uow: UnitOfWorkFactory, alice: str, clock: ManualClock
) -> None:
    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, T0)
        await unit.commit()
    clock.advance(timedelta(minutes=3))

    await enable(uow, alice, step=123456789012)

    assert await get_factor(uow, alice) == TotpFactor(
        user_id=alice,
        secret_enc=SECRET,
        last_step=123456789012,
        pending_secret_enc=None,
        pending_expires_at=None,
    )
    user = await get_user(uow, alice)
    assert user.totp_enabled is True
    assert user.updated_at == clock.now()
    assert await remaining_codes(uow, alice) == len(CODES)


async def test_enable_without_a_pending_enrolment(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice)

    factor = await get_factor(uow, alice)
    assert factor is not None and factor.enabled and factor.secret_enc == SECRET


async def test_enable_replaces_recovery_codes_and_clears_failures(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    await enable(uow, alice, codes=CODES[:3])
    async with uow() as unit:
        await unit.totp.record_failure(alice, limit=2, lock_until=T0 + timedelta(days=9))
        await unit.totp.record_failure(alice, limit=2, lock_until=T0 + timedelta(days=9))
        await unit.totp.record_failure(alice, limit=2, lock_until=T0 + timedelta(days=9))
        await unit.commit()

    await enable(uow, alice, secret=OTHER_SECRET, step=5, codes=CODES[3:5])

    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.secret_enc, factor.last_step) == (OTHER_SECRET, 5)
    assert (factor.failed_attempts, factor.locked_until) == (0, None)
    assert await remaining_codes(uow, alice) == 2
    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(alice, CODES[0], T0) is False
        assert await unit.totp.consume_recovery_code(alice, CODES[3], T0) is True


async def test_disable_forgets_the_factor_and_unflags_the_user(
    uow: UnitOfWorkFactory, alice: str, clock: ManualClock
) -> None:
    await enable(uow, alice)
    clock.advance(timedelta(hours=1))

    async with uow() as unit:
        await unit.totp.disable(alice)
        await unit.commit()

    assert await get_factor(uow, alice) is None
    assert await remaining_codes(uow, alice) == 0
    user = await get_user(uow, alice)
    assert user.totp_enabled is False
    assert user.updated_at == clock.now()
    async with uow() as unit:
        assert await unit.totp.list_encrypted() == []


async def test_unknown_user_raises(uow: UnitOfWorkFactory) -> None:
    ghost = new_id()
    async with uow() as unit:
        with pytest.raises(UserNotFound):
            await unit.totp.save_pending(ghost, PENDING, T0)
        with pytest.raises(UserNotFound):
            await unit.totp.enable(ghost, SECRET, 1, CODES)
        with pytest.raises(UserNotFound):
            await unit.totp.disable(ghost)
        with pytest.raises(UserNotFound):
            await unit.totp.replace_recovery_codes(ghost, CODES)
        # The unit of work stays usable.
        assert await unit.totp.get(ghost) is None


async def test_operations_without_a_factor_change_nothing(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    async with uow() as unit:
        assert await unit.totp.advance_step(alice, 5) is False
        assert await unit.totp.record_failure(alice, limit=3, lock_until=T0) == 0
        await unit.totp.reset_failures(alice)
        assert await unit.totp.consume_recovery_code(alice, CODES[0], T0) is False
        await unit.commit()

    assert await get_factor(uow, alice) is None


# -- transactions ------------------------------------------------------------------------


async def test_leaving_without_commit_undoes_enable(uow: UnitOfWorkFactory, alice: str) -> None:
    async with uow() as unit:
        await unit.totp.enable(alice, SECRET, 1, CODES)
        # The unit of work reads its own writes.
        assert (await unit.users.get(alice)).totp_enabled is True  # type: ignore[union-attr]
        assert await unit.totp.count_recovery_codes(alice) == len(CODES)
        factor = await unit.totp.get(alice)
        assert factor is not None and factor.secret_enc == SECRET

    assert await get_factor(uow, alice) is None
    assert (await get_user(uow, alice)).totp_enabled is False
    assert await remaining_codes(uow, alice) == 0


async def test_leaving_without_commit_undoes_disable(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice)
    before = await get_user(uow, alice)

    async with uow() as unit:
        await unit.totp.disable(alice)
        assert await unit.totp.get(alice) is None
        assert (await unit.users.get(alice)).totp_enabled is False  # type: ignore[union-attr]

    assert await get_user(uow, alice) == before
    factor = await get_factor(uow, alice)
    assert factor is not None and factor.secret_enc == SECRET
    assert await remaining_codes(uow, alice) == len(CODES)


async def test_an_exception_rolls_back_totp_writes(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice, step=10)

    with pytest.raises(RuntimeError):
        async with uow() as unit:
            assert await unit.totp.advance_step(alice, 11) is True
            assert await unit.totp.consume_recovery_code(alice, CODES[0], T0) is True
            await unit.totp.save_pending(alice, PENDING, T0)
            raise RuntimeError("boom")

    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.last_step, factor.pending_secret_enc) == (10, None)
    assert await remaining_codes(uow, alice) == len(CODES)


async def test_user_and_totp_writes_commit_together(uow: UnitOfWorkFactory) -> None:
    user = make_user()

    async with uow() as unit:
        await unit.users.add(user)
        await unit.totp.enable(user.id, SECRET, 1, CODES)
        await unit.commit()

    assert (await get_user(uow, user.id)).totp_enabled is True
    assert await remaining_codes(uow, user.id) == len(CODES)


# -- replay guard ------------------------------------------------------------------------


async def test_advance_step_accepts_only_newer_steps(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice, step=100)

    async with uow() as unit:
        assert await unit.totp.advance_step(alice, 100) is False
        assert await unit.totp.advance_step(alice, 99) is False
        assert await unit.totp.advance_step(alice, 101) is True
        assert await unit.totp.advance_step(alice, 101) is False
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None and factor.last_step == 101


async def test_advance_step_from_no_step(uow: UnitOfWorkFactory, alice: str) -> None:
    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, T0)
        assert await unit.totp.advance_step(alice, 1) is True
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None and factor.last_step == 1


async def test_concurrent_advance_step_has_exactly_one_winner(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    await enable(uow, alice, step=100)

    outcomes = await contend(uow, 10, lambda unit: unit.totp.advance_step(alice, 101))

    assert sorted(outcomes) == [False] * 9 + [True]
    factor = await get_factor(uow, alice)
    assert factor is not None and factor.last_step == 101


# -- failures and lock -------------------------------------------------------------------


async def test_failures_count_then_lock_with_a_fresh_budget(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    await enable(uow, alice)
    lock_until = datetime(2026, 3, 2, 0, 15, 0, 250000, tzinfo=PLUS_8)

    counts = []
    for _ in range(3):
        async with uow() as unit:
            counts.append(await unit.totp.record_failure(alice, limit=3, lock_until=lock_until))
            await unit.commit()
        if len(counts) < 3:
            factor = await get_factor(uow, alice)
            assert factor is not None
            assert (factor.failed_attempts, factor.locked_until) == (len(counts), None)

    assert counts == [1, 2, 3]
    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.failed_attempts, factor.locked_until) == (0, lock_until)
    assert factor.locked_until is not None and factor.locked_until.utcoffset() == timedelta(0)

    async with uow() as unit:
        assert await unit.totp.record_failure(alice, limit=3, lock_until=T0) == 1
        await unit.commit()
    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.failed_attempts, factor.locked_until) == (1, lock_until)


async def test_reset_failures(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice)
    async with uow() as unit:
        await unit.totp.record_failure(alice, limit=10, lock_until=T0)
        await unit.totp.record_failure(alice, limit=10, lock_until=T0)
        await unit.commit()

    async with uow() as unit:
        await unit.totp.reset_failures(alice)
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None and factor.failed_attempts == 0


async def test_concurrent_failures_are_all_counted(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice)
    lock_until = T0 + timedelta(days=5)

    counts = await contend(
        uow, 10, lambda unit: unit.totp.record_failure(alice, limit=10, lock_until=lock_until)
    )

    assert sorted(counts) == list(range(1, 11))
    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.failed_attempts, factor.locked_until) == (0, lock_until)


# -- recovery codes ----------------------------------------------------------------------


async def test_a_recovery_code_works_once(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice)
    used_at = datetime(2026, 3, 2, 8, 0, tzinfo=PLUS_8)

    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(alice, CODES[4], used_at) is True
        assert await unit.totp.consume_recovery_code(alice, CODES[4], used_at) is False
        assert await unit.totp.consume_recovery_code(alice, "f" * 64, used_at) is False
        await unit.commit()

    assert await remaining_codes(uow, alice) == len(CODES) - 1
    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(alice, CODES[4], used_at) is False


async def test_recovery_codes_belong_to_their_user(uow: UnitOfWorkFactory, alice: str) -> None:
    bob = await add_user(uow)
    await enable(uow, alice, codes=CODES[:2])
    await enable(uow, bob, codes=CODES[:2])

    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(bob, CODES[0], T0) is True
        await unit.commit()

    assert await remaining_codes(uow, alice) == 2
    assert await remaining_codes(uow, bob) == 1
    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(alice, CODES[0], T0) is True


async def test_concurrent_consumption_has_exactly_one_winner(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    await enable(uow, alice)

    outcomes = await contend(
        uow, 10, lambda unit: unit.totp.consume_recovery_code(alice, CODES[7], T0)
    )

    assert sorted(outcomes) == [False] * 9 + [True]
    assert await remaining_codes(uow, alice) == len(CODES) - 1


async def test_replace_recovery_codes(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice, codes=CODES[:5])
    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(alice, CODES[0], T0) is True
        await unit.commit()

    async with uow() as unit:
        # Duplicates count once.
        await unit.totp.replace_recovery_codes(alice, [CODES[0], CODES[8], CODES[8], CODES[9]])
        await unit.commit()

    assert await remaining_codes(uow, alice) == 3
    async with uow() as unit:
        assert await unit.totp.consume_recovery_code(alice, CODES[1], T0) is False
        assert await unit.totp.consume_recovery_code(alice, CODES[0], T0) is True
        await unit.totp.replace_recovery_codes(alice, [])
        assert await unit.totp.count_recovery_codes(alice) == 0


# -- key rotation ------------------------------------------------------------------------


async def test_list_encrypted_names_every_blob_with_its_aad(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    bob, carol = await add_user(uow), await add_user(uow)
    await enable(uow, alice)
    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, T0)
        await unit.totp.save_pending(bob, OTHER_SECRET, T0)
        await unit.commit()

    async with uow() as unit:
        found = await unit.totp.list_encrypted()

    assert sorted(found, key=lambda s: (s.owner, s.kind)) == sorted(
        [
            StoredSecret("totp", alice, SECRET, secret_aad(alice)),
            StoredSecret("totp-pending", alice, PENDING, pending_aad(alice)),
            StoredSecret("totp-pending", bob, OTHER_SECRET, pending_aad(bob)),
        ],
        key=lambda s: (s.owner, s.kind),
    )
    assert secret_aad(alice) == b"totp:" + alice.encode()
    assert pending_aad(bob) == b"totp-pending:" + bob.encode()
    assert all(type(secret.blob) is bytes for secret in found)
    assert carol not in {secret.owner for secret in found}


async def test_replace_encrypted_is_a_compare_and_set(uow: UnitOfWorkFactory, alice: str) -> None:
    await enable(uow, alice)
    async with uow() as unit:
        await unit.totp.save_pending(alice, PENDING, T0)
        await unit.commit()
    async with uow() as unit:
        stored = {secret.kind: secret for secret in await unit.totp.list_encrypted()}

    async with uow() as unit:
        assert await unit.totp.replace_encrypted(stored["totp"], OTHER_SECRET) is True
        assert await unit.totp.replace_encrypted(stored["totp-pending"], b"new-pending") is True
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.secret_enc, factor.pending_secret_enc) == (OTHER_SECRET, b"new-pending")
    async with uow() as unit:
        # The blobs changed since they were listed: nothing is overwritten.
        assert await unit.totp.replace_encrypted(stored["totp"], b"stale") is False
        assert await unit.totp.replace_encrypted(stored["totp-pending"], b"stale") is False
        unknown_kind = StoredSecret("oauth", alice, OTHER_SECRET, b"")
        assert await unit.totp.replace_encrypted(unknown_kind, b"x") is False
        other_owner = StoredSecret("totp", new_id(), OTHER_SECRET, b"")
        assert await unit.totp.replace_encrypted(other_owner, b"x") is False
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None
    assert (factor.secret_enc, factor.pending_secret_enc) == (OTHER_SECRET, b"new-pending")


async def test_replace_encrypted_loses_to_a_concurrent_change(
    uow: UnitOfWorkFactory, alice: str
) -> None:
    await enable(uow, alice)
    async with uow() as unit:
        [listed] = await unit.totp.list_encrypted()
    await enable(uow, alice, secret=OTHER_SECRET)  # the user re-enrolled meanwhile

    async with uow() as unit:
        assert await unit.totp.replace_encrypted(listed, b"rewrapped-old") is False
        await unit.commit()

    factor = await get_factor(uow, alice)
    assert factor is not None and factor.secret_enc == OTHER_SECRET
