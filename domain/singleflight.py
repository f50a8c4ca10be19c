"""Concurrent calls with one key share one execution (the music service's upstream calls,
perf (issue 18): the sign-in memo's and the key owners' misses)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")


class SingleFlight:
    """Concurrent calls with one key share one execution. The shared call runs as its own
    task, so one caller giving up does not cancel it for the others."""

    def __init__(self) -> None:
        self._calls: dict[str, asyncio.Task[Any]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        task = self._calls.get(key)
        if task is None:
            task = asyncio.ensure_future(call())
            self._calls[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return cast(T, await asyncio.shield(task))

    def _forget(self, key: str, done: asyncio.Task[Any]) -> None:
        if self._calls.get(key) is done:
            del self._calls[key]
        if not done.cancelled():
            done.exception()  # retrieved: nobody may be left to await it

    def __len__(self) -> int:
        return len(self._calls)
