"""Slices of upstream lists read in capped pieces: planning, batching, topping up."""

from __future__ import annotations

from typing import Any

from integrations.qqmusic.paging import SliceFetch, fetch_slices
from integrations.qqmusic.raw import JsonObject
from integrations.qqmusic.transport import Call


class FakeList:
    """An upstream list of ``size`` numbers answering at most ``cap`` per call."""

    def __init__(self, size: int, cap: int) -> None:
        self.items = list(range(size))
        self.cap = cap
        self.rounds: list[list[tuple[int, int]]] = []

    def call(self, begin: int, num: int) -> Call:
        return Call("list", "read", {"begin": begin, "num": num})

    async def send(self, calls: list[Call]) -> list[JsonObject]:
        self.rounds.append([(c.param["begin"], c.param["num"]) for c in calls if c.param])
        answers: list[JsonObject] = []
        for call in calls:
            if call.module == "head":
                answers.append({"head": True})
                continue
            begin, num = call.param["begin"], min(call.param["num"], self.cap)
            answers.append({"items": self.items[begin : begin + num], "total": len(self.items)})
        return answers

    @staticmethod
    def read(data: JsonObject) -> tuple[list[int], int]:
        return list(data["items"]), int(data["total"])


def _fetch(upstream: FakeList, offset: int, limit: int, **kw: Any) -> SliceFetch[int]:
    return SliceFetch(offset, limit, upstream.call, upstream.read, piece=30, **kw)


async def test_a_slice_across_pieces_goes_in_one_round() -> None:
    upstream = FakeList(100, cap=30)
    fetch = _fetch(upstream, 25, 40)
    await fetch_slices(upstream.send, [], [fetch])
    page = fetch.result()
    assert page.items == tuple(range(25, 65))
    assert (page.total, page.has_more) == (100, True)
    assert upstream.rounds == [[(25, 30), (55, 10)]]


async def test_short_answers_are_topped_up() -> None:
    upstream = FakeList(100, cap=20)
    fetch = _fetch(upstream, 0, 50)
    await fetch_slices(upstream.send, [], [fetch])
    assert fetch.result().items == tuple(range(50))
    assert len(upstream.rounds) > 1


async def test_the_end_of_the_list_ends_the_slice() -> None:
    upstream = FakeList(45, cap=30)
    fetch = _fetch(upstream, 30, 40)
    await fetch_slices(upstream.send, [], [fetch])
    page = fetch.result()
    assert page.items == tuple(range(30, 45))
    assert (page.total, page.has_more) == (45, False)


async def test_past_the_end_is_empty() -> None:
    upstream = FakeList(10, cap=30)
    fetch = _fetch(upstream, 50, 10)
    await fetch_slices(upstream.send, [], [fetch])
    assert fetch.result().items == ()
    assert not fetch.result().has_more


async def test_an_upstream_that_stops_short_forever_does_not_loop() -> None:
    upstream = FakeList(100, cap=0)
    fetch = _fetch(upstream, 0, 10)
    await fetch_slices(upstream.send, [], [fetch])
    assert fetch.result().items == ()
    assert len(upstream.rounds) == 1  # a round that brought nothing is not repeated


async def test_page_numbered_pieces_stay_aligned() -> None:
    upstream = FakeList(100, cap=30)
    fetch = _fetch(upstream, 25, 10, aligned=True)
    await fetch_slices(upstream.send, [], [fetch])
    assert fetch.result().items == tuple(range(25, 35))
    assert upstream.rounds == [[(0, 30), (30, 30)]]


async def test_a_whole_list_asks_once_then_for_the_rest() -> None:
    upstream = FakeList(70, cap=30)
    fetch = _fetch(upstream, 0, 1000, first_pieces=1)
    await fetch_slices(upstream.send, [], [fetch])
    assert fetch.result().items == tuple(range(70))
    assert upstream.rounds == [[(0, 30)], [(30, 30), (60, 10)]]


async def test_head_calls_share_the_first_round() -> None:
    upstream = FakeList(40, cap=30)
    fetch = _fetch(upstream, 0, 40)
    [head] = await fetch_slices(upstream.send, [Call("head", "x")], [fetch])
    assert head == {"head": True}
    assert len(upstream.rounds[0]) == 2  # the head and both pieces went in one round
    assert len(upstream.rounds) == 1
    assert fetch.first_answer is not None
