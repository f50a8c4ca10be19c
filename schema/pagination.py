"""Cursor connections: over the domain's offset pages (``domain.paging.Page``: users, the
audit log, orders), and, with keyset cursors, over a whole list an owner has (API keys,
sessions, linked identities, usage days: ``keyset_connection``).

A cursor is opaque to clients: base64 of ``offset:<n>``, or of the item's sort key.
``first`` and ``last`` are capped at 100."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar, cast

import strawberry

from domain.errors import InvalidInput
from domain.paging import Page
from schema.types.node import PageInfo

MAX_PAGE = 100
C = TypeVar("C")
N = TypeVar("N")
T = TypeVar("T")


@functools.lru_cache(maxsize=4096)
def offset_cursor(offset: int) -> str:
    """perf (issue 18): cached, as every page of 20 asks for the same few cursors (and
    builds its edges' cursors whether or not the document selects them)."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def page_window(first: int, after: str | None) -> int:
    """Validate ``first`` and return the offset that ``after`` points past."""
    if first < 1 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", field="first")
    return _cursor_offset(after)


class LazyEdges:
    """perf (issue 18): a connection's ``edges`` built when a document first reads them
    (most read ``nodes`` only; a search page built twenty edge objects per request), then
    kept in the instance as the dataclass would have set them (a non-data descriptor: the
    instance's value, once there, is read first). Set on a connection type with
    ``lazy_edges`` after strawberry made it."""

    __slots__ = ()

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        edge, nodes, offset = instance._edges_of
        edges = [edge(cursor=offset_cursor(offset + i), node=n) for i, n in enumerate(nodes)]
        instance.__dict__["edges"] = edges
        return edges


def lazy_edges(*connection_types: type) -> None:
    for connection_type in connection_types:
        connection_type.edges = LazyEdges()  # type: ignore[attr-defined]


def connection(
    make: Callable[..., C], edge: Callable[..., Any], nodes: list[N], page: Page[Any], offset: int
) -> C:
    """``make`` (a connection type) of ``nodes``, the page's items as GraphQL nodes."""
    count, total = len(nodes), page.total
    page_info = PageInfo(
        has_next_page=offset + count < total,
        has_previous_page=offset > 0,
        start_cursor=offset_cursor(offset) if count else None,
        end_cursor=offset_cursor(offset + count - 1) if count else None,
    )
    if isinstance(vars(make).get("edges"), LazyEdges):
        found: Any = object.__new__(cast(type, make))
        found.__dict__.update(
            nodes=nodes, total_count=total, page_info=page_info, _edges_of=(edge, nodes, offset)
        )
        return cast(C, found)
    return make(
        edges=[edge(cursor=offset_cursor(offset + i), node=n) for i, n in enumerate(nodes)],
        nodes=nodes,
        total_count=total,
        page_info=page_info,
    )


def _cursor_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit() and len(value) <= 9:
            return int(value) + 1
    except ValueError:
        pass
    raise InvalidInput("after is not a valid cursor", field="after")


# -- keyset connections (issue 11) ---------------------------------------------------------

Key = tuple[str | int, ...]
"""A position in a list's order: the values of its sort key (a datetime as microseconds)."""


def keyset_cursor(key: Key) -> str:
    text = json.dumps(["keyset", *key], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode()


def sort_key(*values: str | int | datetime | date) -> Key:
    """A list's sort key made of values that a cursor can carry."""
    return tuple(_cursor_value(v) for v in values)


def _cursor_value(value: str | int | datetime | date) -> str | int:
    if isinstance(value, datetime):
        return round(value.timestamp() * 1_000_000)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _keyset_key(cursor: str, field: str) -> Key:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        decoded = None
    if (
        isinstance(decoded, list)
        and len(decoded) > 1
        and decoded[0] == "keyset"
        and all(isinstance(v, str | int) and not isinstance(v, bool) for v in decoded[1:])
    ):
        return tuple(decoded[1:])
    raise InvalidInput(f"{field} is not a valid cursor", field=field)


def _precedes(a: Key, b: Key, descending: tuple[bool, ...]) -> bool:
    """Whether ``a`` comes before ``b`` in the list's order."""
    for x, y, down in zip(a, b, descending, strict=False):
        if x != y:
            if type(x) is not type(y):
                return str(x) < str(y)
            return (x > y) if down else (x < y)  # type: ignore[operator]
    return False


def keyset_connection(
    make: Callable[..., C],
    edge: Callable[..., Any],
    items: list[T],
    *,
    key: Callable[[T], Key],
    descending: tuple[bool, ...],
    node: Callable[[T], Any],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> C:
    """A Relay connection over a whole list (one owner's keys, sessions, identities or usage
    days), paged by keyset cursors: a cursor is the position of its item in the list's order
    (``key``, each part ascending or ``descending``), so it still works when items before
    it were removed. ``first``/``after`` pages forward, ``last``/``before`` backward; with
    neither, the first ``DEFAULT_PAGE`` items."""
    if first is not None and last is not None:
        raise InvalidInput("give first or last, not both", field="last")
    for name, count in (("first", first), ("last", last)):
        if count is not None and not 1 <= count <= MAX_PAGE:
            raise InvalidInput(f"{name} must be between 1 and {MAX_PAGE}", field=name)
    ordered = sorted(items, key=functools.cmp_to_key(_comparator(key, descending)))
    keys = [key(i) for i in ordered]
    lo, hi = 0, len(ordered)
    if after:
        start = _keyset_key(after, "after")
        lo = next((n for n, k in enumerate(keys) if _precedes(start, k, descending)), hi)
    if before:
        end = _keyset_key(before, "before")
        hi = max(lo, next((n for n, k in enumerate(keys) if not _precedes(k, end, descending)), hi))
    if last is not None:
        lo = max(lo, hi - last)
    else:
        hi = min(hi, lo + (first if first is not None else DEFAULT_PAGE))
    nodes = [node(i) for i in ordered[lo:hi]]
    cursors = [keyset_cursor(k) for k in keys[lo:hi]]
    return make(
        edges=[edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        nodes=nodes,
        total_count=len(ordered),
        page_info=PageInfo(
            # The whole list is at hand, so both are exact (Relay allows less).
            has_next_page=hi < len(ordered),
            has_previous_page=lo > 0,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
    )


DEFAULT_PAGE = 50


def _comparator(key: Callable[[T], Key], descending: tuple[bool, ...]) -> Callable[[T, T], int]:
    def compare(a: T, b: T) -> int:
        ka, kb = key(a), key(b)
        return -1 if _precedes(ka, kb, descending) else 1 if _precedes(kb, ka, descending) else 0

    return compare


# The arguments of a keyset connection field, described once.
First = Annotated[
    int | None,
    strawberry.argument(description=f"Page forward: at most this many (1-{MAX_PAGE}); "
                        f"{DEFAULT_PAGE} when neither first nor last is given."),
]  # fmt: skip
After = Annotated[
    str | None, strawberry.argument(description="Page forward from this cursor (exclusive).")
]
Last = Annotated[
    int | None, strawberry.argument(description=f"Page backward: at most this many (1-{MAX_PAGE}).")
]
Before = Annotated[
    str | None, strawberry.argument(description="Page backward from this cursor (exclusive).")
]
