"""Relay's building blocks shared by every context: the ``Node`` interface and ``PageInfo``."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a globally unique, opaque id.")
class Node:
    id: strawberry.ID = strawberry.field(
        description="The object's global id: opaque, stable, accepted by `node(id:)`."
    )


@strawberry.type(description="Where a page lies in its connection, and the cursors at its ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page (page on with `after: endCursor`)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page (page back with `before: startCursor`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the page's first item; null for an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item; null for an empty page."
    )
