"""``QQCredentials`` (the pool's lifecycle port) against the fake's login state."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.music.errors import (
    InvalidCredentialPayload,
    UpstreamAuthFailed,
    UpstreamRateLimit,
    UpstreamUnreachable,
)
from domain.music.model import CredentialSecret, Quality
from domain.pool.ports import CredentialLifecycle
from tests.fakes.qqmusic import catalogue as cat
from tests.fakes.qqmusic.accounts import WECHAT_LOGIN
from tests.fakes.qqmusic.harness import Harness, harness


@pytest.fixture
async def qq() -> AsyncIterator[Harness]:
    async with harness() as h:
        yield h


@pytest.fixture
def lifecycle(qq: Harness) -> CredentialLifecycle:
    return qq.upstream.credentials


def _camel_to_snake(payload: bytes) -> bytes:
    names = {"musickeyCreateTime": "musickey_create_time", "keyExpiresIn": "key_expires_in",
             "encryptUin": "encrypt_uin", "loginType": "login_type"}  # fmt: skip
    return json.dumps({names.get(k, k): v for k, v in json.loads(payload).items()}).encode()


def test_validation_reads_the_expiry_in_either_spelling(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    account = qq.fake.accounts.add(770001)
    payload = qq.fake.credential_payload(account)
    expected = datetime.fromtimestamp(account.created_at + account.expires_in, UTC)
    assert lifecycle.provider == "qqmusic"
    assert lifecycle.validate_payload(payload) == expected
    assert lifecycle.validate_payload(_camel_to_snake(payload)) == expected
    assert lifecycle.validate_payload(b'{"musicid": 1, "musickey": "Q_H_L_x"}') is None


def test_validation_refuses_an_unusable_payload(lifecycle: CredentialLifecycle) -> None:
    with pytest.raises(InvalidCredentialPayload):
        lifecycle.validate_payload(b'{"musicid": 1}')


async def test_a_live_login_passes_the_check(qq: Harness, lifecycle: CredentialLifecycle) -> None:
    await lifecycle.check(qq.secret(qq.fake.accounts.add(770002, vip=False)))


async def test_a_login_past_its_stated_expiry_fails_the_check(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    secret = qq.secret(qq.fake.accounts.add(770003))
    qq.clock.advance(timedelta(days=3, seconds=1))
    with pytest.raises(UpstreamAuthFailed, match="expired"):
        await lifecycle.check(secret)


async def test_a_login_the_upstream_no_longer_accepts_fails_the_check(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    account = qq.fake.accounts.add(770004)
    secret = qq.secret(account)
    account.revoked = True  # logged out elsewhere, before its stated expiry
    with pytest.raises(UpstreamAuthFailed) as caught:
        await lifecycle.check(secret)
    assert caught.value.upstream_code == 1000


async def test_the_check_needs_the_login_unlike_the_originals(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    made_up = CredentialSecret("cred-x", b'{"musicid": 12345, "musickey": "Q_H_L_5made-up"}')
    await qq.upstream.provider.charts(made_up)  # a chart listing answers anyone …
    with pytest.raises(UpstreamAuthFailed):
        await lifecycle.check(made_up)  # … the health check does not


async def test_an_unreadable_payload_fails_the_check(lifecycle: CredentialLifecycle) -> None:
    with pytest.raises(UpstreamAuthFailed):
        await lifecycle.check(CredentialSecret("cred-x", b"garbage"))


@pytest.mark.parametrize("login_type", [2, WECHAT_LOGIN])
async def test_refresh_renews_the_key(
    qq: Harness, lifecycle: CredentialLifecycle, login_type: int
) -> None:
    account = qq.fake.accounts.add(770005, vip=True, login_type=login_type)
    old = qq.secret(account)
    qq.clock.advance(timedelta(days=2))
    refreshed = await lifecycle.refresh(old)
    new = CredentialSecret("cred-1", refreshed.payload)
    assert refreshed.expires_at == datetime.fromtimestamp(
        account.created_at + account.expires_in, UTC
    )
    assert refreshed.expires_at is not None and refreshed.expires_at > qq.clock.now()
    await lifecycle.check(new)
    with pytest.raises(UpstreamAuthFailed):
        await lifecycle.check(old)  # the old key died with the refresh
    url = await qq.upstream.provider.play_url(cat.VIP_SONG, [Quality.FLAC], new)
    assert url.audio is not None
    assert json.loads(refreshed.payload)["openid"] == json.loads(old.payload)["openid"]


async def test_a_refused_refresh_is_an_auth_failure(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    account = qq.fake.accounts.add(770006)
    secret = qq.secret(account)
    qq.fake.accounts.rotate(account)  # someone else refreshed: our refresh key is stale
    with pytest.raises(UpstreamAuthFailed):
        await lifecycle.refresh(secret)


async def test_a_login_without_refresh_keys_cannot_refresh(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    account = qq.fake.accounts.add(770007)
    cookie = f"uin=o{account.musicid}; qqmusic_key={account.musickey}".encode()
    secret = CredentialSecret("cred-1", cookie)
    await lifecycle.check(secret)  # a pasted cookie is a working login …
    with pytest.raises(UpstreamAuthFailed, match="refresh key"):
        await lifecycle.refresh(secret)  # … that cannot be renewed


async def test_a_rate_limited_refresh_is_not_a_dead_login(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    secret = qq.secret(qq.fake.accounts.add(770008))
    qq.fake.musicu.fail("music.login.LoginServer.Login", 104604)
    with pytest.raises(UpstreamRateLimit):
        await lifecycle.refresh(secret)
    await lifecycle.refresh(secret)


async def test_a_refresh_answer_without_a_new_key_is_an_auth_failure(
    qq: Harness, lifecycle: CredentialLifecycle
) -> None:
    secret = qq.secret(qq.fake.accounts.add(770009))
    qq.fake.musicu.fail("music.login.LoginServer.Login", 0, data={"errMsg": "", "musicid": 0})
    with pytest.raises(UpstreamAuthFailed, match="new musickey"):
        await lifecycle.refresh(secret)


async def test_an_unreachable_upstream_is_not_a_failed_refresh() -> None:
    async with harness(timeout_s=0.05) as qq:
        secret = qq.secret(qq.fake.accounts.add(770010))
        qq.fake.delay_s = 1.0
        with pytest.raises(UpstreamUnreachable):
            await qq.upstream.credentials.refresh(secret)
