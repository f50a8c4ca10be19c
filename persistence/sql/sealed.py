"""Re-encryption writes shared by every store that holds key-ring blobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Table, update
from sqlalchemy.ext.asyncio import AsyncConnection


async def replace_sealed(
    conn: AsyncConnection,
    table: Table,
    owner: Column[Any],
    owner_id: str,
    column: Column[Any],
    old_blob: bytes,
    new_blob: bytes,
) -> bool:
    """Swap a stored blob for its re-encryption, only while it is still the blob that was
    read: a change made meanwhile (a new secret, a cleared token) wins over the rotation."""
    statement = (
        update(table).where(owner == owner_id, column == old_blob).values({column.name: new_blob})
    )
    return (await conn.execute(statement)).rowcount > 0
