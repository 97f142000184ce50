"""The audit store, reached from the event loop without blocking it.

SQLite appends wait for an fsync; the UI must not. One dedicated thread opens and owns
the store (SQLite connections belong to the thread that made them) and every call runs
there, in order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Journal:
    """Async access to an AuditStore opened by `opener` on a private thread."""

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="audit"
        )
        self._opener = opener
        self._store: concurrent.futures.Future[Any] | None = None  # opened on first use
        # Called with each append's seconds, waiting for the audit thread included (the
        # controller's latency histogram); the TUI registers none.
        self.append_observers: list[Callable[[float], None]] = []

    @property
    def opened(self) -> bool:
        return self._store is not None

    def _open(self) -> concurrent.futures.Future[Any]:
        if self._store is None:
            self._store = self._pool.submit(self._opener)
        return self._store

    def call_sync(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(store)` on the audit thread and wait (CLI use, no event loop)."""
        store = self._open()
        return self._pool.submit(lambda: fn(store.result())).result()

    async def call(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(store)` on the audit thread without blocking the event loop."""
        store = self._open()
        future = self._pool.submit(lambda: fn(store.result()))
        return await asyncio.wrap_future(future)

    async def append(self, event: Any) -> Any:
        if not self.append_observers:
            return await self.call(lambda store: store.append(event))
        started = time.perf_counter()
        record = await self.call(lambda store: store.append(event))
        for observe in self.append_observers:
            observe(time.perf_counter() - started)
        return record

    async def note(self, kind: str, actor: Any, extra: dict[str, Any]) -> Any:
        """Record an informational event of `kind` (app.start, app.exit, audit.read)."""
        from cockpit.audit import AuditEvent, EventType

        return await self.append(
            AuditEvent(EventType(kind), actor, None, kind, "info", extra=extra)
        )

    def close(self) -> None:
        def shut(store: Any) -> None:
            store.close()

        store = self._store
        if store is not None:
            concurrent.futures.wait([store])
            if store.exception() is None:
                self._pool.submit(lambda: shut(store.result())).result()
        self._pool.shutdown(wait=True)
