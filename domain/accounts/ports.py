"""What the accounts context needs from the outside world (implemented in persistence/ and
integrations/). Every port has one contract test suite run against every implementation."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from domain import uow
from domain.accounts.model import (
    CodeCheck,
    OneTimeToken,
    Session,
    StoredEmailCode,
    TokenPurpose,
    User,
    UserFilter,
)
from domain.paging import Page


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Insert a new user. Raises ``EmailTaken`` when the e-mail is already used and
        ``RegisterIpLimit`` when ``ip_claim`` is already claimed (both enforced by the
        store itself, so concurrent registrations cannot both win)."""

    async def ip_claimed(self, ip: str) -> bool:
        """Whether some user holds this ``ip_claim``."""

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """Look up by normalised e-mail (the caller normalises)."""

    async def get_for_update(self, user_id: str) -> User | None:
        """Like ``get``, but locks the row until the unit of work ends (SQL backends)."""

    async def update(self, user: User) -> None:
        """Replace every mutable field of an existing user. Raises ``UserNotFound`` for an
        unknown id and ``EmailTaken`` when the new e-mail belongs to another user."""

    async def list(self, flt: UserFilter, *, limit: int, offset: int) -> Page[User]:
        """Newest first (``created_at`` descending, then id)."""

    async def count_active_superadmins(self) -> int:
        """How many superadmins are active. SQL backends serialise concurrent callers until
        the unit of work ends, so two demotions cannot both see "two left"."""


class UnitOfWork(uow.UnitOfWork, Protocol):
    """The repositories of the accounts context, in one transaction."""

    @property
    def users(self) -> UserRepository: ...


UnitOfWorkFactory = uow.UnitOfWorkFactory[UnitOfWork]


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get_by_token_hash(self, token_hash: str) -> Session | None:
        """The session stored under this token hash. An expired one may still be returned
        (the caller checks ``expires_at``) or may already be gone (Redis expires keys)."""

    async def touch(self, session: Session, seen_at: datetime) -> None:
        """Record activity. Callers debounce; stores may ignore a touch of a gone session."""

    async def list_for_user(self, user_id: str) -> list[Session]:
        """Every stored session of the user, newest first."""

    async def delete(self, user_id: str, session_id: str) -> bool:
        """Remove one session of the user; ``False`` when there was none."""

    async def delete_for_user(self, user_id: str, *, except_id: str | None = None) -> int:
        """Remove every session of the user except ``except_id``; returns how many."""


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    async def burn(self) -> None:
        """Spend the time of one verification without a hash, so that an unknown e-mail
        answers as slowly as a wrong password (no account enumeration by timing)."""


class BreachedPasswordChecker(Protocol):
    async def times_pwned(self, password: str) -> int:
        """How often the password appears in known breaches (0 = never).

        Raises ``BreachCheckUnavailable`` when the check cannot be completed."""


class OneTimeTokenStore(Protocol):
    async def add(self, token: OneTimeToken) -> None: ...

    async def get(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None: ...

    async def use(self, token_hash: str, purpose: TokenPurpose, at: datetime) -> bool:
        """Atomically mark an unused token used; ``False`` if unknown or already used."""

    async def revoke_for_user(self, user_id: str, purpose: TokenPurpose, at: datetime) -> int:
        """Mark every unused token of the user and purpose used; returns how many."""


class EmailCodeStore(Protocol):
    async def put(self, code: StoredEmailCode) -> None:
        """Store the e-mail's one live code, replacing any previous one."""

    async def check(
        self, email: str, code_hash: str, *, now: datetime, max_attempts: int
    ) -> CodeCheck:
        """Atomically compare (constant time) and consume: OK deletes the code; WRONG
        counts a guess, and the guess that reaches ``max_attempts`` deletes the code and
        answers EXHAUSTED; an expired code is MISSING."""


class SecondFactor(Protocol):
    """What sign-in needs from two-factor authentication (domain/twofactor)."""

    async def verify(
        self,
        user: User,
        code: str,
        *,
        allow_recovery: bool = True,
        client_ip: str | None = None,
        user_agent: str | None = None,
    ) -> None: ...

    async def open_challenge(
        self, user: User, *, client_ip: str | None, user_agent: str | None
    ) -> str: ...
