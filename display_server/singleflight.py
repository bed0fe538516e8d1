"""Single-flight reads: concurrent callers of one async function share one run of it.

A caller never joins a run that had already begun when it called (that run may have read the
state from before something the caller saw happen): it joins the next run, which starts as
soon as the current one ends. So at most one run is in progress and one waits, however many
callers there are, and every caller gets a result at least as new as its call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Call the instance instead of `fn`: callers that overlap share one run (and its error)."""

    def __init__(self, fn: Callable[[], Awaitable[T]]) -> None:
        self._fn = fn
        self._running: asyncio.Task[T] | None = None
        self._next: asyncio.Task[T] | None = None

    async def __call__(self) -> T:
        if self._next is None:
            self._next = asyncio.create_task(self._run(self._running))
            self._next.add_done_callback(_retrieve)
        # shielded: a caller that goes away does not cancel the run the others wait for
        return await asyncio.shield(self._next)

    async def _run(self, previous: asyncio.Task[T] | None) -> T:
        if previous is not None:
            await asyncio.wait([previous])
        self._running, self._next = self._next, None
        try:
            return await self._fn()
        finally:
            if self._running is asyncio.current_task():
                self._running = None


def _retrieve(task: asyncio.Task[T]) -> None:
    """Mark a run's error as seen: its callers may all have gone before it ended."""
    if not task.cancelled():
        task.exception()
