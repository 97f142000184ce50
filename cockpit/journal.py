"""The audit store, reached from the event loop without blocking it.

SQLite appends wait for an fsync; the UI must not. One dedicated thread opens and owns
the store (SQLite connections belong to the thread that made them) and every call runs
there, in order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Journal:
    """Async access to an AuditStore opened by `opener` on a private thread."""

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit")
        self._store = self._pool.submit(opener)

    @property
    def store_ready(self) -> bool:
        return self._store.done()

    def call_sync(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(store)` on the audit thread and wait (CLI use, no event loop)."""
        return self._pool.submit(lambda: fn(self._store.result())).result()

    async def call(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(store)` on the audit thread without blocking the event loop."""
        future = self._pool.submit(lambda: fn(self._store.result()))
        return await asyncio.wrap_future(future)

    async def append(self, event: Any) -> Any:
        return await self.call(lambda store: store.append(event))

    def close(self) -> None:
        def shut(store: Any) -> None:
            store.close()

        if self._store.done() and self._store.exception() is None:
            self._pool.submit(lambda: shut(self._store.result())).result()
        self._pool.shutdown(wait=True)
