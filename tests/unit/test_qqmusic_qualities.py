"""The quality table: every quality's file (prefix, extension), where its size is read, and
how the fallback chain meets the files a track has."""

from __future__ import annotations

import pytest

from domain.music.model import Quality, fallback_chain
from integrations.qqmusic.qualities import QUALITY_FILES, available_qualities

# The original gateway's map (karpov-gateway.md §3.9) and the public clients' file types.
EXPECTED = {
    Quality.MP3_128: ("M500", ".mp3", "mp3"), Quality.MP3_320: ("M800", ".mp3", "mp3"),
    Quality.AAC_48: ("C200", ".m4a", "m4a"), Quality.AAC_96: ("C400", ".m4a", "m4a"),
    Quality.AAC_192: ("C600", ".m4a", "m4a"), Quality.OGG_96: ("O400", ".ogg", "ogg"),
    Quality.OGG_192: ("O600", ".ogg", "ogg"), Quality.OGG_320: ("O800", ".ogg", "ogg"),
    Quality.OGG_640: ("O801", ".ogg", "ogg"), Quality.FLAC: ("F000", ".flac", "flac"),
    Quality.MASTER: ("AI00", ".flac", "flac"), Quality.ATMOS_2: ("Q000", ".flac", "flac"),
    Quality.ATMOS_51: ("Q001", ".flac", "flac"), Quality.ATMOS_71: ("Q003", ".ogg", "ogg"),
    Quality.DOLBY: ("D004", ".mp4", "mp4"), Quality.DTS_X: ("DT03", ".mp4", "mp4"),
    Quality.MFLAC: ("F0M0", ".mflac", "mflac"), Quality.MOGG_320: ("O8M0", ".mgg", "mgg"),
    Quality.MOGG_640: ("O8M1", ".mgg", "mgg"), Quality.MMASTER: ("AIM0", ".mflac", "mflac"),
}  # fmt: skip
ENCRYPTED = {Quality.MFLAC, Quality.MOGG_320, Quality.MOGG_640, Quality.MMASTER}


def test_every_quality_has_a_file() -> None:
    assert set(QUALITY_FILES) == set(Quality)


@pytest.mark.parametrize("quality", list(Quality))
def test_file_prefix_extension_and_format(quality: Quality) -> None:
    file = QUALITY_FILES[quality]
    assert (file.prefix, file.extension, file.format) == EXPECTED[quality]
    assert file.encrypted is (quality in ENCRYPTED)


def test_file_names_use_the_media_mid_when_there_is_one() -> None:
    flac = QUALITY_FILES[Quality.FLAC]
    assert flac.file_name("0039MnYb0qxYhV") == "F0000039MnYb0qxYhV0039MnYb0qxYhV.flac"
    assert flac.file_name("0039MnYb0qxYhV", "002Media") == "F000002Media.flac"


def test_sizes_come_from_the_named_field_or_the_size_new_array() -> None:
    file_info = {"size_flac": 30_000_000, "size_new": [90, 0, 0, 70, 0, 50], "size_dolby": "x"}
    assert QUALITY_FILES[Quality.FLAC].size(file_info) == 30_000_000
    assert QUALITY_FILES[Quality.MASTER].size(file_info) == 90
    assert QUALITY_FILES[Quality.OGG_320].size(file_info) == 70
    assert QUALITY_FILES[Quality.OGG_640].size(file_info) == 50
    assert QUALITY_FILES[Quality.DTS_X].size(file_info) == 0  # past the array's end
    assert QUALITY_FILES[Quality.DOLBY].size(file_info) == 0  # not a number
    assert QUALITY_FILES[Quality.MP3_128].size({}) == 0


def test_available_qualities_are_those_with_a_size() -> None:
    file_info = {"size_128mp3": 1, "size_320mp3": 2, "size_new": [3]}
    assert available_qualities(file_info) == (
        Quality.MP3_128, Quality.MP3_320, Quality.MASTER, Quality.MMASTER,
    )  # fmt: skip


def test_the_chain_from_a_plain_quality_only_goes_down() -> None:
    chain = fallback_chain(Quality.FLAC)
    assert chain[0] is Quality.FLAC
    assert Quality.MASTER not in chain
    assert chain[-1] is Quality.AAC_48
    assert not any(QUALITY_FILES[q].encrypted for q in chain)


def test_the_chain_from_an_encrypted_quality_falls_back_to_plain_files() -> None:
    chain = fallback_chain(Quality.MFLAC)
    assert chain[:2] == (Quality.MFLAC, Quality.FLAC)
    assert not any(QUALITY_FILES[q].encrypted for q in chain[1:])
