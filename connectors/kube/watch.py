"""List-then-watch: a live cache of one resource collection, kept by a background task.

The informer lists (in pages), remembers the list's resourceVersion, then watches from
it with bookmarks. ADDED/MODIFIED replace an object, DELETED removes it, BOOKMARK only
moves the resume point. An ERROR 410 (or an HTTP 410) means the server no longer has
that history: the informer re-lists from scratch and watches again. A dropped stream
resumes from the last resourceVersion seen, after a jittered backoff. Resource versions
are opaque: compared for equality only, never ordered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from typing import Any

from cockpit.errors import ConnectorError, Rejected, Unreachable
from cockpit.sanitize import clean
from connectors.kube.client import Kube

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def key_of(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def backoff(failures: int) -> float:
    """Seconds before reconnect attempt `failures`: 0.5s doubling to 30s, jittered."""
    return min(30.0, 0.5 * 2 ** max(failures - 1, 0)) * random.uniform(0.5, 1.0)


class Gone(Exception):
    """The server no longer holds the history we asked for: re-list."""


class Informer:
    """One collection (one namespace, or all) mirrored in `items`, keyed namespace/name."""

    def __init__(
        self,
        kube: Kube,
        path: str,
        *,
        label_selector: str = "",
        on_change: Callable[[], None] = lambda: None,
        page_size: int = 500,
        watch_seconds: int = 300,
        retry_after: Callable[[int], float] = backoff,
    ) -> None:
        self.kube = kube
        self.path = path
        self.label_selector = label_selector
        self.on_change = on_change
        self.page_size = page_size
        self.watch_seconds = watch_seconds
        self.retry_after = retry_after
        self.items: dict[str, Obj] = {}
        self.resource_version = ""
        self.generation = 0  # bumped on every change to items
        self.error: ConnectorError | None = None  # the last failure, until a success
        self.failures = 0  # consecutive failed attempts to list or watch
        self.lists = 0
        self.watches = 0
        self._task: asyncio.Task[None] | None = None
        self._since_list = 0  # events applied since the last list

    @property
    def synced(self) -> bool:
        return self.lists > 0

    async def sync(self, watch: bool = True) -> None:
        """First list (raising its failure), then keep watching in the background if `watch`."""
        if not self.synced:
            await self._list()
        if watch and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._run(), name=f"watch:{self.path}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _list(self) -> None:
        items: dict[str, Obj] = {}
        params: dict[str, Any] = {"limit": self.page_size}
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        restarted = False
        while True:
            status, body = await self.kube.list_page(self.path, params)
            if status == 410 and not restarted:
                # The continue token expired mid-list: start over, once.
                restarted = True
                items.clear()
                params.pop("continue", None)
                continue
            if status == 410 or not isinstance(body, dict):
                raise Unreachable(f"{self.kube.name}: list {self.path} failed ({status})")
            for obj in body.get("items") or []:
                items[key_of(obj)] = obj
            meta = body.get("metadata") or {}
            if meta.get("continue"):
                params["continue"] = meta["continue"]
                continue
            self.resource_version = str(meta.get("resourceVersion", ""))
            break
        self.items = items
        self.lists += 1
        self._since_list = 0
        self.generation += 1
        self.error = None
        self.on_change()

    async def _run(self) -> None:
        relist = False
        while True:
            try:
                if relist:
                    await self._list()
                    relist = False
                events = await self._watch()
                self.failures = 0 if events else self.failures + 1
            except Gone:
                # A re-list is the cure; a server that answers 410 to a fresh list gets backoff.
                self.failures = 0 if self._since_list else self.failures + 1
                relist = True
            except asyncio.CancelledError:
                raise
            except ConnectorError as exc:
                self.error = exc
                self.failures += 1
                log.info("%s: watch %s: %s", self.kube.name, self.path, exc)
            except Exception as exc:  # a bug must not end the watch for good
                self.error = ConnectorError(f"{self.kube.name}: watch failed: {type(exc).__name__}")
                self.failures += 1
                log.exception("%s: watch %s", self.kube.name, self.path)
            if self.failures:
                await asyncio.sleep(self.retry_after(self.failures))

    async def _watch(self) -> int:
        """One watch request, until the server ends it; returns how many events came."""
        params: dict[str, Any] = {
            "watch": "true",
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": self.watch_seconds,
        }
        if self.label_selector:
            params["labelSelector"] = self.label_selector
        count = 0
        idle = self.watch_seconds + 30.0
        async with self.kube.stream(self.path, params, idle) as resp:
            if resp.status_code == 410:
                raise Gone()
            self.watches += 1
            self.error = None
            self.failures = 0
            async for line in resp.aiter_lines():
                if line.strip():
                    count += 1
                    self._apply(line)
        return count

    def _apply(self, line: str) -> None:
        try:
            event = json.loads(line)
            kind, obj = event["type"], event["object"]
            rv = str(obj["metadata"]["resourceVersion"]) if kind != "ERROR" else ""
        except (ValueError, KeyError, TypeError):
            raise Unreachable(f"{self.kube.name}: malformed watch event on {self.path}") from None
        if kind == "ERROR":
            code = obj.get("code") if isinstance(obj, dict) else None
            if code == 410:
                raise Gone()
            message = clean(str(obj.get("message", "")) if isinstance(obj, dict) else "", limit=200)
            raise Rejected(f"{self.kube.name}: watch {self.path} -> {code}: {message}")
        self.resource_version = rv
        self._since_list += 1
        if kind == "BOOKMARK":
            return
        key = key_of(obj)
        if kind == "DELETED":
            if self.items.pop(key, None) is None:
                return
        elif kind in ("ADDED", "MODIFIED"):
            self.items[key] = obj
        else:
            return
        self.generation += 1
        self.on_change()
