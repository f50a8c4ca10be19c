"""Our NetEase client over real TCP against the fake NetEase on loopback: music calls,
a QR login whose cookie then serves a VIP play URL, refresh, and a refused connection."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from domain.music.errors import UpstreamUnreachable
from domain.music.model import CredentialSecret, PageRequest, Quality, fallback_chain
from domain.pool.model import LeaseResult
from integrations.netease import build_netease
from tests.fakes.netease import FakeNeteaseServer
from tests.integration.netease_harness import Harness, build, config_for


@pytest.fixture(scope="module")
def server() -> Iterator[FakeNeteaseServer]:
    with FakeNeteaseServer() as running:
        yield running


@pytest.fixture
async def h(server: FakeNeteaseServer) -> AsyncIterator[Harness]:
    async with httpx.AsyncClient() as http:
        built = build(server.fake, http, config_for(server.fake, api_url=server.base_url))
        yield built
        built.assert_clean()


async def test_music_calls_over_tcp(h: Harness) -> None:
    song = await h.provider.song("2001", None)
    assert song.title == "Lights Over the Sea"
    playlist = await h.provider.playlist("5001", PageRequest(60, 20), None)
    assert playlist.songs is not None and len(playlist.songs.items) == 15
    url = await h.provider.play_url("2001", fallback_chain(Quality.MP3_320), None)
    assert url.audio is not None and url.audio.quality is Quality.MP3_320


async def test_qr_login_to_a_pooled_credential_that_plays_vip(h: Harness) -> None:
    before = await h.provider.play_url("2002", fallback_chain(Quality.FLAC), None)
    assert before.audio is None  # a preview without VIP

    key = (await h.login.qr_key()).body["unikey"]
    answer = await h.login.qr_check(key)
    while answer.code != 803:
        answer = await h.login.qr_check(key)
    payload = answer.payload()
    assert payload is not None
    h.credentials.validate_payload(payload)
    credential = CredentialSecret("pooled", payload)
    await h.credentials.check(credential)

    after = await h.provider.play_url("2002", fallback_chain(Quality.FLAC), credential)
    assert after.audio is not None and after.audio.quality is Quality.FLAC
    assert after.audio.format == "flac" and "/trial/" not in after.audio.url

    refreshed = await h.credentials.refresh(credential)
    await h.credentials.check(CredentialSecret("pooled", refreshed.payload))


async def test_encrypted_answers_over_tcp(server: FakeNeteaseServer) -> None:
    config = config_for(server.fake, api_url=server.base_url, encrypted_answers=True)
    async with httpx.AsyncClient() as http:
        netease = build_netease(http, config)
        lyrics = await netease.provider.lyrics("2001", None)
        assert lyrics.translation and lyrics.word_level
        charts = await netease.provider.charts(None)
        assert len(charts) == 2


async def test_a_refused_connection_is_unreachable(server: FakeNeteaseServer) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on ``port`` now.
    config = config_for(server.fake, api_url=f"http://127.0.0.1:{port}")
    async with httpx.AsyncClient() as http:
        netease = build_netease(http, config)
        with pytest.raises(UpstreamUnreachable) as caught:
            await netease.provider.song("2001", None)
        assert caught.value.result is LeaseResult.NETWORK_ERROR
        with pytest.raises(UpstreamUnreachable):
            await netease.login.qr_key()
