"""Play URLs against the fake: every quality, the fallback ladder, the reasons there is no
URL, the audio host, and the expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from domain.music.errors import UpstreamAuthFailed, UpstreamNotFound
from domain.music.model import CredentialSecret, Quality, UnavailableReason, fallback_chain
from tests.fakes.qqmusic import catalogue as cat
from tests.fakes.qqmusic.harness import Harness, harness

# The fake's rule (as QQ's): anyone may play these files of a free song; everything else
# needs a VIP account.
FREE_TIER = {Quality.MP3_128, Quality.AAC_48, Quality.AAC_96, Quality.OGG_96}
FILES = {
    Quality.MP3_128: ("M500", ".mp3"), Quality.MP3_320: ("M800", ".mp3"),
    Quality.AAC_48: ("C200", ".m4a"), Quality.AAC_96: ("C400", ".m4a"),
    Quality.AAC_192: ("C600", ".m4a"), Quality.OGG_96: ("O400", ".ogg"),
    Quality.OGG_192: ("O600", ".ogg"), Quality.OGG_320: ("O800", ".ogg"),
    Quality.OGG_640: ("O801", ".ogg"), Quality.FLAC: ("F000", ".flac"),
    Quality.MASTER: ("AI00", ".flac"), Quality.ATMOS_2: ("Q000", ".flac"),
    Quality.ATMOS_51: ("Q001", ".flac"), Quality.ATMOS_71: ("Q003", ".ogg"),
    Quality.DOLBY: ("D004", ".mp4"), Quality.DTS_X: ("DT03", ".mp4"),
    Quality.MFLAC: ("F0M0", ".mflac"), Quality.MOGG_320: ("O8M0", ".mgg"),
    Quality.MOGG_640: ("O8M1", ".mgg"), Quality.MMASTER: ("AIM0", ".mflac"),
}  # fmt: skip
FREE_SONG_FILES = {
    Quality.MP3_128, Quality.MP3_320, Quality.AAC_48, Quality.AAC_96, Quality.AAC_192,
    Quality.OGG_96, Quality.OGG_192, Quality.FLAC, Quality.MFLAC,
}  # fmt: skip


@pytest.fixture
async def qq() -> AsyncIterator[Harness]:
    async with harness() as h:
        yield h


@pytest.fixture
def vip(qq: Harness) -> CredentialSecret:
    return qq.secret(qq.fake.accounts.add(880001, vip=True))


@pytest.fixture
def member(qq: Harness) -> CredentialSecret:
    """A logged-in account without VIP."""
    return qq.secret(qq.fake.accounts.add(880002, vip=False), "cred-2")


@pytest.mark.parametrize("quality", list(Quality))
async def test_every_quality_with_a_vip_account(
    qq: Harness, vip: CredentialSecret, quality: Quality
) -> None:
    answer = await qq.upstream.provider.play_url(cat.ALL_QUALITIES_SONG, [quality], vip)
    assert answer.audio is not None and answer.unavailable_reason is None
    prefix, extension = FILES[quality]
    mid = cat.ALL_QUALITIES_SONG
    assert urlsplit(answer.audio.url).path == f"/{prefix}{mid}{mid}{extension}"
    assert answer.audio.quality is quality and answer.requested is quality
    assert answer.audio.format == extension[1:]
    song = qq.fake.catalogue.songs[mid]
    size_key = {**cat.QUALITY_FILES, **cat.ENCRYPTED_FILES}[prefix][1]
    assert answer.audio.size_bytes == song.size(size_key)


@pytest.mark.parametrize("quality", list(Quality))
async def test_every_quality_falls_back_to_what_anyone_may_play(
    qq: Harness, quality: Quality
) -> None:
    chain = fallback_chain(quality)
    expected = next(q for q in chain if q in FREE_SONG_FILES and q in FREE_TIER)
    answer = await qq.upstream.provider.play_url(cat.FREE_SONG, chain, None)
    assert answer.audio is not None
    assert answer.audio.quality is expected and answer.requested is quality


async def test_a_vip_account_gets_the_quality_asked(qq: Harness, vip: CredentialSecret) -> None:
    answer = await qq.upstream.provider.play_url(cat.FREE_SONG, fallback_chain(Quality.MASTER), vip)
    assert answer.audio is not None and answer.audio.quality is Quality.FLAC  # no master file
    assert urlsplit(answer.audio.url).path == f"/F000{cat.FREE_MEDIA}.flac"  # the media mid
    assert answer.audio.size_bytes == 31_000_000


async def test_a_member_without_vip_falls_back(qq: Harness, member: CredentialSecret) -> None:
    answer = await qq.upstream.provider.play_url(
        cat.FREE_SONG, fallback_chain(Quality.FLAC), member
    )
    assert answer.audio is not None and answer.audio.quality is Quality.OGG_96
    assert "uin=880002" in answer.audio.url


async def test_a_vip_song_needs_vip(
    qq: Harness, vip: CredentialSecret, member: CredentialSecret
) -> None:
    chain = fallback_chain(Quality.MP3_320)
    for nobody in (None, member):
        answer = await qq.upstream.provider.play_url(cat.VIP_SONG, chain, nobody)
        assert answer.audio is None
        assert answer.unavailable_reason is UnavailableReason.VIP_REQUIRED
    answer = await qq.upstream.provider.play_url(cat.VIP_SONG, chain, vip)
    assert answer.audio is not None and answer.audio.quality is Quality.MP3_320


async def test_a_song_nobody_may_play(qq: Harness, vip: CredentialSecret) -> None:
    chain = fallback_chain(Quality.MP3_128)
    locked = await qq.upstream.provider.play_url(cat.NO_RIGHTS_SONG, chain, vip)
    assert locked.unavailable_reason is UnavailableReason.NO_RIGHTS
    gone = await qq.upstream.provider.play_url(cat.DELISTED_SONG, chain, vip)
    assert gone.unavailable_reason is UnavailableReason.NO_RIGHTS


async def test_a_quality_the_song_does_not_have(qq: Harness, vip: CredentialSecret) -> None:
    answer = await qq.upstream.provider.play_url("300LinSong0001", [Quality.FLAC], vip)
    assert answer.audio is None
    assert answer.unavailable_reason is UnavailableReason.QUALITY_UNAVAILABLE


@pytest.mark.parametrize(
    ("sips", "host"),
    [
        (["http://dl.stream.qqmusic.qq.com/", "https://cdn.test/"], "https://cdn.test/"),
        (["https://edge.test"], "https://edge.test/"),
        (["http://dl.stream.qqmusic.qq.com/"], "https://ws.stream.qqmusic.qq.com/"),
        ([], "https://ws.stream.qqmusic.qq.com/"),
    ],
)
async def test_the_audio_host(qq: Harness, sips: list[str], host: str) -> None:
    qq.fake.musicu.sips = sips
    answer = await qq.upstream.provider.play_url(cat.FREE_SONG, [Quality.MP3_128], None)
    assert answer.audio is not None and answer.audio.url.startswith(host + "M500")


async def test_the_configured_default_host() -> None:
    async with harness(stream_url="https://mirror.test/audio") as qq:
        qq.fake.musicu.sips = []
        answer = await qq.upstream.provider.play_url(cat.FREE_SONG, [Quality.MP3_128], None)
        assert answer.audio is not None
        assert answer.audio.url.startswith("https://mirror.test/audio/M500")


async def test_urls_expire_within_ten_minutes_or_sooner(qq: Harness) -> None:
    answer = await qq.upstream.provider.play_url(cat.FREE_SONG, [Quality.MP3_128], None)
    assert answer.audio is not None
    assert answer.audio.expires_at == qq.clock.now() + timedelta(minutes=10)
    qq.fake.musicu.url_expiration = 120
    sooner = await qq.upstream.provider.play_url(cat.FREE_SONG, [Quality.MP3_128], None)
    assert sooner.audio is not None
    assert sooner.audio.expires_at == qq.clock.now() + timedelta(seconds=120)


async def test_an_expired_login_fails_as_auth(qq: Harness) -> None:
    account = qq.fake.accounts.add(880003, vip=True)
    secret = qq.secret(account)
    qq.fake.accounts.expire(account)
    with pytest.raises(UpstreamAuthFailed) as caught:
        await qq.upstream.provider.play_url(cat.FREE_SONG, [Quality.MP3_128], secret)
    assert caught.value.upstream_code == 1000


async def test_an_unknown_song_has_no_url(qq: Harness) -> None:
    with pytest.raises(UpstreamNotFound):
        await qq.upstream.provider.play_url("0000000000NONE", [Quality.MP3_128], None)


async def test_no_qualities_means_the_default_ladder(qq: Harness) -> None:
    answer = await qq.upstream.provider.play_url(cat.FREE_SONG, [], None)
    assert answer.audio is not None and answer.audio.quality is Quality.MP3_128
