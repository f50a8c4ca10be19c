"""Reads an audio file's tags, duration and embedded cover with mutagen (MP3, FLAC, OGG
Vorbis, M4A, WAV) and its ``.lrc`` sidecar (``domain.music.ports.AudioScanner``)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import mutagen
from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from domain.music.catalog import Cover, ScannedTrack

_NUMBER = re.compile(r"\d+")


class MutagenScanner:
    def scan(self, path: Path) -> ScannedTrack:
        path = path.resolve()
        try:
            audio: Any = mutagen.File(str(path))
        except mutagen.MutagenError as error:
            raise ValueError(f"unreadable audio file: {error}") from None
        if audio is None:
            raise ValueError("not a supported audio file")
        if isinstance(audio, MP3):
            fmt, mime, tags = "mp3", "audio/mpeg", _id3(audio.tags)
        elif isinstance(audio, WAVE):
            fmt, mime, tags = "wav", "audio/wav", _id3(audio.tags)
        elif isinstance(audio, FLAC):
            fmt, mime, tags = "flac", "audio/flac", _vorbis(audio.tags, audio.pictures)
        elif isinstance(audio, OggVorbis):
            fmt, mime, tags = "ogg", "audio/ogg", _vorbis(audio.tags, _ogg_pictures(audio.tags))
        elif isinstance(audio, MP4):
            fmt, mime, tags = "m4a", "audio/mp4", _mp4(audio.tags)
        else:
            raise ValueError(f"unsupported audio type {type(audio).__name__}")
        sidecar = path.with_suffix(".lrc")
        lrc = sidecar.read_text(encoding="utf-8-sig", errors="replace") if sidecar.is_file() else ""
        bitrate = getattr(audio.info, "bitrate", 0) or 0
        artists = tuple(a for a in tags.get("artists", ()) if a.strip()) or ("Unknown artist",)
        return ScannedTrack(
            path=str(path), title=tags.get("title") or path.stem, artists=artists,
            album=tags.get("album") or None, album_artist=tags.get("album_artist") or None,
            track_number=tags.get("track"), year=tags.get("year"),
            duration_ms=round(float(audio.info.length or 0) * 1000), format=fmt, mime=mime,
            size_bytes=path.stat().st_size, bitrate_kbps=round(bitrate / 1000) or None,
            lrc=lrc or tags.get("lyrics", ""), cover=tags.get("cover"), isrc=tags.get("isrc"),
        )  # fmt: skip


def _number(value: Any) -> int | None:
    found = _NUMBER.search(str(value)) if value is not None else None
    return int(found.group()) if found else None


def _split(values: list[str]) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        names.extend(n.strip() for n in re.split(r"\s*(?:/|;|\x00)\s*", value) if n.strip())
    return tuple(names)


def _id3(tags: ID3 | None) -> dict[str, Any]:
    if tags is None:
        return {}

    def text(frame: str) -> str | None:
        found = tags.get(frame)
        return str(found.text[0]) if found is not None and found.text else None

    found: dict[str, Any] = {
        "title": text("TIT2"), "album": text("TALB"), "album_artist": text("TPE2"),
        "track": _number(text("TRCK")), "year": _number(text("TDRC")), "isrc": text("TSRC"),
    }  # fmt: skip
    performers = tags.get("TPE1")
    found["artists"] = _split([str(t) for t in performers.text]) if performers else ()
    pictures = tags.getall("APIC")
    if pictures:
        found["cover"] = Cover.of(pictures[0].mime or "image/jpeg", bytes(pictures[0].data))
    lyrics = tags.getall("USLT")
    if lyrics:
        found["lyrics"] = str(lyrics[0].text)
    return found


def _vorbis(tags: Any, pictures: list[Picture]) -> dict[str, Any]:
    if tags is None:
        return {}

    def first(name: str) -> str | None:
        values = tags.get(name)
        return str(values[0]) if values else None

    found: dict[str, Any] = {
        "title": first("title"), "album": first("album"), "album_artist": first("albumartist"),
        "track": _number(first("tracknumber")), "year": _number(first("date")),
        "isrc": first("isrc"), "artists": _split(list(tags.get("artist", []))),
        "lyrics": first("lyrics") or "",
    }  # fmt: skip
    if pictures:
        found["cover"] = Cover.of(pictures[0].mime or "image/jpeg", bytes(pictures[0].data))
    return found


def _ogg_pictures(tags: Any) -> list[Picture]:
    pictures: list[Picture] = []
    for encoded in (tags or {}).get("metadata_block_picture", []):
        try:
            pictures.append(Picture(base64.b64decode(encoded)))
        except (ValueError, mutagen.MutagenError):
            continue
    return pictures


def _mp4(tags: Any) -> dict[str, Any]:
    if tags is None:
        return {}

    def first(name: str) -> Any:
        values = tags.get(name)
        return values[0] if values else None

    track = first("trkn")
    found: dict[str, Any] = {
        "title": first("\xa9nam"), "album": first("\xa9alb"), "album_artist": first("aART"),
        "track": track[0] if isinstance(track, tuple) else None,
        "year": _number(first("\xa9day")), "artists": _split(list(tags.get("\xa9ART", []))),
        "lyrics": first("\xa9lyr") or "",
    }  # fmt: skip
    cover = first("covr")
    if cover is not None:
        mime = "image/png" if cover.imageformat == MP4Cover.FORMAT_PNG else "image/jpeg"
        found["cover"] = Cover.of(mime, bytes(cover))
    return found
