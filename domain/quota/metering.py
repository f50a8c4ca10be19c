"""Metered operations: which operations cost plan units, and how many.

An operation is declared once, by the name of its GraphQL field; the /v1 route whose twin
is that field is metered identically, so the two edges cannot charge differently. The
original's weights: a song URL costs 3 units, every other music query 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Metered:
    operation: str
    """The name recorded in usage events (e.g. ``song.url``)."""
    weight: int = 1

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise ValueError("a metered operation weighs at least one unit")


_METERED: dict[str, Metered] = {}


def declare_metered(field: str, metered: Metered) -> None:
    """Declare that the root field ``field`` (and its /v1 twin) is metered."""
    existing = _METERED.get(field)
    if existing is not None and existing != metered:
        raise ValueError(f"{field} is already metered as {existing}")
    _METERED[field] = metered


def metered(field: str, operation: str, weight: int = 1) -> Metered:
    """Declare and return the metering of a resolver: ``SONG_URL = metered("songUrl",
    "song.url", 3)`` next to the resolver it describes."""
    declaration = Metered(operation, weight)
    declare_metered(field, declaration)
    return declaration


def metering_of(field: str) -> Metered | None:
    return _METERED.get(field)
