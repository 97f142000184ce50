"""The applications the connector follows: listed in full, then kept current by the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from fnmatch import fnmatchcase
from typing import Any

from cockpit.connect.http import Api
from cockpit.errors import Unauthorized, Unreachable
from connectors.argocd import mapping
from connectors.argocd.auth import Auth
from connectors.argocd.options import ArgoCDOptions
from connectors.argocd.stream import IDLE_TIMEOUT, AppStream

App = dict[str, Any]


class Applications:
    """Applications by name: the stream's cache while it is live, else a fresh list.

    A list that races with stream events keeps the events (they are newer), and after
    every (re)connect one more list catches what the stream may have missed while down.
    """

    def __init__(
        self,
        name: str,
        options: ArgoCDOptions,
        api: Api,
        auth: Auth,
        on_change: Callable[[], None],
    ) -> None:
        self.name = name
        self.options = options
        self.api = api
        self.auth = auth
        self.on_change = on_change
        self.lists = 0
        self._apps: dict[str, App] = {}
        self._touched: dict[str, App | None] | None = None  # stream events while listing
        self._resync = True
        self._stream_token: str | None = None
        self.stream: AppStream | None = None
        if options.stream:
            self.stream = AppStream(
                name, self._open_stream, self._on_event, self._on_live, self._relogin
            )

    async def current(self, live: bool = True) -> list[App]:
        """The applications now; `live` starts the stream (a one-shot caller only lists)."""
        if self.stream is None or not self.stream.live or self._resync:
            await self._list()
        if self.stream is not None and live:
            self.stream.start()
        return list(self._apps.values())

    def resync(self) -> None:
        """List over REST at the next poll, even while the stream is live."""
        self._resync = True

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.stop()

    def wanted(self, app: Mapping[str, Any]) -> bool:
        name = mapping.name_of(app)
        projects = self.options.projects
        if not name or (projects and mapping.text(app, "spec", "project") not in projects):
            return False
        globs = self.options.applications
        return not globs or any(fnmatchcase(name, pattern) for pattern in globs)

    def _params(self) -> dict[str, list[str]] | None:
        return {"projects": list(self.options.projects)} if self.options.projects else None

    async def _list(self) -> None:
        self._resync = False  # a reconnect during this list asks for another one
        self._touched = {}
        try:
            resp = await self.auth.request("GET", "/api/v1/applications", params=self._params())
            body = resp.body
            items = body.get("items") if isinstance(body, dict) else None
            if items is None and isinstance(body, dict):
                items = []  # grpc-gateway leaves an empty list out
            if not isinstance(items, list):
                raise Unreachable(f"{self.name}: the application list is not a list")
            apps = {mapping.name_of(a): a for a in items if isinstance(a, dict) and self.wanted(a)}
            for name, app in self._touched.items():
                if app is None:
                    apps.pop(name, None)
                else:
                    apps[name] = app
            self._apps = apps
            self.lists += 1
        finally:
            self._touched = None

    @asynccontextmanager
    async def _open_stream(self) -> AsyncIterator[AsyncIterator[str]]:
        self._stream_token = await self.auth.ready()
        async with self.api.stream(
            "/api/v1/stream/applications",
            params=self._params(),
            headers={"Accept": "text/event-stream"},
            idle_timeout=IDLE_TIMEOUT,
            accept=(401,),
        ) as resp:
            if resp.status_code == 401:
                raise Unauthorized(f"{self.name}: the application stream refused the token")
            yield resp.aiter_lines()

    async def _relogin(self) -> None:
        await self.auth.expired(self._stream_token)

    def _on_event(self, kind: str, app: App) -> None:
        name = mapping.name_of(app)
        if not name or kind not in ("ADDED", "MODIFIED", "DELETED"):
            return
        value: App | None = app
        if kind == "DELETED" or not self.wanted(app):
            if self._apps.pop(name, None) is None and self._touched is None:
                return
            value = None
        else:
            self._apps[name] = app
        if self._touched is not None:
            self._touched[name] = value
        self.on_change()

    def _on_live(self, live: bool) -> None:
        if live:
            self._resync = True  # events may have been missed while it was down
        self.on_change()
