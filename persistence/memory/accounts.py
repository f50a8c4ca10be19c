"""In-process accounts persistence for a single process without a database server: the
user repository of the memory unit of work (``persistence.memory.uow``) and the sessions.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from domain.accounts.errors import EmailTaken, RegisterIpLimit, UserNotFound
from domain.accounts.model import Role, Session, User, UserFilter, UserStatus
from domain.paging import Page


class MemoryUserRepository:
    """Reads see the committed users overlaid with this unit of work's staged writes."""

    def __init__(self, committed: dict[str, User], staged: dict[str, User]) -> None:
        self._committed = committed
        self._staged = staged

    async def add(self, user: User) -> None:
        user = _normalised(user)
        if user.id in self._visible():
            raise ValueError(f"duplicate user id {user.id!r}")
        self._ensure_email_free(user.email, user.id)
        self._ensure_ip_claim_free(user.ip_claim, user.id)
        self._staged[user.id] = user

    async def ip_claimed(self, ip: str) -> bool:
        return any(u.ip_claim == ip for u in self._visible().values())

    async def get(self, user_id: str) -> User | None:
        return self._visible().get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        email = email.lower()
        return next((u for u in self._visible().values() if u.email == email), None)

    async def get_for_update(self, user_id: str) -> User | None:
        return await self.get(user_id)  # the factory's lock already serialises everything

    async def update(self, user: User) -> None:
        current = self._visible().get(user.id)
        if current is None:
            raise UserNotFound()
        user = _normalised(user).with_changes(created_at=current.created_at)
        self._ensure_email_free(user.email, user.id)
        self._ensure_ip_claim_free(user.ip_claim, user.id)
        self._staged[user.id] = user

    async def list(self, flt: UserFilter, *, limit: int, offset: int) -> Page[User]:
        matches = [u for u in self._visible().values() if _matches(u, flt)]
        matches.sort(key=lambda u: (u.created_at, u.id), reverse=True)
        return Page(
            items=matches[offset : offset + limit], total=len(matches), limit=limit, offset=offset
        )

    async def count_active_superadmins(self) -> int:
        return sum(
            1
            for u in self._visible().values()
            if u.role is Role.SUPERADMIN and u.status is UserStatus.ACTIVE
        )

    def _visible(self) -> dict[str, User]:
        return {**self._committed, **self._staged} if self._staged else self._committed

    def _ensure_email_free(self, email: str, owner_id: str) -> None:
        for other in self._visible().values():
            if other.email == email and other.id != owner_id:
                raise EmailTaken(field="email")

    def _ensure_ip_claim_free(self, ip_claim: str | None, owner_id: str) -> None:
        if ip_claim is None:
            return
        for other in self._visible().values():
            if other.ip_claim == ip_claim and other.id != owner_id:
                raise RegisterIpLimit()


def _matches(user: User, flt: UserFilter) -> bool:
    if flt.email_contains and flt.email_contains.lower() not in user.email:
        return False
    if flt.role is not None and user.role is not flt.role:
        return False
    return flt.status is None or user.status is flt.status


class MemorySessionStore:
    """Sessions in a dict; every method completes without awaiting, so it is atomic."""

    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._id_by_token_hash: dict[str, str] = {}

    async def add(self, session: Session) -> None:
        if session.token_hash in self._id_by_token_hash or session.id in self._by_id:
            raise ValueError("duplicate session id or token hash")
        session = replace(
            session,
            created_at=_utc(session.created_at),
            expires_at=_utc(session.expires_at),
            last_seen_at=_utc(session.last_seen_at),
        )
        self._by_id[session.id] = session
        self._id_by_token_hash[session.token_hash] = session.id

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        session_id = self._id_by_token_hash.get(token_hash)
        return None if session_id is None else self._by_id.get(session_id)

    async def touch(self, session: Session, seen_at: datetime) -> None:
        current = self._by_id.get(session.id)
        if current is not None:
            self._by_id[session.id] = replace(current, last_seen_at=_utc(seen_at))

    async def list_for_user(self, user_id: str) -> list[Session]:
        own = [s for s in self._by_id.values() if s.user_id == user_id]
        return sorted(own, key=lambda s: (s.created_at, s.id), reverse=True)

    async def delete(self, user_id: str, session_id: str) -> bool:
        session = self._by_id.get(session_id)
        if session is None or session.user_id != user_id:
            return False
        self._remove(session)
        return True

    async def delete_for_user(self, user_id: str, *, except_id: str | None = None) -> int:
        doomed = [s for s in self._by_id.values() if s.user_id == user_id and s.id != except_id]
        for session in doomed:
            self._remove(session)
        return len(doomed)

    def _remove(self, session: Session) -> None:
        del self._by_id[session.id]
        del self._id_by_token_hash[session.token_hash]


def _utc(value: datetime) -> datetime:
    """Store instants as aware UTC, like the SQL and Redis stores return them."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC)


def _normalised(user: User) -> User:
    return user.with_changes(
        email=user.email.lower(),
        created_at=_utc(user.created_at),
        updated_at=_utc(user.updated_at),
        last_login_at=None if user.last_login_at is None else _utc(user.last_login_at),
    )
