"""Contract of ``UnitOfWorkFactory`` / ``UserRepository``, run against every implementation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.errors import EmailTaken, RegisterIpLimit, UserNotFound
from domain.accounts.model import Role, User, UserFilter, UserStatus
from domain.accounts.ports import UnitOfWorkFactory
from domain.ids import new_id
from persistence.memory.uow import MemoryUnitOfWorkFactory
from persistence.sql.uow import SqlUnitOfWorkFactory
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_8 = timezone(timedelta(hours=8))


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def uow(backend: Backend) -> UnitOfWorkFactory:
    return backend.adapters.uow


def make_user(
    email: str = "alice@example.com",
    *,
    age_s: int = 0,
    role: Role = Role.USER,
    status: UserStatus = UserStatus.ACTIVE,
    user_id: str | None = None,
) -> User:
    """A user created ``age_s`` seconds before T0 + 1 day (larger age = older)."""
    created = T0 + timedelta(days=1) - timedelta(seconds=age_s)
    return User(
        id=user_id or new_id(),
        email=email,
        password_hash="$argon2id$hash",
        status=status,
        role=role,
        created_at=created,
        updated_at=created,
    )


async def add_users(uow: UnitOfWorkFactory, *users: User) -> None:
    async with uow() as unit:
        for user in users:
            await unit.users.add(user)
        await unit.commit()


async def get_user(uow: UnitOfWorkFactory, user_id: str) -> User | None:
    async with uow() as unit:
        return await unit.users.get(user_id)


# -- add and look up ---------------------------------------------------------------------


async def test_added_user_round_trips_every_field(uow: UnitOfWorkFactory) -> None:
    user = User(
        id=new_id(),
        email="alice@example.com",
        password_hash=None,
        status=UserStatus.PENDING_EMAIL,
        role=Role.ADMIN,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=1),
        plan_id="pro",
        totp_enabled=True,
        last_login_at=datetime(2026, 3, 2, 8, 30, 0, 654321, tzinfo=PLUS_8),
        register_ip="2001:db8::1",
        ip_claim="2001:db8::1",
    )
    await add_users(uow, user)

    async with uow() as unit:
        by_id = await unit.users.get(user.id)
        by_email = await unit.users.get_by_email("alice@example.com")

    assert by_id == user
    assert by_email == user
    assert by_id is not None and by_id.last_login_at is not None
    for instant in (by_id.created_at, by_id.updated_at, by_id.last_login_at):
        assert instant.utcoffset() == timedelta(0)
    assert by_id.last_login_at == datetime(2026, 3, 2, 0, 30, 0, 654321, tzinfo=UTC)


async def test_defaults_round_trip(uow: UnitOfWorkFactory) -> None:
    user = make_user()
    await add_users(uow, user)

    stored = await get_user(uow, user.id)

    assert stored == user
    assert stored is not None
    assert (stored.plan_id, stored.totp_enabled, stored.last_login_at) == ("free", False, None)


async def test_unknown_user_is_none(uow: UnitOfWorkFactory) -> None:
    await add_users(uow, make_user())

    async with uow() as unit:
        assert await unit.users.get(new_id()) is None
        assert await unit.users.get_by_email("nobody@example.com") is None
        assert await unit.users.get_for_update(new_id()) is None


async def test_get_for_update_returns_the_user(uow: UnitOfWorkFactory) -> None:
    user = make_user()
    await add_users(uow, user)

    async with uow() as unit:
        assert await unit.users.get_for_update(user.id) == user


# -- unique e-mail -----------------------------------------------------------------------


async def test_taken_email_raises_and_keeps_the_first(uow: UnitOfWorkFactory) -> None:
    first = make_user("alice@example.com")
    await add_users(uow, first)
    second = make_user("alice@example.com")
    other = make_user("bob@example.com")

    async with uow() as unit:
        with pytest.raises(EmailTaken) as raised:
            await unit.users.add(second)
        # The unit of work stays usable after losing the race.
        await unit.users.add(other)
        await unit.commit()

    assert raised.value.field == "email"
    assert await get_user(uow, first.id) == first
    assert await get_user(uow, second.id) is None
    assert await get_user(uow, other.id) == other


async def test_taken_email_within_one_unit_of_work(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        await unit.users.add(make_user("alice@example.com"))
        with pytest.raises(EmailTaken):
            await unit.users.add(make_user("alice@example.com"))


async def test_concurrent_adds_of_one_email_have_exactly_one_winner(
    uow: UnitOfWorkFactory,
) -> None:
    contenders = [make_user("race@example.com") for _ in range(10)]

    results = await asyncio.gather(
        *(add_users(uow, user) for user in contenders), return_exceptions=True
    )

    winners = [user for user, result in zip(contenders, results) if result is None]
    losers = [result for result in results if result is not None]
    assert len(winners) == 1
    assert len(losers) == 9
    assert all(isinstance(loser, EmailTaken) for loser in losers), losers
    async with uow() as unit:
        assert await unit.users.get_by_email("race@example.com") == winners[0]


async def test_update_to_a_taken_email_raises(uow: UnitOfWorkFactory) -> None:
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    await add_users(uow, alice, bob)

    async with uow() as unit:
        with pytest.raises(EmailTaken):
            await unit.users.update(bob.with_changes(email="alice@example.com"))

    assert await get_user(uow, bob.id) == bob


# -- one account per IP address ---------------------------------------------------------


def claiming(email: str, ip: str | None) -> User:
    return make_user(email).with_changes(register_ip=ip, ip_claim=ip)


async def test_ip_claimed(uow: UnitOfWorkFactory) -> None:
    await add_users(uow, claiming("a@example.com", "192.0.2.1"), claiming("b@example.com", None))

    async with uow() as unit:
        assert await unit.users.ip_claimed("192.0.2.1") is True
        assert await unit.users.ip_claimed("192.0.2.2") is False
        assert await unit.users.ip_claimed("") is False


async def test_a_claimed_ip_raises_and_keeps_the_first(uow: UnitOfWorkFactory) -> None:
    first = claiming("a@example.com", "2001:db8::7")
    await add_users(uow, first)
    second = claiming("b@example.com", "2001:db8::7")
    other = claiming("c@example.com", "2001:db8::8")

    async with uow() as unit:
        with pytest.raises(RegisterIpLimit):
            await unit.users.add(second)
        # The unit of work stays usable after losing the race.
        await unit.users.add(other)
        await unit.commit()

    assert await get_user(uow, first.id) == first
    assert await get_user(uow, second.id) is None
    assert await get_user(uow, other.id) == other


async def test_a_taken_email_is_still_email_taken_with_a_free_claim(
    uow: UnitOfWorkFactory,
) -> None:
    await add_users(uow, claiming("a@example.com", "192.0.2.1"))

    async with uow() as unit:
        with pytest.raises(EmailTaken):
            await unit.users.add(claiming("a@example.com", "192.0.2.2"))


async def test_users_without_a_claim_do_not_collide(uow: UnitOfWorkFactory) -> None:
    """The same register_ip is fine when the rule is off (no ``ip_claim``)."""
    people = [
        make_user(f"u{i}@example.com").with_changes(register_ip="192.0.2.1") for i in range(3)
    ]
    await add_users(uow, *people)

    async with uow() as unit:
        assert (await unit.users.list(UserFilter(), limit=10, offset=0)).total == 3
        assert await unit.users.ip_claimed("192.0.2.1") is False


async def test_update_to_a_claimed_ip_raises(uow: UnitOfWorkFactory) -> None:
    alice, bob = claiming("a@example.com", "192.0.2.1"), claiming("b@example.com", None)
    await add_users(uow, alice, bob)

    async with uow() as unit:
        with pytest.raises(RegisterIpLimit):
            await unit.users.update(bob.with_changes(ip_claim="192.0.2.1"))
        # Keeping one's own claim is no conflict.
        await unit.users.update(alice.with_changes(plan_id="pro"))
        await unit.commit()

    assert await get_user(uow, bob.id) == bob


async def test_concurrent_adds_claiming_one_ip_have_exactly_one_winner(
    uow: UnitOfWorkFactory,
) -> None:
    """On the SQL backends every unit holds its connection and has read (the claim is
    free) before any adds: the race is real. Memory units of work are serialised."""
    contenders = [claiming(f"racer{i}@example.com", "198.51.100.9") for i in range(5)]
    barrier = None if isinstance(uow, MemoryUnitOfWorkFactory) else asyncio.Barrier(5)

    async def register(user: User) -> None:
        async with uow() as unit:
            claimed = await unit.users.ip_claimed("198.51.100.9")
            if barrier is not None:
                assert claimed is False
                await barrier.wait()
            await unit.users.add(user)
            await unit.commit()

    results = await asyncio.gather(*(register(user) for user in contenders), return_exceptions=True)

    winners = [user for user, result in zip(contenders, results) if result is None]
    losers = [result for result in results if result is not None]
    assert len(winners) == 1
    assert len(losers) == 4
    assert all(isinstance(loser, RegisterIpLimit) for loser in losers), losers
    async with uow() as unit:
        assert await unit.users.ip_claimed("198.51.100.9") is True
        page = await unit.users.list(UserFilter(), limit=10, offset=0)
    assert page.items == winners


# -- update ------------------------------------------------------------------------------


async def test_update_replaces_every_mutable_field(uow: UnitOfWorkFactory) -> None:
    user = make_user()
    await add_users(uow, user)
    changed = user.with_changes(
        email="alice.new@example.com",
        password_hash="$argon2id$other",
        status=UserStatus.LOCKED,
        role=Role.SUPERADMIN,
        updated_at=T0 + timedelta(days=3),
        plan_id="team",
        totp_enabled=True,
        last_login_at=T0 + timedelta(days=2),
        register_ip="192.0.2.7",
        ip_claim="192.0.2.7",
    )

    async with uow() as unit:
        await unit.users.update(changed)
        await unit.commit()

    async with uow() as unit:
        assert await unit.users.get(user.id) == changed
        assert await unit.users.get_by_email("alice.new@example.com") == changed
        assert await unit.users.get_by_email("alice@example.com") is None


async def test_update_of_an_unknown_user_raises(uow: UnitOfWorkFactory) -> None:
    async with uow() as unit:
        with pytest.raises(UserNotFound):
            await unit.users.update(make_user())


# -- transactions ------------------------------------------------------------------------


async def test_leaving_without_commit_discards_an_add(uow: UnitOfWorkFactory) -> None:
    user = make_user()

    async with uow() as unit:
        await unit.users.add(user)

    async with uow() as unit:
        assert await unit.users.get(user.id) is None
        assert await unit.users.get_by_email(user.email) is None
        assert (await unit.users.list(UserFilter(), limit=10, offset=0)).total == 0


async def test_leaving_without_commit_discards_an_update(uow: UnitOfWorkFactory) -> None:
    user = make_user()
    await add_users(uow, user)

    async with uow() as unit:
        await unit.users.update(user.with_changes(status=UserStatus.BANNED))

    assert await get_user(uow, user.id) == user


async def test_an_exception_rolls_back(uow: UnitOfWorkFactory) -> None:
    user = make_user()

    with pytest.raises(RuntimeError):
        async with uow() as unit:
            await unit.users.add(user)
            raise RuntimeError("boom")

    assert await get_user(uow, user.id) is None


async def test_writes_after_commit_need_another_commit(uow: UnitOfWorkFactory) -> None:
    first, second = make_user("a@example.com"), make_user("b@example.com")

    async with uow() as unit:
        await unit.users.add(first)
        await unit.commit()
        await unit.users.add(second)

    assert await get_user(uow, first.id) == first
    assert await get_user(uow, second.id) is None


async def test_a_unit_of_work_reads_its_own_writes(uow: UnitOfWorkFactory) -> None:
    boss = make_user("boss@example.com", role=Role.SUPERADMIN)

    async with uow() as unit:
        await unit.users.add(boss)
        assert await unit.users.get(boss.id) == boss
        assert await unit.users.get_by_email("boss@example.com") == boss
        assert await unit.users.count_active_superadmins() == 1
        page = await unit.users.list(UserFilter(), limit=10, offset=0)
        assert page.items == [boss]


# -- list --------------------------------------------------------------------------------


async def test_list_is_newest_first_with_id_descending_on_ties(uow: UnitOfWorkFactory) -> None:
    oldest = make_user("oldest@example.com", age_s=300)
    newest = make_user("newest@example.com", age_s=0)
    tie_low = make_user("tie1@example.com", age_s=100, user_id="0" * 32)
    tie_high = make_user("tie2@example.com", age_s=100, user_id="f" * 32)
    await add_users(uow, tie_low, oldest, newest, tie_high)

    async with uow() as unit:
        page = await unit.users.list(UserFilter(), limit=10, offset=0)

    assert page.items == [newest, tie_high, tie_low, oldest]
    assert (page.total, page.limit, page.offset) == (4, 10, 0)


async def test_list_pages_with_the_total_of_all_matches(uow: UnitOfWorkFactory) -> None:
    people = [make_user(f"user{i}@example.com", age_s=i) for i in range(7)]
    await add_users(uow, *people)

    async with uow() as unit:
        first = await unit.users.list(UserFilter(), limit=3, offset=0)
        third = await unit.users.list(UserFilter(), limit=3, offset=6)
        beyond = await unit.users.list(UserFilter(), limit=3, offset=10)

    assert first.items == people[0:3]
    assert third.items == people[6:7]
    assert beyond.items == []
    assert first.total == third.total == beyond.total == 7
    assert (third.limit, third.offset) == (3, 6)


async def test_list_filters(uow: UnitOfWorkFactory) -> None:
    alice = make_user("alice@example.com", age_s=1)
    admin = make_user("a_b@corp.example", age_s=2, role=Role.ADMIN)
    locked_admin = make_user("axb@corp.example", age_s=3, role=Role.ADMIN, status=UserStatus.LOCKED)
    percent = make_user("100%sure@example.com", age_s=4, status=UserStatus.LOCKED)
    await add_users(uow, alice, admin, locked_admin, percent)

    async def emails(flt: UserFilter) -> list[str]:
        async with uow() as unit:
            page = await unit.users.list(flt, limit=50, offset=0)
        assert page.total == len(page.items)
        return [user.email for user in page.items]

    assert await emails(UserFilter(email_contains="ALICE@")) == ["alice@example.com"]
    assert await emails(UserFilter(email_contains="corp")) == [admin.email, locked_admin.email]
    # LIKE wildcards in the search text are literal characters.
    assert await emails(UserFilter(email_contains="a_b")) == ["a_b@corp.example"]
    assert await emails(UserFilter(email_contains="%")) == ["100%sure@example.com"]
    assert await emails(UserFilter(email_contains="nobody")) == []
    assert await emails(UserFilter(role=Role.ADMIN)) == [admin.email, locked_admin.email]
    assert await emails(UserFilter(status=UserStatus.LOCKED)) == [
        locked_admin.email,
        percent.email,
    ]
    assert await emails(UserFilter(role=Role.ADMIN, status=UserStatus.LOCKED)) == [
        locked_admin.email
    ]
    assert await emails(UserFilter(email_contains="example.com", role=Role.USER)) == [
        alice.email,
        percent.email,
    ]


# -- superadmins -------------------------------------------------------------------------


async def test_count_active_superadmins(uow: UnitOfWorkFactory) -> None:
    await add_users(
        uow,
        make_user("s1@example.com", role=Role.SUPERADMIN),
        make_user("s2@example.com", role=Role.SUPERADMIN),
        make_user("s3@example.com", role=Role.SUPERADMIN, status=UserStatus.LOCKED),
        make_user("s4@example.com", role=Role.SUPERADMIN, status=UserStatus.PENDING_EMAIL),
        make_user("a1@example.com", role=Role.ADMIN),
        make_user("u1@example.com"),
    )

    async with uow() as unit:
        assert await unit.users.count_active_superadmins() == 2


async def test_concurrent_demotions_cannot_remove_the_last_superadmin(
    uow: UnitOfWorkFactory,
) -> None:
    first = make_user("s1@example.com", role=Role.SUPERADMIN)
    second = make_user("s2@example.com", role=Role.SUPERADMIN)
    await add_users(uow, first, second)

    async def demote_unless_last(user_id: str) -> bool:
        async with uow() as unit:
            user = await unit.users.get_for_update(user_id)
            assert user is not None
            if await unit.users.count_active_superadmins() <= 1:
                return False
            await unit.users.update(user.with_changes(role=Role.ADMIN))
            await unit.commit()
            return True

    outcomes = await asyncio.gather(demote_unless_last(first.id), demote_unless_last(second.id))

    assert sorted(outcomes) == [False, True]
    async with uow() as unit:
        assert await unit.users.count_active_superadmins() == 1


async def test_postgres_interleaved_demotions_do_not_deadlock(pg_engine: AsyncEngine) -> None:
    """Both units of work lock their own row before either counts: the worst interleaving.

    Only PostgreSQL can be driven into it; the other backends serialise whole units of work,
    so the second one could never lock its row while the first is still open."""
    uow = SqlUnitOfWorkFactory(pg_engine)
    first = make_user("s1@example.com", role=Role.SUPERADMIN)
    second = make_user("s2@example.com", role=Role.SUPERADMIN)
    await add_users(uow, first, second)
    row_locked = [asyncio.Event(), asyncio.Event()]

    async def demote_unless_last(me: int, user_id: str) -> bool:
        async with uow() as unit:
            user = await unit.users.get_for_update(user_id)
            assert user is not None
            row_locked[me].set()
            await row_locked[1 - me].wait()
            if await unit.users.count_active_superadmins() <= 1:
                return False
            await unit.users.update(user.with_changes(role=Role.ADMIN))
            await unit.commit()
            return True

    outcomes = await asyncio.gather(
        demote_unless_last(0, first.id), demote_unless_last(1, second.id)
    )

    assert sorted(outcomes) == [False, True]
