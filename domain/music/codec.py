"""The cache's encoding of music answers: JSON with a type tag per object, so a cached
answer decodes into the same frozen dataclasses (never pickle: a cache is not trusted
with code execution).

Only the model's own types are known to the decoder; anything else is refused."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import date, datetime
from typing import Any

from domain.music import model

_CLASSES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        model.MusicId, model.Image, model.Page, model.ArtistRef, model.AlbumRef, model.Song,
        model.Album, model.Artist, model.Creator, model.Playlist, model.Chart, model.Lyrics,
        model.AudioResource, model.PlayUrl,
    )
}  # fmt: skip
_ENUMS: dict[str, type[enum.Enum]] = {
    cls.__name__: cls
    for cls in (
        model.ProviderName,
        model.Kind,
        model.Quality,
        model.UnavailableReason,
        model.SearchType,
    )
}


class CodecError(ValueError):
    """The bytes are not an encoding of a music answer."""


def encode(value: Any) -> bytes:
    return json.dumps(_out(value), separators=(",", ":"), ensure_ascii=False).encode()


def decode(raw: bytes) -> Any:
    try:
        return _in(json.loads(raw))
    except (ValueError, TypeError, KeyError) as error:
        raise CodecError(str(error)) from error


def _out(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value if not isinstance(value, enum.Enum) else _enum(value)
    if isinstance(value, enum.Enum):
        return _enum(value)
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, tuple):
        return {"$t": [_out(v) for v in value]}
    if isinstance(value, list):
        return [_out(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _CLASSES:
            raise TypeError(f"cannot encode {name}")
        fields = {f.name: _out(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$": name, **fields}
    raise TypeError(f"cannot encode {type(value).__name__}")


def _enum(value: enum.Enum) -> dict[str, Any]:
    return {"$e": type(value).__name__, "v": value.value}


def _in(value: Any) -> Any:
    if isinstance(value, list):
        return [_in(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$" in value:
        cls = _CLASSES[value["$"]]
        return cls(**{k: _in(v) for k, v in value.items() if k != "$"})
    if "$e" in value:
        return _ENUMS[value["$e"]](value["v"])
    if "$dt" in value:
        return datetime.fromisoformat(value["$dt"])
    if "$d" in value:
        return date.fromisoformat(value["$d"])
    if "$t" in value:
        return tuple(_in(v) for v in value["$t"])
    raise CodecError("unknown object in a cached answer")
