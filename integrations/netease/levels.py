"""NetEase's play-URL levels and how they map onto Karpov's ``Quality``.

NetEase names levels, not formats. Worst to best, in NetEase's own order:

===========  =============================  ===============================================
level        what it is                     asked for by these qualities → reported as
===========  =============================  ===============================================
standard     MP3 128 kbps (标准)             MP3_128 → MP3_128
higher       MP3 192 kbps (较高)             OGG_192, AAC_192 → OGG_192 (see below)
exhigh       MP3 320 kbps (极高)             MP3_320, OGG_320, MOGG_320 → MP3_320
lossless     FLAC 16-bit (无损)              FLAC, MFLAC → FLAC
hires        FLAC 24-bit Hi-Res             MASTER, MMASTER (after jymaster) → MASTER
jyeffect     高清臻音, spatial stereo        ATMOS_2 → ATMOS_2
sky          沉浸环绕声, 5.1 surround (c51)   ATMOS_71, ATMOS_51 → ATMOS_51
jymaster     超清母带, 24-bit/192 kHz master  MASTER, MMASTER (first) → MASTER
===========  =============================  ===============================================

* Karpov has no 192 kbps MP3 quality; ``higher`` is reported on the ladder's 192 kbps rung
  (``OGG_192``, or ``AAC_192`` when that is what was asked and ``OGG_192`` was not); the
  answer's ``format`` still says ``mp3``.
* ``sky`` is asked with ``immerseType=c51``, a 5.1 mix, so it is reported as ``ATMOS_51``
  even when ``ATMOS_71`` was asked.
* ``MASTER`` asks for ``jymaster`` first, then ``hires``; both are reported as ``MASTER``
  ("Hi-Res master").
* OGG_640, MOGG_640, DOLBY, DTS_X, OGG_96, AAC_96 and AAC_48 have no NetEase level: a
  fallback chain simply passes over them (and a chain of nothing but them is
  ``quality_unavailable`` without asking NetEase).

The reported quality is always one of the asked chain: the level's usual quality when the
chain holds it, else the first quality of the chain that asks for that level.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

from domain.music.model import FALLBACK_LADDER, Quality


class Level(enum.StrEnum):
    STANDARD = "standard"
    HIGHER = "higher"
    EXHIGH = "exhigh"
    LOSSLESS = "lossless"
    HIRES = "hires"
    JYEFFECT = "jyeffect"
    SKY = "sky"
    JYMASTER = "jymaster"


LEVEL_ORDER: tuple[Level, ...] = tuple(Level)
"""Worst to best, as NetEase ranks them (a ``maxBrLevel`` covers every level up to it)."""

LEVELS_FOR_QUALITY: dict[Quality, tuple[Level, ...]] = {
    Quality.MASTER: (Level.JYMASTER, Level.HIRES),
    Quality.MMASTER: (Level.JYMASTER, Level.HIRES),
    Quality.ATMOS_71: (Level.SKY,),
    Quality.ATMOS_51: (Level.SKY,),
    Quality.ATMOS_2: (Level.JYEFFECT,),
    Quality.FLAC: (Level.LOSSLESS,),
    Quality.MFLAC: (Level.LOSSLESS,),
    Quality.MP3_320: (Level.EXHIGH,),
    Quality.OGG_320: (Level.EXHIGH,),
    Quality.MOGG_320: (Level.EXHIGH,),
    Quality.OGG_192: (Level.HIGHER,),
    Quality.AAC_192: (Level.HIGHER,),
    Quality.MP3_128: (Level.STANDARD,),
}

QUALITY_FOR_LEVEL: dict[Level, Quality] = {
    Level.JYMASTER: Quality.MASTER,
    Level.HIRES: Quality.MASTER,
    Level.SKY: Quality.ATMOS_51,
    Level.JYEFFECT: Quality.ATMOS_2,
    Level.LOSSLESS: Quality.FLAC,
    Level.EXHIGH: Quality.MP3_320,
    Level.HIGHER: Quality.OGG_192,
    Level.STANDARD: Quality.MP3_128,
}

_FILE_FIELDS: tuple[tuple[str, Level], ...] = (
    ("l", Level.STANDARD),
    ("m", Level.HIGHER),
    ("h", Level.EXHIGH),
    ("sq", Level.LOSSLESS),
    ("hr", Level.HIRES),
)
"""The song-detail fields describing each plain file NetEase holds."""


def parse_level(value: object) -> Level | None:
    try:
        return Level(value) if isinstance(value, str) else None
    except ValueError:
        return None


def levels_for_chain(qualities: Sequence[Quality]) -> tuple[Level, ...]:
    """The levels to ask for, best first, for a fallback chain of qualities."""
    levels: list[Level] = []
    for quality in qualities:
        for level in LEVELS_FOR_QUALITY.get(quality, ()):
            if level not in levels:
                levels.append(level)
    return tuple(levels)


def reported_quality(level: Level, qualities: Sequence[Quality]) -> Quality | None:
    """The quality to report for a URL at ``level`` answering the chain ``qualities``
    (``None`` when the chain never asked for that level)."""
    usual = QUALITY_FOR_LEVEL[level]
    if usual in qualities:
        return usual
    for quality in qualities:
        if level in LEVELS_FOR_QUALITY.get(quality, ()):
            return quality
    return None


def levels_up_to(best: Level) -> tuple[Level, ...]:
    return LEVEL_ORDER[: LEVEL_ORDER.index(best) + 1]


def qualities_for_levels(levels: Iterable[Level]) -> tuple[Quality, ...]:
    """Each level's quality, once, best first (``FALLBACK_LADDER`` order)."""
    found = {QUALITY_FOR_LEVEL[level] for level in levels}
    return tuple(q for q in FALLBACK_LADDER if q in found)


def levels_from_files(song: dict[str, object]) -> tuple[Level, ...]:
    """The plain levels a song-detail entry has files for (``l``, ``m``, ``h``, ``sq``,
    ``hr``), for answers that carry no privilege."""
    return tuple(level for field, level in _FILE_FIELDS if isinstance(song.get(field), dict))
