"""List-then-watch: a live cache of one resource collection, kept by a background task.

The informer lists (in pages), remembers the list's resourceVersion, then watches from
it with bookmarks. ADDED/MODIFIED replace an object, DELETED removes it, BOOKMARK only
moves the resume point. An ERROR 410 (or an HTTP 410) means the server no longer has
that history: the informer re-lists from scratch and watches again. A dropped stream
resumes from the last resourceVersion seen, after a jittered backoff that only a good
event or bookmark resets (a stream that opens and then fails is still failing). A watch
with no event or bookmark within its timeout leaves the mirror stale. Resource versions
are opaque: compared for equality only, never ordered.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cockpit.backoff import Backoff
from cockpit.errors import ConnectorError, Rejected, Unreachable
from cockpit.model import EPOCH
from cockpit.sanitize import clean
from connectors.kube.client import Kube

log = logging.getLogger(__name__)

Obj = dict[str, Any]


def key_of(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


# Seconds before reconnect attempt `failures`: 1s doubling (to the hub's cap), jittered.
backoff: Callable[[int], float] = Backoff(1.0).delay
WATCH_SECONDS = 60  # the watch's timeoutSeconds: a server ends it (with a bookmark) by then
GRACE = 15.0  # beyond the timeout, for the server's last bookmark and the network


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
        watch_seconds: int = WATCH_SECONDS,
        retry_after: Callable[[int], float] = backoff,
        now: Callable[[], datetime] = lambda: EPOCH,
    ) -> None:
        self.kube = kube
        self.path = path
        self.label_selector = label_selector
        self.on_change = on_change
        self.page_size = page_size
        self.watch_seconds = watch_seconds
        self.retry_after = retry_after
        self.now = now
        self.heard = EPOCH  # the last list, event or bookmark: when the mirror was known good
        self.items: dict[str, Obj] = {}
        self.resource_version = ""
        self.generation = 0  # bumped on every change to items
        self.error: ConnectorError | None = None  # the last failure, until a success
        self.failures = 0  # consecutive failed attempts to list or watch
        self.backoff = Backoff(1.0)  # counts failures since a good event or the operator's retry
        self.lists = 0
        self.watches = 0
        self._task: asyncio.Task[None] | None = None
        self._since_list = 0  # events applied since the last list

    def stale(self) -> str:
        """Why the mirror cannot be trusted now (nothing heard within the watch's timeout)."""
        silent = self.now() - self.heard
        if silent <= timedelta(seconds=self.watch_seconds + GRACE):
            return ""
        return (
            f"{self.kube.name}: watch {self.path}: no event or bookmark for "
            f"{silent.total_seconds():.0f}s"
        )

    def retry_now(self) -> None:
        """Forget the backoff and reconnect at once (the operator asked for a refresh).

        Still failing until a good event says otherwise: only the wait starts over."""
        self.backoff.retry_now()

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
        self.heard = self.now()
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
            if not self.failures:
                self.backoff.succeeded()
            else:
                await self.backoff.sleep(self.retry_after(self.backoff.next_attempt()))

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
        idle = self.watch_seconds + GRACE
        async with self.kube.stream(self.path, params, idle) as resp:
            if resp.status_code == 410:
                raise Gone()
            self.watches += 1
            self.error = None
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
        self.failures = self.since_retry = 0
        self.heard = self.now()
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
