"""Offset pages of a list, shared by every context that lists things (users, audit events).

Cursor connections are a GraphQL edge concern (``schema/pagination.py``); the domain
pages by ``limit`` and ``offset`` and reports the total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_OFFSET = 1_000_000
"""Deeper pages are refused: offsets past 64 bits overflow the database, and scanning a
million rows to skip them is no way to page anyway."""


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def page_size(limit: int) -> int:
    """``limit`` when it is a usable page size, else the default (the original's rule)."""
    return limit if 0 < limit <= MAX_PAGE_SIZE else DEFAULT_PAGE_SIZE
