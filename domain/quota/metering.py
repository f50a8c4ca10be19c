"""Metered operations: which operations cost plan units, and how many.

An operation is declared once, by the name of its GraphQL field; the /v1 route whose twin
is that field is metered identically, so the two edges cannot charge differently. The
original's weights: a song URL costs 3 units, every other music query 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.quota.errors import ReservationExceeded


@dataclass(frozen=True, slots=True)
class Metered:
    operation: str
    """The name recorded in usage events (e.g. ``song.url``)."""
    weight: int = 1

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise ValueError("a metered operation weighs at least one unit")


_METERED: dict[str, Metered] = {}
_LISTENERS: list[Callable[[], None]] = []


def on_declared(listener: Callable[[], None]) -> None:
    """Call ``listener`` after every declaration (memos of what is metered drop then)."""
    _LISTENERS.append(listener)


def declare_metered(field: str, metered: Metered) -> None:
    """Declare that the root field ``field`` (and its /v1 twin) is metered."""
    existing = _METERED.get(field)
    if existing is not None and existing != metered:
        raise ValueError(f"{field} is already metered as {existing}")
    _METERED[field] = metered
    _CLAIMED.clear()
    for listener in _LISTENERS:
        listener()


def metered(field: str, operation: str, weight: int = 1) -> Metered:
    """Declare and return the metering of a resolver: ``SONG_URL = metered("songUrl",
    "song.url", 3)`` next to the resolver it describes."""
    declaration = Metered(operation, weight)
    declare_metered(field, declaration)
    return declaration


def metering_of(field: str) -> Metered | None:
    return _METERED.get(field)


# -- music (issue 13): what one request actually resolved ----------------------------------

_CLAIMED: dict[tuple[str, str], Metered] = {}
_CLAIMED_MAX = 1_000


class Meter:
    """The metered resolutions of one request, against what its gate reserved.

    The edge's gate reserves an upper bound (GraphQL: per metering coordinate, from the
    static analysis of the document; /v1: its one operation) and hands the request a
    meter; each metered resolver ``claim``s one resolution of its coordinate before it
    calls the provider and ``settle``s it after. A claim beyond the reservation is
    refused, so no request runs past what it was admitted for. ``provider`` prefixes the
    recorded operation (``local.song.url``), so usage reports show who answered."""

    def __init__(self, reserved: dict[str, int]) -> None:
        self._left = dict(reserved)
        self.calls: list[tuple[Metered, bool]] = []

    def claim(self, coordinate: str, provider: str) -> Metered:
        declared = metering_of(coordinate)
        if declared is None:
            raise KeyError(f"{coordinate} is not metered")
        left = self._left.get(coordinate, 0)
        if left <= 0:
            raise ReservationExceeded()
        self._left[coordinate] = left - 1
        # perf (issue 18): one (immutable) claim per provider and declaration, not one a call
        # (a coordinate's declaration never changes: a second, different one is refused)
        found = _CLAIMED.get((provider, coordinate))
        if found is None:
            if len(_CLAIMED) >= _CLAIMED_MAX:
                _CLAIMED.clear()
            found = _CLAIMED[(provider, coordinate)] = Metered(
                f"{provider}.{declared.operation}", declared.weight
            )
        return found

    def settle(self, metered: Metered, ok: bool) -> None:
        self.calls.append((metered, ok))

    @property
    def charged(self) -> int:
        """Units of the resolutions that succeeded."""
        return sum(m.weight for m, ok in self.calls if ok)
