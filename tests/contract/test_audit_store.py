"""Contract of ``AuditStore``, run against every implementation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete

from domain.accounts.model import Role, User, UserStatus
from domain.ids import new_id
from domain.security.model import AuditAction, AuditEvent, AuditFilter
from domain.security.ports import AuditStore
from persistence.sql.tables import users
from tests.contract.conftest import Backend

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PLUS_8 = timezone(timedelta(hours=8))


pytestmark = pytest.mark.backends("memory", "sqlite", "postgres")


@pytest.fixture
def store(backend: Backend) -> AuditStore:
    return backend.adapters.audit


def event(
    action: AuditAction = AuditAction.LOGIN_SUCCEEDED,
    *,
    at_s: int = 0,
    subject: str | None = None,
    actor: str | None = None,
    event_id: str | None = None,
    **details: str,
) -> AuditEvent:
    return AuditEvent(
        id=event_id or new_id(),
        action=action,
        created_at=T0 + timedelta(seconds=at_s),
        actor=actor,
        subject_user_id=subject,
        details=details,
    )


async def everything(store: AuditStore, flt: AuditFilter | None = None) -> list[AuditEvent]:
    page = await store.list(flt or AuditFilter(), limit=100, offset=0)
    assert page.total == len(page.items)
    return page.items


async def test_an_event_round_trips_every_field(store: AuditStore) -> None:
    full = AuditEvent(
        id=new_id(),
        action=AuditAction.ADMIN_PASSWORD_SET,
        created_at=datetime(2026, 3, 2, 8, 30, 0, 654321, tzinfo=PLUS_8),
        actor="admin-token",
        subject_user_id=new_id(),
        client_ip="2001:db8::1",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) ☃",
        details={"reason": "forgot it", "ticket": "42", "note": 'ünïcødé "quoted"'},
    )
    await store.append(full)

    [stored] = await everything(store)

    assert stored == replace(full, created_at=datetime(2026, 3, 2, 0, 30, 0, 654321, tzinfo=UTC))
    assert stored.created_at.utcoffset() == timedelta(0)
    assert isinstance(stored.action, AuditAction)


async def test_empty_details_and_missing_fields_round_trip(store: AuditStore) -> None:
    bare = event(AuditAction.LOGOUT)
    await store.append(bare)

    assert await everything(store) == [bare]


async def test_events_of_deleted_or_unknown_users_are_kept(store: AuditStore) -> None:
    """``subject_user_id`` is not a foreign key: any id is accepted."""
    orphan = event(subject="0" * 32)
    await store.append(orphan)

    assert await everything(store) == [orphan]


async def test_list_is_newest_first_with_id_descending_on_ties(store: AuditStore) -> None:
    oldest = event(at_s=-10)
    newest = event(at_s=10)
    tie_low = event(event_id="0" * 32)
    tie_high = event(event_id="f" * 32)
    for e in (tie_low, newest, oldest, tie_high):
        await store.append(e)

    assert await everything(store) == [newest, tie_high, tie_low, oldest]


async def test_list_pages_with_the_total_of_all_matches(store: AuditStore) -> None:
    events = [event(at_s=-i) for i in range(7)]
    for e in reversed(events):
        await store.append(e)

    first = await store.list(AuditFilter(), limit=3, offset=0)
    third = await store.list(AuditFilter(), limit=3, offset=6)
    beyond = await store.list(AuditFilter(), limit=3, offset=10)

    assert first.items == events[0:3]
    assert third.items == events[6:7]
    assert beyond.items == []
    assert first.total == third.total == beyond.total == 7
    assert (third.limit, third.offset) == (3, 6)


async def test_list_filters(store: AuditStore) -> None:
    alice, bob = new_id(), new_id()
    login = event(AuditAction.LOGIN_FAILED, at_s=1, subject=alice)
    admin = event(AuditAction.ADMIN_USER_UPDATED, at_s=2, subject=alice, actor="admin-token")
    own = event(AuditAction.PASSWORD_CHANGED, at_s=3, subject=bob, actor=f"user:{bob}")
    late = event(AuditAction.LOGIN_FAILED, at_s=4, subject=bob)
    for e in (login, admin, own, late):
        await store.append(e)

    assert await everything(store, AuditFilter(action=AuditAction.LOGIN_FAILED)) == [late, login]
    assert await everything(store, AuditFilter(subject_user_id=alice)) == [admin, login]
    assert await everything(store, AuditFilter(actor="admin-token")) == [admin]
    assert await everything(store, AuditFilter(actor=f"user:{bob}")) == [own]
    # since is inclusive, until exclusive.
    window = AuditFilter(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4))
    assert await everything(store, window) == [own, admin]
    assert await everything(store, AuditFilter(since=T0 + timedelta(seconds=4))) == [late]
    assert await everything(store, AuditFilter(until=T0 + timedelta(seconds=2))) == [login]
    combined = AuditFilter(action=AuditAction.LOGIN_FAILED, subject_user_id=bob)
    assert await everything(store, combined) == [late]
    assert await everything(store, AuditFilter(action=AuditAction.TOTP_ENABLED)) == []

    page = await store.list(AuditFilter(subject_user_id=bob), limit=1, offset=0)
    assert (page.items, page.total) == ([late], 2)


async def test_filters_compare_instants_across_time_zones(store: AuditStore) -> None:
    e = event(at_s=0)
    await store.append(e)

    since = (T0 - timedelta(microseconds=1)).astimezone(PLUS_8)
    assert await everything(store, AuditFilter(since=since)) == [e]
    assert await everything(store, AuditFilter(until=T0.astimezone(PLUS_8))) == []


async def test_stored_details_are_a_copy(store: AuditStore) -> None:
    details = {"reason": "before"}
    e = AuditEvent(id=new_id(), action=AuditAction.LOGOUT, created_at=T0, details=details)
    await store.append(e)
    details["reason"] = "after"

    [stored] = await everything(store)
    stored.details["reason"] = "mutated"

    [again] = await everything(store)
    assert again.details == {"reason": "before"}


@pytest.mark.backends("sqlite", "postgres")
async def test_audit_lines_outlive_their_user(backend: Backend) -> None:
    engine = backend.engine
    assert engine is not None
    user = User(
        id=new_id(),
        email="gone@example.com",
        password_hash=None,
        status=UserStatus.ACTIVE,
        role=Role.USER,
        created_at=T0,
        updated_at=T0,
    )
    async with backend.adapters.uow() as unit:
        await unit.users.add(user)
        await unit.commit()
    store = backend.adapters.audit
    line = event(AuditAction.REGISTER, subject=user.id)
    await store.append(line)

    async with engine.begin() as conn:
        await conn.execute(delete(users).where(users.c.id == user.id))

    assert await everything(store) == [line]
