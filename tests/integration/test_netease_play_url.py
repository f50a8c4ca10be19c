"""Play URLs by level against the fake NetEase: every level, the fallback, VIP previews
(never passed off as the song), no-copyright songs and qualities NetEase does not have."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from domain.music.errors import UpstreamNotFound
from domain.music.model import Quality, UnavailableReason, fallback_chain
from integrations.netease.levels import LEVELS_FOR_QUALITY, Level
from tests.integration.netease_harness import START, Harness, harness

PLAY_URL = "/api/song/enhance/player/url/v1"


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async with harness() as built:
        yield built


def asked_levels(h: Harness) -> list[str]:
    return [c.payload["level"] for c in h.fake.calls_to(PLAY_URL)]


@pytest.mark.parametrize(
    ("quality", "level", "reported", "file_format"),
    [
        (Quality.MASTER, "jymaster", Quality.MASTER, "flac"),
        (Quality.ATMOS_71, "sky", Quality.ATMOS_51, "flac"),
        (Quality.ATMOS_51, "sky", Quality.ATMOS_51, "flac"),
        (Quality.ATMOS_2, "jyeffect", Quality.ATMOS_2, "flac"),
        (Quality.FLAC, "lossless", Quality.FLAC, "flac"),
        (Quality.MP3_320, "exhigh", Quality.MP3_320, "mp3"),
        (Quality.OGG_320, "exhigh", Quality.MP3_320, "mp3"),
        (Quality.OGG_192, "higher", Quality.OGG_192, "mp3"),
        (Quality.AAC_192, "higher", Quality.AAC_192, "mp3"),
        (Quality.MP3_128, "standard", Quality.MP3_128, "mp3"),
        (Quality.MMASTER, "jymaster", Quality.MASTER, "flac"),
        (Quality.MFLAC, "lossless", Quality.FLAC, "flac"),
        (Quality.MOGG_320, "exhigh", Quality.MP3_320, "mp3"),
    ],
)
async def test_each_level_for_a_vip_login(
    h: Harness, quality: Quality, level: str, reported: Quality, file_format: str
) -> None:
    # Song 2005 exists at every level up to jymaster: a VIP login gets what it asks.
    answer = await h.provider.play_url("2005", fallback_chain(quality), h.secret())
    assert answer.requested is quality and answer.unavailable_reason is None
    assert answer.audio is not None
    assert answer.audio.quality is reported and answer.audio.format == file_format
    assert f"/{level}/" in answer.audio.url
    assert asked_levels(h) == [level]
    if level == "sky":
        assert h.fake.calls_to(PLAY_URL)[0].payload["immerseType"] == "c51"


async def test_hires_answers_master_when_jymaster_is_missing(h: Harness) -> None:
    # Song 2002 tops out at hires: NetEase steps jymaster down to hires by itself.
    answer = await h.provider.play_url("2002", fallback_chain(Quality.MASTER), h.secret())
    assert answer.audio is not None and answer.audio.quality is Quality.MASTER
    assert "/hires/" in answer.audio.url and asked_levels(h) == ["jymaster"]


async def test_falls_back_to_what_the_login_may_play(h: Harness) -> None:
    # A free song, no VIP: lossless exists, but only exhigh plays in full for everyone.
    answer = await h.provider.play_url("2001", fallback_chain(Quality.FLAC), None)
    assert answer.requested is Quality.FLAC
    assert answer.audio is not None and answer.audio.quality is Quality.MP3_320
    assert answer.audio.bitrate_kbps == 320 and answer.audio.size_bytes
    # The same song for a VIP login: the asked level.
    vip = await h.provider.play_url("2001", fallback_chain(Quality.FLAC), h.secret())
    assert vip.audio is not None and vip.audio.quality is Quality.FLAC


async def test_fee_eight_song_plays_standard_without_vip(h: Harness) -> None:
    answer = await h.provider.play_url(
        "2004", fallback_chain(Quality.MP3_320), h.secret("free-listener")
    )
    assert answer.audio is not None and answer.audio.quality is Quality.MP3_128
    assert answer.requested is Quality.MP3_320


async def test_a_vip_preview_is_never_the_song(h: Harness) -> None:
    for credential in (None, h.secret("free-listener")):
        answer = await h.provider.play_url("2002", fallback_chain(Quality.MP3_128), credential)
        assert answer.audio is None
        assert answer.unavailable_reason is UnavailableReason.VIP_REQUIRED
    # One call each: lower levels of a VIP song are previews too, nothing more is asked.
    assert len(h.fake.calls_to(PLAY_URL)) == 2
    # What NetEase answered was a playable clip, not an empty item.
    clip = h.fake.catalogue.url_item(2002, "standard", False, 0)
    assert clip["url"] and clip["code"] == 200 and clip["freeTrialInfo"]


async def test_no_copyright_is_no_rights(h: Harness) -> None:
    answer = await h.provider.play_url("2003", fallback_chain(Quality.MP3_320), h.secret())
    assert answer.audio is None and answer.unavailable_reason is UnavailableReason.NO_RIGHTS


async def test_vip_song_without_url_is_vip_required(h: Harness) -> None:
    item = h.fake.catalogue.url_item(2002, "exhigh", False, 0)
    h.fake.inject(
        PLAY_URL,
        {"data": [{**item, "url": None, "code": 404, "freeTrialInfo": None}], "code": 200},
    )
    answer = await h.provider.play_url("2002", fallback_chain(Quality.MP3_320), None)
    assert answer.unavailable_reason is UnavailableReason.VIP_REQUIRED


async def test_qualities_netease_lacks_are_skipped_or_unavailable(h: Harness) -> None:
    dolby = await h.provider.play_url("2005", fallback_chain(Quality.DOLBY), h.secret())
    assert dolby.audio is not None and dolby.audio.quality is Quality.FLAC
    assert asked_levels(h) == ["lossless"]

    aac_48 = await h.provider.play_url("2005", fallback_chain(Quality.AAC_48), h.secret())
    assert aac_48.audio is None
    assert aac_48.unavailable_reason is UnavailableReason.QUALITY_UNAVAILABLE
    assert asked_levels(h) == ["lossless"]  # nothing asked for a chain NetEase cannot serve

    ogg_96 = await h.provider.play_url("2005", fallback_chain(Quality.OGG_96), h.secret())
    assert ogg_96.audio is not None and ogg_96.audio.quality is Quality.MP3_128


async def test_an_answer_outside_the_chain_asks_the_next_level(h: Harness) -> None:
    # NetEase answers a level the chain never asked for (hires for a FLAC chain): our
    # client must not report it as FLAC; it asks the next level of the chain instead.
    item = h.fake.catalogue.url_item(2005, "hires", True, 0)
    h.fake.inject(PLAY_URL, {"data": [item], "code": 200})
    answer = await h.provider.play_url("2005", fallback_chain(Quality.FLAC), h.secret())
    assert asked_levels(h) == ["lossless", "exhigh"]
    assert answer.audio is not None and answer.audio.quality is Quality.MP3_320


async def test_every_level_tried_and_refused_is_quality_unavailable(h: Harness) -> None:
    item = h.fake.catalogue.url_item(2005, "jymaster", True, 0)
    h.fake.inject(PLAY_URL, {"data": [item], "code": 200}, times=3)
    answer = await h.provider.play_url("2005", fallback_chain(Quality.MP3_320), h.secret())
    assert asked_levels(h) == ["exhigh", "higher", "standard"]
    assert answer.unavailable_reason is UnavailableReason.QUALITY_UNAVAILABLE


async def test_url_expiry_is_capped_at_ten_minutes(h: Harness) -> None:
    answer = await h.provider.play_url("2001", fallback_chain(Quality.MP3_128), None)
    assert answer.audio is not None  # NetEase says expi 1200 s
    assert answer.audio.expires_at == START + timedelta(seconds=600)
    item = h.fake.catalogue.url_item(2001, "standard", False, 0)
    h.fake.inject(PLAY_URL, {"data": [{**item, "expi": 90}], "code": 200})
    short = await h.provider.play_url("2001", fallback_chain(Quality.MP3_128), None)
    assert short.audio is not None and short.audio.expires_at == START + timedelta(seconds=90)


async def test_unknown_or_malformed_song_ids(h: Harness) -> None:
    h.fake.inject(PLAY_URL, {"data": [], "code": 200})
    with pytest.raises(UpstreamNotFound):
        await h.provider.play_url("777", fallback_chain(Quality.MP3_128), None)
    with pytest.raises(UpstreamNotFound):
        await h.provider.play_url("abc", fallback_chain(Quality.MP3_128), None)
    unknown = await h.provider.play_url("777", fallback_chain(Quality.MP3_128), None)
    # NetEase answers an id it does not know like a song it may not play.
    assert unknown.unavailable_reason is UnavailableReason.NO_RIGHTS


def test_every_mapped_quality_asks_a_real_level() -> None:
    assert {lv for levels in LEVELS_FOR_QUALITY.values() for lv in levels} == set(Level)
