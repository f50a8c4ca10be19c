"""In-process throttling, audit log, one-time tokens and e-mail codes, for a single
process without Redis or a database.

Every method completes without awaiting, so each call is atomic under asyncio: concurrent
attempts cannot slip past a limit. Like the Redis store, the throttle decides with the
caller's ``now``; counters idle for longer than their rule's ``reset_after`` (back-off) or
whose window has passed are forgotten, and swept out now and then so memory stays bounded.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from domain.accounts.model import CodeCheck, OneTimeToken, StoredEmailCode, TokenPurpose
from domain.paging import Page
from domain.security.model import AuditEvent, AuditFilter, BackoffRule, WindowRule

_SWEEP_EVERY = 1024
"""Operations between two sweeps of forgotten counters."""


@dataclass(slots=True)
class _Backoff:
    attempts: int
    last: float
    forget_at: float


@dataclass(slots=True)
class _Window:
    count: int
    start: float
    forget_at: float


class MemoryThrottleStore:
    def __init__(self) -> None:
        self._backoff: dict[str, _Backoff] = {}
        self._windows: dict[str, _Window] = {}
        self._now = float("-inf")
        """The latest ``now`` seen: the clock for the calls that take none."""
        self._operations = 0

    async def acquire(self, rules: list[BackoffRule], now: float) -> float:
        self._tick(now)
        counts = [self._live_backoff(rule.key, now) for rule in rules]
        longest = 0.0
        for rule, state in zip(rules, counts, strict=True):
            if state is not None and state.attempts >= rule.free:
                longest = max(longest, rule.wait_after(state.attempts) - (now - state.last))
        if longest > 0:
            return longest
        for rule in rules:
            state = self._live_backoff(rule.key, now)  # a key may appear twice
            attempts = 1 if state is None else state.attempts + 1
            self._backoff[rule.key] = _Backoff(attempts, now, now + rule.reset_after)
        return 0.0

    async def reset(self, key: str) -> None:
        self._backoff.pop(key, None)

    async def refund(self, key: str) -> None:
        state = self._live_backoff(key, self._now)
        if state is not None and state.attempts > 0:
            state.attempts -= 1

    async def attempts(self, key: str) -> int:
        state = self._live_backoff(key, self._now)
        return 0 if state is None else state.attempts

    async def hit(self, rules: list[WindowRule], now: float) -> float:
        self._tick(now)
        longest = 0.0
        for rule in rules:
            window = self._live_window(rule.key, now)
            count = 0 if window is None else window.count
            if count >= rule.limit:
                left = rule.window_seconds if window is None else window.forget_at - now
                longest = max(longest, float(left))
        if longest > 0:
            return longest
        for rule in rules:
            window = self._live_window(rule.key, now)
            if window is None:
                self._windows[rule.key] = _Window(1, now, now + rule.window_seconds)
            else:
                window.count += 1
        return 0.0

    def _live_backoff(self, key: str, now: float) -> _Backoff | None:
        state = self._backoff.get(key)
        if state is not None and state.forget_at <= now:
            del self._backoff[key]
            return None
        return state

    def _live_window(self, key: str, now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and window.forget_at <= now:
            del self._windows[key]
            return None
        return window

    def _tick(self, now: float) -> None:
        self._now = max(self._now, now)
        self._operations += 1
        if self._operations % _SWEEP_EVERY:
            return
        for key in [k for k, s in self._backoff.items() if s.forget_at <= self._now]:
            del self._backoff[key]
        for key in [k for k, w in self._windows.items() if w.forget_at <= self._now]:
            del self._windows[key]


class MemoryAuditStore:
    """Append-only: events are kept in a list and never changed."""

    def __init__(self) -> None:
        self._events: list[AuditEvent] = []

    async def append(self, event: AuditEvent) -> None:
        self._events.append(
            replace(event, created_at=_utc(event.created_at), details=dict(event.details))
        )

    async def list(self, flt: AuditFilter, *, limit: int, offset: int) -> Page[AuditEvent]:
        matches = [e for e in self._events if _matches(e, flt)]
        matches.sort(key=lambda e: (e.created_at, e.id), reverse=True)
        items = [replace(e, details=dict(e.details)) for e in matches[offset : offset + limit]]
        return Page(items=items, total=len(matches), limit=limit, offset=offset)


class MemoryOneTimeTokenStore:
    def __init__(self) -> None:
        self._tokens: dict[str, OneTimeToken] = {}

    async def add(self, token: OneTimeToken) -> None:
        if token.token_hash in self._tokens:
            raise ValueError("duplicate token hash")
        self._tokens[token.token_hash] = replace(
            token,
            created_at=_utc(token.created_at),
            expires_at=_utc(token.expires_at),
            used_at=None if token.used_at is None else _utc(token.used_at),
        )

    async def get(self, token_hash: str, purpose: TokenPurpose) -> OneTimeToken | None:
        token = self._tokens.get(token_hash)
        return token if token is not None and token.purpose == purpose else None

    async def use(self, token_hash: str, purpose: TokenPurpose, at: datetime) -> bool:
        token = self._tokens.get(token_hash)
        if token is None or token.purpose != purpose or token.used_at is not None:
            return False
        self._tokens[token_hash] = replace(token, used_at=_utc(at))
        return True

    async def revoke_for_user(self, user_id: str, purpose: TokenPurpose, at: datetime) -> int:
        doomed = [
            t
            for t in self._tokens.values()
            if t.user_id == user_id and t.purpose == purpose and t.used_at is None
        ]
        for token in doomed:
            self._tokens[token.token_hash] = replace(token, used_at=_utc(at))
        return len(doomed)


class MemoryEmailCodeStore:
    """Expired codes are swept out now and then, against the latest ``now`` seen."""

    def __init__(self) -> None:
        self._codes: dict[str, StoredEmailCode] = {}
        self._now: datetime | None = None
        self._puts = 0

    async def put(self, code: StoredEmailCode) -> None:
        self._puts += 1
        if self._now is not None and self._puts % _SWEEP_EVERY == 0:
            now = self._now
            self._codes = {e: c for e, c in self._codes.items() if c.expires_at > now}
        self._codes[code.email] = replace(code, expires_at=_utc(code.expires_at))

    async def check(
        self, email: str, code_hash: str, *, now: datetime, max_attempts: int
    ) -> CodeCheck:
        self._now = now if self._now is None else max(self._now, now)
        code = self._codes.get(email)
        if code is None:
            return CodeCheck.MISSING
        if code.expires_at <= now:
            del self._codes[email]
            return CodeCheck.MISSING
        if hmac.compare_digest(code.code_hash.encode(), code_hash.encode()):
            del self._codes[email]
            return CodeCheck.OK
        attempts = code.attempts + 1
        if attempts >= max_attempts:
            del self._codes[email]
            return CodeCheck.EXHAUSTED
        self._codes[email] = replace(code, attempts=attempts)
        return CodeCheck.WRONG


def _matches(event: AuditEvent, flt: AuditFilter) -> bool:
    """``since`` is inclusive, ``until`` exclusive."""
    if flt.action is not None and event.action != flt.action:
        return False
    if flt.subject_user_id is not None and event.subject_user_id != flt.subject_user_id:
        return False
    if flt.actor is not None and event.actor != flt.actor:
        return False
    if flt.since is not None and event.created_at < flt.since:
        return False
    return flt.until is None or event.created_at < flt.until


def _utc(value: datetime) -> datetime:
    """Store instants as aware UTC, like the SQL store returns them."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
    return value.astimezone(UTC)
