"""Keyset connections (``schema.pagination.keyset_connection``): pages forward and back
over a list in its sort order, cursors that are positions (not offsets), exact
``pageInfo``, and input errors that name the argument."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from domain.errors import InvalidInput
from schema.pagination import keyset_connection, sort_key


@dataclass
class Row:
    day: date
    name: str


@dataclass
class Page:
    edges: list[Any]
    nodes: list[Row]
    page_info: Any
    total_count: int


@dataclass
class Edge:
    cursor: str
    node: Row


ROWS = [Row(date(2026, 1, d), n) for d in (1, 2, 3) for n in ("a", "b")]


def page(rows: list[Row] = ROWS, **paging: Any) -> Page:
    arguments = {"first": None, "after": None, "last": None, "before": None, **paging}
    return keyset_connection(
        Page, Edge, rows, key=lambda r: sort_key(r.day, r.name), descending=(True, False),
        node=lambda r: r, **arguments,
    )  # fmt: skip


def names(found: Page) -> list[str]:
    return [f"{r.day.day}{r.name}" for r in found.nodes]


def test_orders_by_each_part_of_the_key_in_its_own_direction() -> None:
    assert names(page(list(reversed(ROWS)))) == ["3a", "3b", "2a", "2b", "1a", "1b"]


def test_pages_forward_and_back_with_exact_page_info() -> None:
    first = page(first=2)
    assert names(first) == ["3a", "3b"] and first.total_count == 6
    assert first.page_info.has_next_page and not first.page_info.has_previous_page
    second = page(first=2, after=first.page_info.end_cursor)
    assert names(second) == ["2a", "2b"]
    assert second.page_info.has_next_page and second.page_info.has_previous_page
    last = page(last=2)
    assert names(last) == ["1a", "1b"]
    assert last.page_info.has_previous_page and not last.page_info.has_next_page
    back = page(last=3, before=second.page_info.start_cursor)
    assert names(back) == ["3a", "3b"] and not back.page_info.has_previous_page
    between = page(after=first.edges[0].cursor, before=last.edges[0].cursor)
    assert names(between) == ["3b", "2a", "2b"]


def test_a_cursor_is_a_position_so_it_outlives_its_item() -> None:
    cursor = page(first=3).page_info.end_cursor  # "2a"
    without = [r for r in ROWS if (r.day.day, r.name) != (2, "a")]
    assert names(page(without, first=5, after=cursor)) == ["2b", "1a", "1b"]


def test_an_empty_list_is_an_empty_page() -> None:
    empty = page([], first=5)
    assert empty.nodes == [] and empty.total_count == 0
    assert empty.page_info.start_cursor is None and not empty.page_info.has_next_page


@pytest.mark.parametrize(
    ("paging", "field"),
    [({"first": 0}, "first"), ({"first": 101}, "first"), ({"last": 0}, "last"),
     ({"first": 1, "last": 1}, "last"), ({"after": "not base64!"}, "after"),
     ({"before": "WyJrZXlzZXQiXQ=="}, "before"), ({"after": "eyJrZXlzZXQiOjF9"}, "after")],
)  # fmt: skip
def test_bad_paging_names_the_argument(paging: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        page(**paging)
    assert refused.value.field == field
