"""The NetEase credential lifecycle against the fake: a health check that needs the login,
and refresh through the login refresh call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domain.music.errors import UpstreamAuthFailed, UpstreamRateLimit
from domain.music.model import CredentialSecret, PageRequest
from integrations.netease.cookies import parse_cookie
from tests.integration.netease_harness import START, Harness, harness

REFRESH = "/api/login/token/refresh"


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as built:
        yield built


def music_u(payload: bytes) -> str:
    text = payload.decode()
    cookie = json.loads(text)["cookie"] if text.startswith("{") else text
    return parse_cookie(cookie)["MUSIC_U"]


async def test_a_live_login_passes_the_check(h: Harness) -> None:
    await h.credentials.check(h.secret())
    await h.credentials.check(h.secret("free-listener"))
    call = h.fake.calls_to("/api/w/nuser/account/get")[0]
    assert call.login is not None  # the check used the credential


async def test_a_dead_login_fails_the_check(h: Harness) -> None:
    secret = h.secret()
    h.fake.logins.end(music_u(secret.payload))
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.check(secret)
    never_issued = CredentialSecret("cred-2", b'{"cookie":"MUSIC_U=0123abcd; __csrf=ff"}')
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.check(never_issued)


async def test_an_anonymous_login_fails_the_check(h: Harness) -> None:
    h.fake.inject(
        "/api/w/nuser/account/get",
        {"code": 200, "account": {"id": 9_000_000_001, "anonimousUser": True}, "profile": None},
    )
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.check(h.secret())


async def test_a_rate_limited_check_is_not_a_dead_login(h: Harness) -> None:
    h.fake.inject("/api/w/nuser/account/get", {"code": -460, "msg": "Cheating"})
    with pytest.raises(UpstreamRateLimit):
        await h.credentials.check(h.secret())


async def test_refresh_swaps_in_the_new_login(h: Harness) -> None:
    old = h.secret()
    refreshed = await h.credentials.refresh(old)
    assert refreshed.expires_at == START + timedelta(seconds=1_296_000)
    document = json.loads(refreshed.payload)
    assert document["expiresAt"] == int(refreshed.expires_at.timestamp())
    assert music_u(refreshed.payload) != music_u(old.payload)
    assert "MUSIC_R_T" in parse_cookie(document["cookie"])  # other cookies are kept too
    assert h.credentials.validate_payload(refreshed.payload) == refreshed.expires_at

    renewed = CredentialSecret("cred-1", refreshed.payload)
    await h.credentials.check(renewed)  # the new login works …
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.check(old)  # … and NetEase ended the old one
    song = await h.provider.playlist("5002", PageRequest(), renewed)
    assert song.songs is not None and song.songs.items


async def test_refresh_of_a_dead_login_is_an_auth_failure(h: Harness) -> None:
    secret = h.secret()
    h.fake.logins.end(music_u(secret.payload))
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.refresh(secret)
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.refresh(CredentialSecret("cred-3", b"os=pc; appver=1"))


async def test_refresh_that_ends_the_login_is_an_auth_failure(h: Harness) -> None:
    secret = h.secret()
    h.fake.inject(REFRESH, {"code": 200})
    h.fake.logins.end(music_u(secret.payload))
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.refresh(secret)  # nothing issued, and the login is dead


async def test_refresh_without_a_new_cookie_keeps_a_working_login(h: Harness) -> None:
    # NetEase cannot refresh some logins (QR ones): it answers 200 and issues nothing.
    secret = CredentialSecret("cred-4", h.fake.issue_cookie().encode())
    h.fake.inject(REFRESH, {"code": 200})
    refreshed = await h.credentials.refresh(secret)
    assert music_u(refreshed.payload) == music_u(secret.payload)
    assert refreshed.expires_at is None


async def test_a_refresh_answer_deleting_music_u_is_an_auth_failure(h: Harness) -> None:
    h.fake.refresh_ends_login = True
    with pytest.raises(UpstreamAuthFailed):
        await h.credentials.refresh(h.secret())
