"""The unit of work: one transaction over the repositories a use case needs.

The kernel defines only the shape. Each context's ``ports.py`` declares its own
``UnitOfWork`` with the repositories it uses (``users``, ``totp``, ``api_keys`` …), so no
context has to know another's repositories; persistence has ONE implementation per
backend that carries them all and so satisfies every context's protocol.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeVar


class UnitOfWork(Protocol):
    """One transaction. ``commit()`` makes the changes durable; leaving the ``async with``
    block without committing rolls them back (also when it raised)."""

    async def commit(self) -> None: ...


U = TypeVar("U", bound=UnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[U]):
    """``async with factory() as uow: ...``: a new unit of work per block."""

    def __call__(self) -> AbstractAsyncContextManager[U]: ...
