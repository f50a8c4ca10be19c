"""A short-lived, in-process memo of resolved sessions.

Resolving a session token costs a session lookup and a user lookup; on the embedded
SQLite default that is most of a request's cost. Entries live ``ttl`` (1 s by default), so
a change made by *another* process (revocation, lock, role change) takes effect within
that bound; changes made through this process forget the affected entries at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.accounts.model import Session, User
from domain.clock import Clock

DEFAULT_TTL = timedelta(seconds=1)
MAX_ENTRIES = 10_000


class AuthenticationCache:
    def __init__(
        self, clock: Clock, *, ttl: timedelta = DEFAULT_TTL, max_entries: int = MAX_ENTRIES
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max = max_entries
        self._by_token: dict[str, tuple[Session, datetime]] = {}
        self._users: dict[str, tuple[User, datetime]] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl > timedelta(0)

    def lookup(self, token_hash: str, now: datetime | None = None) -> tuple[Session, User] | None:
        """The fresh entry for ``token_hash``; ``now`` saves a clock read (one per request
        adds up) when the caller has just read the clock."""
        hit = self._by_token.get(token_hash)
        if hit is None:
            return None
        session, stored_at = hit
        if now is None:
            now = self._clock.now()
        user = self.user(session.user_id, now)
        if user is None or now - stored_at >= self._ttl:
            return None
        return session, user

    def user(self, user_id: str, now: datetime | None = None) -> User | None:
        hit = self._users.get(user_id)
        if hit is None or (now if now is not None else self._clock.now()) - hit[1] >= self._ttl:
            return None
        return hit[0]

    def store(self, session: Session, user: User) -> None:
        if not self.enabled:
            return
        if len(self._by_token) >= self._max:
            self._by_token.clear()  # cheap and safe: the cache only saves lookups
            self._users.clear()
        now = self._clock.now()
        self._by_token[session.token_hash] = (session, now)
        self._users[user.id] = (user, now)

    def remember_user(self, user: User) -> None:
        """Memo a user read for another reason (an API key's owner), so ``me`` and the
        next key verification skip the lookup too."""
        if not self.enabled:
            return
        if len(self._users) >= self._max:
            self._users.clear()
        self._users[user.id] = (user, self._clock.now())

    def forget_token(self, token_hash: str) -> None:
        self._by_token.pop(token_hash, None)

    def forget_user(self, user_id: str) -> None:
        self._users.pop(user_id, None)
        for token_hash in [h for h, (s, _) in self._by_token.items() if s.user_id == user_id]:
            del self._by_token[token_hash]
