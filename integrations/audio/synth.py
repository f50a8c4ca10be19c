"""Small audio files made from nothing: a sine tone as WAV, silent MP3 frames, and the
smallest FLAC, Ogg Vorbis and M4A containers mutagen reads (headers only), each tagged
with mutagen; plus tiny PNG covers. ``karpov catalog demo`` and the tests use them, so a
fresh machine needs no sample files."""

from __future__ import annotations

import base64
import math
import struct
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TDRC, TIT2, TPE1, TPE2, TRCK, TSRC, USLT
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4Cover
from mutagen.ogg import OggPage
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

RATE = 22050


@dataclass(frozen=True, slots=True)
class Tags:
    title: str
    artists: tuple[str, ...]
    album: str | None = None
    album_artist: str | None = None
    track: int | None = None
    year: int | None = None
    isrc: str | None = None
    cover_png: bytes | None = None
    lyrics: str | None = None
    """Embedded lyrics (a ``.lrc`` sidecar is written separately)."""


def png(rgb: tuple[int, int, int], size: int = 8) -> bytes:
    """A ``size``x``size`` PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b"")
    )  # fmt: skip


def _id3(tags: Tags) -> ID3:
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=list(tags.artists)))
    if tags.album:
        id3.add(TALB(encoding=3, text=tags.album))
    if tags.album_artist:
        id3.add(TPE2(encoding=3, text=tags.album_artist))
    if tags.track:
        id3.add(TRCK(encoding=3, text=str(tags.track)))
    if tags.year:
        id3.add(TDRC(encoding=3, text=str(tags.year)))
    if tags.isrc:
        id3.add(TSRC(encoding=3, text=tags.isrc))
    if tags.cover_png:
        id3.add(APIC(encoding=3, mime="image/png", type=3, desc="cover", data=tags.cover_png))
    if tags.lyrics:
        id3.add(USLT(encoding=3, lang="eng", desc="", text=tags.lyrics))
    return id3


def _vorbis_comments(target: FLAC | OggVorbis, tags: Tags) -> None:
    comments: Any = target.tags
    assert comments is not None
    comments["title"] = tags.title
    comments["artist"] = list(tags.artists)
    for name, value in (("album", tags.album), ("albumartist", tags.album_artist),
                        ("tracknumber", tags.track), ("date", tags.year), ("isrc", tags.isrc),
                        ("lyrics", tags.lyrics)):  # fmt: skip
        if value:
            comments[name] = str(value)


def _picture(data: bytes) -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.width, picture.height, picture.depth = (
        3,
        "image/png",
        8,
        8,
        24,
    )
    picture.data = data
    return picture


def write_wav(path: Path, tags: Tags, *, seconds: float = 2.0, frequency: float = 440.0) -> Path:
    """A mono 16-bit sine tone, fading out, with an ID3 chunk."""
    frames = int(RATE * seconds)
    samples = bytearray()
    for i in range(frames):
        fade = 1.0 - i / frames
        value = int(12000 * fade * math.sin(2 * math.pi * frequency * i / RATE))
        samples += struct.pack("<h", value)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(samples))
    audio = WAVE(str(path))
    audio.add_tags()
    assert audio.tags is not None
    for frame in _id3(tags).values():
        audio.tags.add(frame)
    audio.save()
    return path


def write_mp3(path: Path, tags: Tags, *, seconds: float = 2.0) -> Path:
    """Silent MPEG-1 Layer III frames (128 kbps, 44.1 kHz, mono), ID3v2 tagged."""
    header = bytes([0xFF, 0xFB, 0x90, 0xC4])
    frame = header + bytes(417 - len(header))
    path.write_bytes(frame * math.ceil(seconds * 44100 / 1152))
    audio: Any = MP3(str(path))
    audio.tags = _id3(tags)
    audio.save()
    return path


def write_flac(path: Path, tags: Tags, *, seconds: float = 2.0) -> Path:
    """A FLAC stream header (STREAMINFO) with Vorbis comments and a picture."""
    samples = int(44100 * seconds)
    info = struct.pack(">HH", 4096, 4096) + bytes(6)
    packed = (44100 << 44) | (0 << 41) | (15 << 36) | samples
    info += packed.to_bytes(8, "big") + bytes(16)
    path.write_bytes(b"fLaC" + bytes([0x80]) + len(info).to_bytes(3, "big") + info)
    audio = FLAC(str(path))
    audio.add_tags()
    _vorbis_comments(audio, tags)
    if tags.cover_png:
        audio.add_picture(_picture(tags.cover_png))
    audio.save()
    return path


def write_ogg(path: Path, tags: Tags, *, seconds: float = 2.0) -> Path:
    """Ogg Vorbis headers (identification, comments, setup) and a last page whose
    granule position gives the duration."""
    ident = b"\x01vorbis" + struct.pack("<IBIiiiB", 0, 1, 44100, 0, 128000, 0, 0xB8) + b"\x01"
    vendor = b"karpov"
    comment = (
        b"\x03vorbis" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", 0) + b"\x01"
    )
    setup = b"\x05vorbis" + bytes(16)
    pages = []
    for sequence, (packets, position) in enumerate(
        [([ident], 0), ([comment, setup], 0), ([bytes(32)], int(44100 * seconds))]
    ):
        page = OggPage()
        page.packets, page.serial, page.sequence, page.position = packets, 1, sequence, position
        page.first = sequence == 0
        page.last = sequence == 2
        pages.append(page.write())
    path.write_bytes(b"".join(pages))
    audio = OggVorbis(str(path))
    _vorbis_comments(audio, tags)
    if tags.cover_png:
        encoded = base64.b64encode(_picture(tags.cover_png).write()).decode()
        assert audio.tags is not None
        audio.tags["metadata_block_picture"] = [encoded]
    audio.save()
    return path


def _atom(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def write_m4a(path: Path, tags: Tags, *, seconds: float = 2.0) -> Path:
    """An MP4 audio container (one sound track, no samples) with iTunes tags."""
    scale = 1000
    length = int(seconds * scale)
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _atom(b"mvhd", struct.pack(">IIIII", 0, 0, 0, scale, length)
                 + struct.pack(">IH", 0x10000, 0x100) + bytes(10) + matrix + bytes(24)
                 + struct.pack(">I", 2))  # fmt: skip
    mdhd = _atom(b"mdhd", struct.pack(">IIIIIHH", 0, 0, 0, 44100, int(seconds * 44100), 0, 0))
    hdlr = _atom(b"hdlr", struct.pack(">II", 0, 0) + b"soun" + bytes(12) + b"\x00")
    specific = bytes([0x05, 2, 0x12, 0x08])  # AAC LC, 44.1 kHz, mono
    config = (
        bytes([0x04, 13 + len(specific), 0x40, 0x15, 0, 0, 0])
        + struct.pack(">II", 128000, 128000)
        + specific
    )
    descriptor = bytes([0x03, 3 + len(config) + 3]) + b"\x00\x01\x00" + config + bytes([0x06, 1, 2])
    esds = _atom(b"esds", bytes(4) + descriptor)
    entry = _atom(b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8)
                  + struct.pack(">HHHHI", 1, 16, 0, 0, 44100 << 16) + esds)  # fmt: skip
    stsd = _atom(b"stsd", struct.pack(">II", 0, 1) + entry)
    stbl = _atom(b"stbl", stsd)
    minf = _atom(b"minf", stbl)
    mdia = _atom(b"mdia", mdhd + hdlr + minf)
    tkhd_body = struct.pack(">IIIIII", 7, 0, 0, 1, 0, length) + bytes(8)
    tkhd_body += struct.pack(">HHHH", 0, 0, 0x100, 0) + matrix + struct.pack(">II", 0, 0)
    tkhd = _atom(b"tkhd", tkhd_body)
    moov = _atom(b"moov", mvhd + _atom(b"trak", tkhd + mdia))
    ftyp = _atom(b"ftyp", b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom")
    path.write_bytes(ftyp + moov + _atom(b"mdat", b""))
    audio = MP4(str(path))
    audio.add_tags()
    assert audio.tags is not None
    audio.tags["\xa9nam"] = [tags.title]
    audio.tags["\xa9ART"] = list(tags.artists)
    if tags.album:
        audio.tags["\xa9alb"] = [tags.album]
    if tags.album_artist:
        audio.tags["aART"] = [tags.album_artist]
    if tags.track:
        audio.tags["trkn"] = [(tags.track, 0)]
    if tags.year:
        audio.tags["\xa9day"] = [str(tags.year)]
    if tags.lyrics:
        audio.tags["\xa9lyr"] = [tags.lyrics]
    if tags.cover_png:
        audio.tags["covr"] = [MP4Cover(tags.cover_png, imageformat=MP4Cover.FORMAT_PNG)]
    audio.save()
    return path


WRITERS = {"wav": write_wav, "mp3": write_mp3, "flac": write_flac, "ogg": write_ogg,
           "m4a": write_m4a}  # fmt: skip


def lrc(title: str, lines: list[str], *, seconds: float = 2.0) -> str:
    step = seconds / max(1, len(lines))
    timed = [
        f"[{int(i * step // 60):02d}:{i * step % 60:05.2f}]{line}" for i, line in enumerate(lines)
    ]
    return "\n".join([f"[ti:{title}]", *timed]) + "\n"


DEMO = [
    ("wav", "Morning Light", ("Aurora Lane",), "First Rays", 1, 2024, 523.25, (240, 180, 60)),
    ("wav", "Evening Tide", ("Aurora Lane", "Kai Moreno"), "First Rays", 2, 2024, 392.0,
     (60, 120, 200)),
    ("mp3", "Quiet Static", ("The Null Set",), "Signals", 1, 2023, 0.0, (90, 90, 90)),
    ("wav", "Paper Planes", ("Kai Moreno",), "Signals", 2, 2023, 440.0, (200, 80, 120)),
    ("wav", "Northern Road", ("Aurora Lane",), "First Rays", 3, 2024, 329.63, (80, 160, 90)),
]  # fmt: skip


_ALBUM_ARTISTS = {"First Rays": "Aurora Lane", "Signals": "Various Artists"}


def write_demo(directory: Path) -> list[Path]:
    """Five short songs on two albums by three artists, with covers, ``.lrc`` lyrics and
    an ``.m3u`` playlist."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for i, (kind, title, artists, album, track, year, tone, colour) in enumerate(DEMO, 1):
        path = directory / f"{i:02d} {title}.{kind}"
        owner = _ALBUM_ARTISTS[album]
        tags = Tags(title, artists, album, owner, track, year, f"KRPV2600{i:04d}", png(colour))
        if kind == "wav":
            write_wav(path, tags, frequency=tone)
        else:
            write_mp3(path, tags)
        words = [f"{title}, line {n}" for n in range(1, 5)]
        path.with_suffix(".lrc").write_text(lrc(title, words), encoding="utf-8")
        written.append(path)
    playlist = directory / "Demo_Mix.m3u"
    playlist.write_text("#EXTM3U\n" + "\n".join(p.name for p in reversed(written)) + "\n",
                        encoding="utf-8")  # fmt: skip
    return written
