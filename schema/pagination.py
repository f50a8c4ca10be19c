"""Cursor connections over the domain's offset pages (``domain.paging.Page``).

A cursor is opaque to clients: base64 of ``offset:<n>``. ``first`` is capped at 100."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypeVar

from domain.errors import InvalidInput
from domain.paging import Page
from schema.types.node import PageInfo

MAX_PAGE = 100
C = TypeVar("C")
N = TypeVar("N")


def offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def page_window(first: int, after: str | None) -> int:
    """Validate ``first`` and return the offset that ``after`` points past."""
    if first < 1 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE}", field="first")
    return _cursor_offset(after)


def connection(
    make: Callable[..., C], edge: Callable[..., Any], nodes: list[N], page: Page[Any], offset: int
) -> C:
    """``make`` (a connection type) of ``nodes``, the page's items as GraphQL nodes."""
    count, total = len(nodes), page.total
    return make(
        edges=[edge(cursor=offset_cursor(offset + i), node=n) for i, n in enumerate(nodes)],
        nodes=nodes,
        total_count=total,
        page_info=PageInfo(
            has_next_page=offset + count < total,
            has_previous_page=offset > 0,
            start_cursor=offset_cursor(offset) if count else None,
            end_cursor=offset_cursor(offset + count - 1) if count else None,
        ),
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
