"""QQ Music answer codes → provider failures (and so the pool's release taxonomy)."""

from __future__ import annotations

import pytest

from domain.music.errors import (
    ProviderFailure,
    UpstreamAuthFailed,
    UpstreamBadAnswer,
    UpstreamNoRights,
    UpstreamRateLimit,
)
from domain.pool.model import LeaseResult
from integrations.qqmusic.failures import failure_for, login_failure_for


@pytest.mark.parametrize(
    ("code", "failure", "result"),
    [
        (2001, UpstreamRateLimit, LeaseResult.RATE_LIMITED),
        (104003, UpstreamRateLimit, LeaseResult.RATE_LIMITED),
        (1000, UpstreamAuthFailed, LeaseResult.AUTH_FAILED),
        (104400, UpstreamAuthFailed, LeaseResult.AUTH_FAILED),
        (104401, UpstreamAuthFailed, LeaseResult.AUTH_FAILED),
        (104403, UpstreamNoRights, LeaseResult.NO_RIGHTS),
        (2000, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
        (10000, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
        (500001, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
        (-1, UpstreamBadAnswer, LeaseResult.UPSTREAM_ERROR),
    ],
)
def test_music_call_codes(code: int, failure: type[ProviderFailure], result: LeaseResult) -> None:
    mapped = failure_for(code, "music.vkey.GetVkey.UrlGetVkey")
    assert type(mapped) is failure
    assert mapped.result is result
    assert mapped.upstream_code == code


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        (2001, UpstreamRateLimit),
        (104604, UpstreamRateLimit),
        (100001, UpstreamRateLimit),
        (1000, UpstreamAuthFailed),
        (20271, UpstreamAuthFailed),
        (20279, UpstreamAuthFailed),
        (20450, UpstreamAuthFailed),
        (99999, UpstreamAuthFailed),
    ],
)
def test_login_call_codes(code: int, failure: type[ProviderFailure]) -> None:
    assert type(login_failure_for(code, "music.login.LoginServer.Login")) is failure


def test_a_ban_says_so() -> None:
    assert "banned" in str(login_failure_for(20450, "music.login.LoginServer.Login"))
