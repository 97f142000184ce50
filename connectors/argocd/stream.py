"""The application watch stream (server-sent events), followed in the background.

`GET /api/v1/stream/applications` with `Accept: text/event-stream` answers with
`data: {"result": {"type": ..., "application": ...}}` messages, blank-line separated,
and a `:` comment line as keep-alive every 15 s. On connect (without resourceVersion)
the server first sends every application as ADDED. A dropped or failed stream is
reopened with jittered exponential backoff, never sooner than a 429's Retry-After;
meanwhile the connector polls the list.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from cockpit.backoff import Backoff
from cockpit.errors import ConnectorError, RateLimited, Unauthorized, Unreachable
from cockpit.sanitize import clean

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 60.0  # four missed keep-alives: the connection is dead
MAX_BACKOFF = 30.0

Opener = Callable[[], AbstractAsyncContextManager[AsyncIterator[str]]]
Handler = Callable[[str, dict[str, Any]], None]


async def messages(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data of each server-sent event; comments (keep-alives) and empty events skipped."""
    data: list[str] = []
    async for line in lines:
        if not line.strip():
            if data:
                yield "\n".join(data)
                data = []
            continue
        # A comment (the `:` keep-alive) has an empty field name, so it falls through here.
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)


def decode(message: str, name: str) -> tuple[str, dict[str, Any]]:
    """One stream message -> (event type, application); a terminal error raises."""
    try:
        body = json.loads(message)
    except ValueError:
        raise Unreachable(f"{name}: malformed event on the application stream") from None
    if not isinstance(body, dict):
        raise Unreachable(f"{name}: unexpected event on the application stream")
    error = body.get("error")
    if isinstance(error, dict):
        text = clean(str(error.get("message") or "stream error"), limit=200)
        kind = Unauthorized if error.get("http_code") == 401 else Unreachable
        raise kind(f"{name}: application stream ended: {text}")
    result = body.get("result")
    app = result.get("application") if isinstance(result, dict) else None
    if not isinstance(result, dict) or not isinstance(app, dict):
        raise Unreachable(f"{name}: application stream event without an application")
    return str(result.get("type") or ""), app


class AppStream:
    """Keeps the stream open while the connector lives; reports events and up/down."""

    def __init__(
        self,
        name: str,
        open_stream: Opener,
        on_event: Handler,
        on_live: Callable[[bool], None],
        relogin: Callable[[], Awaitable[None]],
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self._open = open_stream
        self._on_event = on_event
        self._on_live = on_live
        self._relogin = relogin
        self.backoff = Backoff(1.0, MAX_BACKOFF, rng=rng)
        # The wait before reopening; ctrl+r (retry_now) ends it. Injectable: tests hold it.
        self.sleep = sleep or self.backoff.sleep
        self._task: asyncio.Task[None] | None = None
        self.live = False
        self.connects = 0
        self.error = ""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"argocd-stream:{self.name}")

    def retry_now(self) -> None:
        """Forget the backoff and reopen at once (the operator asked for fresh facts)."""
        self.backoff.retry_now()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.live = False

    async def _run(self) -> None:
        while True:
            received = False
            wait = 0.0  # what a rate limit asks for, at the least
            try:
                async with self._open() as lines:
                    self.connects += 1
                    self._set_live(True)
                    async for message in messages(lines):
                        kind, app = decode(message, self.name)
                        received = True
                        self._on_event(kind, app)
                self.error = "closed by the server"
            except ConnectorError as exc:
                self.error = str(exc)
                if isinstance(exc, RateLimited):
                    wait = exc.retry_after or 0.0
                if isinstance(exc, Unauthorized):
                    with contextlib.suppress(ConnectorError):
                        await self._relogin()
            if received:  # it worked for a while: the doubling starts over
                self.backoff.succeeded()
            self._set_live(False)
            delay = self.backoff.failed(at_least=wait)
            log.info(
                "%s: application stream down (%s); reopening in %.1fs", self.name, self.error, delay
            )
            await self.sleep(delay)

    def _set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            self._on_live(live)
