"""NetEase levels ↔ Karpov qualities: what each quality asks for, what each level is
reported as, and that every fallback chain only ever reports a quality of its own."""

from __future__ import annotations

import pytest

from domain.music.model import Quality, fallback_chain
from integrations.netease.levels import (
    LEVEL_ORDER,
    QUALITY_FOR_LEVEL,
    Level,
    levels_for_chain,
    levels_from_files,
    levels_up_to,
    parse_level,
    qualities_for_levels,
    reported_quality,
)

L = Level


def test_netease_order_worst_to_best() -> None:
    assert [lv.value for lv in LEVEL_ORDER] == [
        "standard", "higher", "exhigh", "lossless", "hires", "jyeffect", "sky", "jymaster"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("level", "quality"),
    [
        (L.STANDARD, Quality.MP3_128),
        (L.HIGHER, Quality.OGG_192),
        (L.EXHIGH, Quality.MP3_320),
        (L.LOSSLESS, Quality.FLAC),
        (L.HIRES, Quality.MASTER),
        (L.JYEFFECT, Quality.ATMOS_2),
        (L.SKY, Quality.ATMOS_51),
        (L.JYMASTER, Quality.MASTER),
    ],
)
def test_each_level_is_reported_as(level: Level, quality: Quality) -> None:
    assert QUALITY_FOR_LEVEL[level] is quality
    assert reported_quality(level, fallback_chain(Quality.MASTER)) is quality


@pytest.mark.parametrize(
    ("requested", "levels"),
    [
        (Quality.MASTER, [L.JYMASTER, L.HIRES, L.SKY, L.JYEFFECT, L.LOSSLESS, L.EXHIGH,
                          L.HIGHER, L.STANDARD]),
        (Quality.MMASTER, [L.JYMASTER, L.HIRES, L.SKY, L.JYEFFECT, L.LOSSLESS, L.EXHIGH,
                           L.HIGHER, L.STANDARD]),
        (Quality.ATMOS_71, [L.SKY, L.JYEFFECT, L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.ATMOS_51, [L.SKY, L.JYEFFECT, L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.ATMOS_2, [L.JYEFFECT, L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.DTS_X, [L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.DOLBY, [L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.FLAC, [L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.MFLAC, [L.LOSSLESS, L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.OGG_640, [L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.MOGG_640, [L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.OGG_320, [L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.MOGG_320, [L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.MP3_320, [L.EXHIGH, L.HIGHER, L.STANDARD]),
        (Quality.OGG_192, [L.HIGHER, L.STANDARD]),
        (Quality.AAC_192, [L.HIGHER, L.STANDARD]),
        (Quality.OGG_96, [L.STANDARD]),
        (Quality.AAC_96, [L.STANDARD]),
        (Quality.MP3_128, [L.STANDARD]),
        (Quality.AAC_48, []),
    ],
)  # fmt: skip
def test_each_quality_asks_these_levels_best_first(requested: Quality, levels: list[Level]) -> None:
    assert list(levels_for_chain(fallback_chain(requested))) == levels


@pytest.mark.parametrize("requested", list(Quality))
def test_a_chain_only_reports_its_own_qualities(requested: Quality) -> None:
    chain = fallback_chain(requested)
    for level in levels_for_chain(chain):
        quality = reported_quality(level, chain)
        assert quality is not None and quality in chain


def test_reported_quality_prefers_the_usual_one_in_the_chain() -> None:
    assert reported_quality(L.SKY, fallback_chain(Quality.ATMOS_71)) is Quality.ATMOS_51
    assert reported_quality(L.HIGHER, fallback_chain(Quality.AAC_192)) is Quality.AAC_192
    assert reported_quality(L.EXHIGH, fallback_chain(Quality.OGG_320)) is Quality.MP3_320
    assert reported_quality(L.HIRES, fallback_chain(Quality.FLAC)) is None
    assert reported_quality(L.STANDARD, (Quality.AAC_48,)) is None


def test_available_qualities_from_a_top_level() -> None:
    assert qualities_for_levels(levels_up_to(L.EXHIGH)) == (
        Quality.MP3_320, Quality.OGG_192, Quality.MP3_128
    )  # fmt: skip
    assert qualities_for_levels(levels_up_to(L.JYMASTER)) == (
        Quality.MASTER, Quality.ATMOS_51, Quality.ATMOS_2, Quality.FLAC, Quality.MP3_320,
        Quality.OGG_192, Quality.MP3_128,
    )  # fmt: skip


def test_levels_from_song_detail_files() -> None:
    song: dict[str, object] = {
        "l": {"br": 128000},
        "m": None,
        "h": {"br": 320000},
        "sq": {"br": 999000},
    }
    assert levels_from_files(song) == (L.STANDARD, L.EXHIGH, L.LOSSLESS)
    assert levels_from_files({}) == ()


def test_parse_level() -> None:
    assert parse_level("sky") is L.SKY
    assert parse_level("none") is None and parse_level(None) is None and parse_level(3) is None
