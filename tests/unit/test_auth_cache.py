"""The in-process session memo: bounded staleness, explicit forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.accounts.auth_cache import AuthenticationCache
from domain.accounts.model import Role, Session, User, UserStatus
from domain.clock import ManualClock

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _user(user_id: str = "u1") -> User:
    return User(
        id=user_id,
        email=f"{user_id}@example.com",
        password_hash=None,
        status=UserStatus.ACTIVE,
        role=Role.USER,
        created_at=NOW,
        updated_at=NOW,
    )


def _session(token_hash: str, user_id: str = "u1") -> Session:
    return Session(
        id=token_hash[:4],
        user_id=user_id,
        token_hash=token_hash,
        created_at=NOW,
        expires_at=NOW + timedelta(days=1),
        last_seen_at=NOW,
    )


def test_entries_expire_after_the_ttl() -> None:
    clock = ManualClock(NOW)
    cache = AuthenticationCache(clock, ttl=timedelta(seconds=1))
    cache.store(_session("h1"), _user())
    assert cache.lookup("h1") is not None
    assert cache.user("u1") is not None
    clock.advance(1)
    assert cache.lookup("h1") is None
    assert cache.user("u1") is None


def test_forgetting_a_user_drops_all_their_sessions_only() -> None:
    cache = AuthenticationCache(ManualClock(NOW))
    cache.store(_session("h1"), _user())
    cache.store(_session("h2"), _user())
    cache.store(_session("h3", "u2"), _user("u2"))
    cache.forget_user("u1")
    assert cache.lookup("h1") is None and cache.lookup("h2") is None
    assert cache.lookup("h3") is not None


def test_forgetting_a_token() -> None:
    cache = AuthenticationCache(ManualClock(NOW))
    cache.store(_session("h1"), _user())
    cache.forget_token("h1")
    assert cache.lookup("h1") is None


def test_a_zero_ttl_disables_the_cache() -> None:
    cache = AuthenticationCache(ManualClock(NOW), ttl=timedelta(0))
    cache.store(_session("h1"), _user())
    assert not cache.enabled
    assert cache.lookup("h1") is None


def test_the_cache_is_bounded() -> None:
    cache = AuthenticationCache(ManualClock(NOW), max_entries=3)
    for i in range(10):
        cache.store(_session(f"h{i}", f"u{i}"), _user(f"u{i}"))
    assert sum(cache.lookup(f"h{i}") is not None for i in range(10)) <= 3


def test_a_lookup_may_be_given_the_time_it_checks_against() -> None:
    clock = ManualClock(NOW)
    cache = AuthenticationCache(clock, ttl=timedelta(seconds=1))
    cache.store(_session("h1"), _user())
    assert cache.lookup("h1", NOW + timedelta(milliseconds=999)) is not None
    assert cache.lookup("h1", NOW + timedelta(seconds=1)) is None
    assert cache.user("u1", NOW + timedelta(seconds=1)) is None
    assert cache.lookup("h1") is not None  # the clock has not moved
