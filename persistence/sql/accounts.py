"""The user repository, bound to the unit of work's transaction (``persistence.sql.uow``)."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from domain.accounts.errors import EmailTaken, RegisterIpLimit, UserNotFound
from domain.accounts.model import Role, User, UserFilter, UserStatus
from domain.paging import Page
from persistence.sql.tables import users
from persistence.sql.transaction import Transaction

# Serialises "is this the last active superadmin?" decisions on PostgreSQL; see
# SqlUserRepository.count_active_superadmins.
_SUPERADMIN_LOCK_KEY = zlib.crc32(b"karpov:accounts:active-superadmins")
_EMAIL_UNIQUE_MARKERS = ("uq_users_email", "users.email")  # PostgreSQL, SQLite wording
_IP_CLAIM_UNIQUE_MARKERS = ("uq_users_ip_claim", "users.ip_claim")


class SqlUserRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, user: User) -> None:
        conn = await self._tx.for_write()
        try:
            # A savepoint keeps the unit of work usable after a lost race on the e-mail.
            async with conn.begin_nested():
                await conn.execute(
                    users.insert().values(
                        id=user.id, created_at=user.created_at, **_mutable_columns(user)
                    )
                )
        except IntegrityError as exc:
            _raise_if_duplicate(exc)
            raise

    async def ip_claimed(self, ip: str) -> bool:
        query = select(users.c.id).where(users.c.ip_claim == ip).limit(1)
        return (await self._tx.conn.execute(query)).first() is not None

    async def get(self, user_id: str) -> User | None:
        return await self._one(select(users).where(users.c.id == user_id))

    async def get_by_email(self, email: str) -> User | None:
        return await self._one(select(users).where(users.c.email == email.lower()))

    async def get_for_update(self, user_id: str) -> User | None:
        await self._tx.for_write()
        query = select(users).where(users.c.id == user_id)
        if self._tx.is_postgres:
            query = query.with_for_update()
        return await self._one(query)

    async def update(self, user: User) -> None:
        conn = await self._tx.for_write()
        statement = update(users).where(users.c.id == user.id).values(**_mutable_columns(user))
        try:
            async with conn.begin_nested():
                result = await conn.execute(statement)
        except IntegrityError as exc:
            _raise_if_duplicate(exc)
            raise
        if result.rowcount == 0:
            raise UserNotFound()

    async def list(self, flt: UserFilter, *, limit: int, offset: int) -> Page[User]:
        conditions = _conditions(flt)
        total_query = select(func.count()).select_from(users).where(*conditions)
        total = (await self._tx.conn.execute(total_query)).scalar_one()
        query = (
            select(users)
            .where(*conditions)
            .order_by(users.c.created_at.desc(), users.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        rows = (await self._tx.conn.execute(query)).mappings().all()
        return Page(items=[_to_user(row) for row in rows], total=total, limit=limit, offset=offset)

    async def count_active_superadmins(self) -> int:
        """Counts under a lock, so two units of work that each demote a different superadmin
        cannot both see two of them.

        PostgreSQL: a transaction-scoped advisory lock serialises the count-then-change
        section, and READ COMMITTED lets the second count see the first one's committed
        demotion. Locking the counted rows ``FOR UPDATE`` instead would deadlock in exactly
        that case: each transaction already holds the row lock of the user it demotes and
        would wait for the other's. SQLite: the write lock serialises the whole unit.
        """
        conn = await self._tx.for_write()
        if self._tx.is_postgres:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SUPERADMIN_LOCK_KEY}
            )
        query = (
            select(func.count())
            .select_from(users)
            .where(
                users.c.role == Role.SUPERADMIN.value,
                users.c.status == UserStatus.ACTIVE.value,
            )
        )
        return (await conn.execute(query)).scalar_one()

    async def _one(self, query: Select[Any]) -> User | None:
        row = (await self._tx.conn.execute(query)).mappings().first()
        return None if row is None else _to_user(row)


def _conditions(flt: UserFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.email_contains:
        conditions.append(users.c.email.icontains(flt.email_contains, autoescape=True))
    if flt.role is not None:
        conditions.append(users.c.role == flt.role.value)
    if flt.status is not None:
        conditions.append(users.c.status == flt.status.value)
    return conditions


def _mutable_columns(user: User) -> dict[str, Any]:
    """Every column but ``id`` and ``created_at``, which never change."""
    return {
        "email": user.email.lower(),
        "password_hash": user.password_hash,
        "status": user.status.value,
        "role": user.role.value,
        "plan_id": user.plan_id,
        "totp_enabled": user.totp_enabled,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
        "register_ip": user.register_ip,
        "ip_claim": user.ip_claim,
    }


def _to_user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        password_hash=row["password_hash"],
        status=UserStatus(row["status"]),
        role=Role(row["role"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        plan_id=row["plan_id"],
        totp_enabled=row["totp_enabled"],
        last_login_at=row["last_login_at"],
        register_ip=row["register_ip"],
        ip_claim=row["ip_claim"],
    )


def _raise_if_duplicate(exc: IntegrityError) -> None:
    """The unique e-mail becomes ``EmailTaken`` and the unique IP claim ``RegisterIpLimit``
    (told apart by the constraint's name); any other violation is a bug, re-raised."""
    message = str(exc.orig)
    if any(marker in message for marker in _EMAIL_UNIQUE_MARKERS):
        raise EmailTaken(field="email") from None
    if any(marker in message for marker in _IP_CLAIM_UNIQUE_MARKERS):
        raise RegisterIpLimit() from None
