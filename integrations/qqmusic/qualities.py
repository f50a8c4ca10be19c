"""QQ Music's audio files per quality: file-name prefix, extension, where the track info
states the file's size, and whether the file is encrypted (served by the EVkey call)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.music.model import Quality


@dataclass(frozen=True, slots=True)
class QualityFile:
    quality: Quality
    prefix: str
    extension: str
    size_field: str
    """A key of the track's ``file`` object, or ``size_new[i]`` for the newer array."""
    format: str
    bitrate_kbps: int | None = None
    encrypted: bool = False

    def file_name(self, song_mid: str, media_mid: str = "") -> str:
        """``<prefix><media_mid><ext>`` when the track names a media file, else the older
        ``<prefix><mid><mid><ext>`` form."""
        stem = media_mid or f"{song_mid}{song_mid}"
        return f"{self.prefix}{stem}{self.extension}"

    def size(self, file_info: Mapping[str, Any]) -> int:
        if self.size_field.startswith("size_new["):
            index = int(self.size_field[len("size_new[") : -1])
            sizes = file_info.get("size_new")
            value = sizes[index] if isinstance(sizes, list) and index < len(sizes) else 0
        else:
            value = file_info.get(self.size_field, 0)
        return value if isinstance(value, int) and value > 0 else 0


_Q = Quality
QUALITY_FILES: Mapping[Quality, QualityFile] = {
    f.quality: f
    for f in (
        QualityFile(_Q.MP3_128, "M500", ".mp3", "size_128mp3", "mp3", 128),
        QualityFile(_Q.MP3_320, "M800", ".mp3", "size_320mp3", "mp3", 320),
        QualityFile(_Q.AAC_48, "C200", ".m4a", "size_48aac", "m4a", 48),
        QualityFile(_Q.AAC_96, "C400", ".m4a", "size_96aac", "m4a", 96),
        QualityFile(_Q.AAC_192, "C600", ".m4a", "size_192aac", "m4a", 192),
        QualityFile(_Q.OGG_96, "O400", ".ogg", "size_96ogg", "ogg", 96),
        QualityFile(_Q.OGG_192, "O600", ".ogg", "size_192ogg", "ogg", 192),
        QualityFile(_Q.OGG_320, "O800", ".ogg", "size_new[3]", "ogg", 320),
        QualityFile(_Q.OGG_640, "O801", ".ogg", "size_new[5]", "ogg", 640),
        QualityFile(_Q.FLAC, "F000", ".flac", "size_flac", "flac"),
        QualityFile(_Q.MASTER, "AI00", ".flac", "size_new[0]", "flac"),
        QualityFile(_Q.ATMOS_2, "Q000", ".flac", "size_new[1]", "flac"),
        QualityFile(_Q.ATMOS_51, "Q001", ".flac", "size_new[2]", "flac"),
        QualityFile(_Q.ATMOS_71, "Q003", ".ogg", "size_new[6]", "ogg"),
        QualityFile(_Q.DOLBY, "D004", ".mp4", "size_dolby", "mp4"),
        QualityFile(_Q.DTS_X, "DT03", ".mp4", "size_new[9]", "mp4"),
        QualityFile(_Q.MFLAC, "F0M0", ".mflac", "size_flac", "mflac", encrypted=True),
        QualityFile(_Q.MOGG_320, "O8M0", ".mgg", "size_new[3]", "mgg", 320, encrypted=True),
        QualityFile(_Q.MOGG_640, "O8M1", ".mgg", "size_new[5]", "mgg", 640, encrypted=True),
        QualityFile(_Q.MMASTER, "AIM0", ".mflac", "size_new[0]", "mflac", encrypted=True),
    )
}


def available_qualities(file_info: Mapping[str, Any]) -> tuple[Quality, ...]:
    """Every quality whose file the track info gives a size for, in enum order."""
    return tuple(q for q in Quality if QUALITY_FILES[q].size(file_info) > 0)
