"""Fetching an ``offset``/``limit`` slice of an upstream list that is read in pieces.

QQ's list calls take ``begin``/``num`` (or a 1-based ``page_num``) and cap the piece size.
A ``SliceFetch`` plans the calls covering the slice (sent together in one body), stores
what comes back by absolute position, and asks again from the first missing position when
an answer was shorter than asked while the upstream's total says there is more. It stops
when the slice is full, the list is exhausted, or a round brings nothing new.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from itertools import chain
from typing import Any, Generic, TypeVar

from domain.music.model import Page
from integrations.qqmusic.raw import JsonObject
from integrations.qqmusic.transport import Call

T = TypeVar("T")

MAX_ROUNDS = 4

MakeCall = Callable[[int, int], Call]
"""``(begin, num) -> Call``: the call for ``num`` items from position ``begin``."""
ReadPiece = Callable[[JsonObject], tuple[list[T], int]]
"""An answer's items and the upstream's total count."""


class SliceFetch(Generic[T]):
    def __init__(
        self,
        offset: int,
        limit: int,
        make: MakeCall,
        read: ReadPiece[T],
        *,
        piece: int,
        aligned: bool = False,
        first_pieces: int | None = None,
    ) -> None:
        """``aligned``: pieces must start at multiples of ``piece`` (page-numbered calls).
        ``first_pieces``: ask for at most this many pieces before the total is known (for
        "all of it" slices, whose length is unknown)."""
        self._offset = offset
        self._limit = limit
        self._first_pieces = first_pieces
        self._make = make
        self._read = read
        self._piece = piece
        self._aligned = aligned
        self._items: dict[int, T] = {}
        self._asked: list[tuple[int, int]] = []
        self._total: int | None = None
        self._stalled = False
        self.first_answer: JsonObject | None = None
        """The first answer read (some list calls also carry the list's header)."""

    @property
    def _end(self) -> int:
        end = self._offset + self._limit
        return end if self._total is None else min(end, self._total)

    def _first_missing(self) -> int:
        position = self._offset
        while position in self._items:
            position += 1
        return position

    def calls(self) -> list[Call]:
        """The calls still needed (none once the slice is complete or stalled)."""
        start, end = self._first_missing(), self._end
        ranges: list[tuple[int, int]] = []
        if self._stalled:
            end = start
        if self._aligned:
            begin = start - start % self._piece
            while begin < end:
                ranges.append((begin, self._piece))
                begin += self._piece
        else:
            begin = start
            while begin < end:
                ranges.append((begin, min(self._piece, end - begin)))
                begin += self._piece
        if self._total is None and self._first_pieces is not None:
            ranges = ranges[: self._first_pieces]
        self._asked = ranges
        return [self._make(begin, num) for begin, num in ranges]

    def absorb(self, answers: Sequence[JsonObject]) -> bool:
        """Store the answers to the last ``calls()``; whether anything new arrived."""
        before = len(self._items)
        for (begin, _num), answer in zip(self._asked, answers, strict=True):
            if self.first_answer is None:
                self.first_answer = answer
            items, total = self._read(answer)
            if total:
                self._total = total
            for index, item in enumerate(items):
                self._items.setdefault(begin + index, item)
        self._asked = []
        progressed = len(self._items) > before
        self._stalled = not progressed
        return progressed

    def result(self) -> Page[T]:
        items: list[T] = []
        position = self._offset
        while position in self._items and len(items) < self._limit:
            items.append(self._items[position])
            position += 1
        known = max(self._items, default=-1) + 1
        total = self._total if self._total is not None else max(known, position)
        return Page(
            items=tuple(items),
            offset=self._offset,
            total=total,
            has_more=position < total,
        )


Send = Callable[[list[Call]], Awaitable[list[JsonObject]]]


async def fetch_slices(
    send: Send, head: Sequence[Call], slices: Sequence[SliceFetch[Any]]
) -> list[JsonObject]:
    """Send ``head`` and the first calls of every slice in one go, then top the slices up
    in further rounds; returns the answers to ``head``."""
    planned = [piece.calls() for piece in slices]
    answers = await send([*head, *chain.from_iterable(planned)])
    _distribute(answers[len(head) :], planned, slices)
    for _ in range(MAX_ROUNDS - 1):
        pending = [(piece, piece.calls()) for piece in slices]
        pending = [(piece, calls) for piece, calls in pending if calls]
        if not pending:
            break
        more = await send([call for _, calls in pending for call in calls])
        _distribute(more, [calls for _, calls in pending], [piece for piece, _ in pending])
    return answers[: len(head)]


def _distribute(
    answers: Sequence[JsonObject],
    planned: Sequence[Sequence[Call]],
    slices: Sequence[SliceFetch[Any]],
) -> None:
    start = 0
    for calls, piece in zip(planned, slices, strict=True):
        piece.absorb(answers[start : start + len(calls)])
        start += len(calls)
