"""Making users exist for rows that belong to a user (SQL foreign keys; the memory unit of
work checks its users too)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.accounts.model import Role, User, UserStatus
from domain.accounts.ports import UnitOfWorkFactory


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
