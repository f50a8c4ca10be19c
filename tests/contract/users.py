"""Making users exist for stores whose rows reference users (SQL foreign keys)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.accounts.model import Role, User, UserStatus
from domain.accounts.ports import UnitOfWorkFactory
from persistence.sql.uow import SqlUnitOfWorkFactory

UserCreator = Callable[[str], Awaitable[None]]


async def no_user_needed(_user_id: str) -> None:
    """Memory and Redis stores keep no foreign keys."""
    return None


async def add_user(uow: UnitOfWorkFactory, user_id: str, at: datetime | None = None) -> None:
    """An active user without a password, ``<id>@example.com``, through ``uow``."""
    when = at or datetime.now(UTC)
    user = User(
        id=user_id,
        email=f"{user_id}@example.com",
        password_hash=None,
        status=UserStatus.ACTIVE,
        role=Role.USER,
        created_at=when,
        updated_at=when,
    )
    async with uow() as unit:
        await unit.users.add(user)
        await unit.commit()


def sql_user_creator(engine: AsyncEngine) -> UserCreator:
    uow = SqlUnitOfWorkFactory(engine)

    async def create(user_id: str) -> None:
        await add_user(uow, user_id)

    return create
