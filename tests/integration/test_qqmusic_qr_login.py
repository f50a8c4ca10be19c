"""QR logins (QQ ptlogin2 and WeChat qrconnect) against the fake login pages, ending in a
pool payload that then buys a VIP play URL."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from domain.music.errors import UpstreamAuthFailed, UpstreamBadAnswer
from domain.music.model import CredentialSecret, Quality
from integrations.qqmusic import QQMusicUpstream, QrEvent, QrLogin, QrPoll, QrSession
from tests.fakes.qqmusic import FakeQQMusic, LoopbackServer
from tests.fakes.qqmusic import catalogue as cat
from tests.fakes.qqmusic.app import QQ_SCANNER_ID, WECHAT_SCANNER_ID
from tests.fakes.qqmusic.harness import Harness, harness
from tests.fakes.qqmusic.logins import HOLD, JPEG_MAGIC, PNG_MAGIC


@pytest.fixture
async def qq() -> AsyncIterator[Harness]:
    async with harness() as h:
        yield h


async def _poll_to_the_end(login: QrLogin, state: str) -> tuple[list[QrEvent], QrPoll]:
    """Poll as an admin page would: the state travels as JSON between polls."""
    events: list[QrEvent] = []
    for _ in range(10):
        polled = await login.poll(QrSession.from_json(state))
        events.append(polled.event)
        state = polled.session.to_json()
        if polled.event.terminal:
            return events, polled
    raise AssertionError(f"no terminal event after {events}")


async def _vip_url(upstream: QQMusicUpstream, payload: bytes) -> str:
    answer = await upstream.provider.play_url(
        cat.VIP_SONG, [Quality.FLAC], CredentialSecret("new", payload)
    )
    assert answer.audio is not None, answer.unavailable_reason
    return answer.audio.url


# -- whole logins over real TCP, the poller in another client than the starter ----------------


async def test_a_qq_login_ends_in_a_credential_that_plays_vip_songs() -> None:
    fake = FakeQQMusic()
    with LoopbackServer(fake) as server:
        config = FakeQQMusic.config_for(server.origin)
        async with QQMusicUpstream(config) as starter, QQMusicUpstream(config) as poller:
            started = await starter.qr_login("qq").start()
            assert started.expires_in == 180
            assert started.image.startswith("data:image/png;base64,")
            assert base64.b64decode(started.image.split(",", 1)[1]).startswith(PNG_MAGIC)

            events, done = await _poll_to_the_end(poller.qr_login("qq"), started.session.to_json())
            assert events == [QrEvent.WAITING, QrEvent.SCANNED, QrEvent.DONE]
            assert done.payload is not None
            login = json.loads(done.payload)
            assert login["musicid"] == QQ_SCANNER_ID and login["loginType"] == 2
            assert login["musickey"].startswith("Q_H_L_") and login["refresh_key"]

            url = await _vip_url(poller, done.payload)
            assert f"uin={QQ_SCANNER_ID}" in url
            await poller.credentials.check(CredentialSecret("new", done.payload))


async def test_a_wechat_login_ends_in_a_credential_that_plays_vip_songs() -> None:
    fake = FakeQQMusic()
    with LoopbackServer(fake) as server:
        config = FakeQQMusic.config_for(server.origin)
        async with QQMusicUpstream(config) as starter, QQMusicUpstream(config) as poller:
            started = await starter.qr_login("wx").start()
            assert started.image.startswith("data:image/jpeg;base64,")
            assert base64.b64decode(started.image.split(",", 1)[1]).startswith(JPEG_MAGIC)

            events, done = await _poll_to_the_end(poller.qr_login("wx"), started.session.to_json())
            assert events == [QrEvent.WAITING, QrEvent.SCANNED, QrEvent.DONE]
            assert done.payload is not None
            login = json.loads(done.payload)
            assert login["musicid"] == WECHAT_SCANNER_ID and login["loginType"] == 1
            assert login["musickey"].startswith("W_X_")

            assert f"uin={WECHAT_SCANNER_ID}" in await _vip_url(poller, done.payload)


# -- the other endings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "ending"),
    [([66, 65], QrEvent.TIMEOUT), ([67, 68], QrEvent.REFUSE)],
)
async def test_qq_codes_that_end_without_a_login(
    qq: Harness, script: list[int | str], ending: QrEvent
) -> None:
    qq.fake.logins.qq_script = script
    login = qq.upstream.qr_login("qq")
    started = await login.start()
    events, last = await _poll_to_the_end(login, started.session.to_json())
    assert events[-1] is ending and last.payload is None
    assert last.upstream_code == script[-1]


async def test_an_unknown_qq_code_is_other(qq: Harness) -> None:
    qq.fake.logins.qq_script = [99, 0]
    login = qq.upstream.qr_login("qq")
    started = await login.start()
    polled = await login.poll(started.session)
    assert polled.event is QrEvent.OTHER and not polled.event.terminal


@pytest.mark.parametrize(
    ("script", "ending"),
    [([408, 402], QrEvent.TIMEOUT), ([404, 403], QrEvent.REFUSE)],
)
async def test_wechat_codes_that_end_without_a_login(
    qq: Harness, script: list[int | str], ending: QrEvent
) -> None:
    qq.fake.logins.wechat_script = script
    login = qq.upstream.qr_login("wx")
    started = await login.start()
    events, last = await _poll_to_the_end(login, started.session.to_json())
    assert events[-1] is ending and last.payload is None


async def test_a_wechat_poll_held_open_means_nothing_happened() -> None:
    async with harness(wechat_poll_timeout_s=0.05) as qq:
        qq.fake.logins.wechat_script = [HOLD, 404, HOLD, 405]
        qq.fake.logins.wechat_hold_s = 0.5
        login = qq.upstream.qr_login("wx")
        started = await login.start()
        events, done = await _poll_to_the_end(login, started.session.to_json())
        assert events == [QrEvent.WAITING, QrEvent.SCANNED, QrEvent.SCANNED, QrEvent.DONE]
        assert done.payload is not None


# -- the login chain refusing ------------------------------------------------------------------


async def test_a_check_sig_address_off_qqs_hosts_is_not_followed(qq: Harness) -> None:
    qq.fake.logins.qq_script = [0]
    qq.fake.logins.check_sig_origin = "https://evil.test"
    login = qq.upstream.qr_login("qq")
    with pytest.raises(UpstreamBadAnswer, match="unexpected host"):
        await login.poll((await login.start()).session)


async def test_the_chain_stops_at_a_host_off_qqs_but_keeps_its_cookies(qq: Harness) -> None:
    qq.fake.logins.qq_script = [0]
    qq.fake.logins.graph_origin = "https://elsewhere.test"  # the last redirect goes off-site …
    login = qq.upstream.qr_login("qq")
    polled = await login.poll((await login.start()).session)
    assert polled.event is QrEvent.DONE  # … and is not followed; p_skey came with it
    assert qq.fake.logins.visits == ["qq.test/check_sig", "qq.test/ptlogin/hop"]


async def test_the_whole_chain_is_walked_on_qqs_hosts(qq: Harness) -> None:
    qq.fake.logins.qq_script = [0]
    login = qq.upstream.qr_login("qq")
    await login.poll((await login.start()).session)
    assert qq.fake.logins.visits == [
        "qq.test/check_sig", "qq.test/ptlogin/hop", "qq.test/oauth2.0/login_jump",
    ]  # fmt: skip


async def test_qq_connect_refusing_to_authorise(qq: Harness) -> None:
    qq.fake.logins.qq_script = [0]
    qq.fake.logins.refuse_authorize = True
    login = qq.upstream.qr_login("qq")
    with pytest.raises(UpstreamAuthFailed, match="authorise"):
        await login.poll((await login.start()).session)


@pytest.mark.parametrize(
    ("platform", "call", "code"),
    [
        ("qq", "QQConnectLogin.LoginServer.QQLogin", 20271),
        ("wx", "music.login.LoginServer.Login", 20279),
        ("wx", "music.login.LoginServer.Login", 20450),
    ],
)
async def test_qq_music_refusing_the_login(
    qq: Harness, platform: str, call: str, code: int
) -> None:
    qq.fake.logins.qq_script = [0]
    qq.fake.logins.wechat_script = [405]
    qq.fake.musicu.fail(call, code)
    login = qq.upstream.qr_login(platform)
    with pytest.raises(UpstreamAuthFailed) as caught:
        await login.poll((await login.start()).session)
    assert caught.value.upstream_code == code


async def test_an_unknown_platform(qq: Harness) -> None:
    with pytest.raises(ValueError):
        qq.upstream.qr_login("mobile")
