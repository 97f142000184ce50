"""A fake Argo CD v1 API for the connector's tests, serving the recorded fixtures.

Not a test module itself: the tests import `FakeArgoCD`. It answers through an
`httpx.MockTransport` (`transport()`) or a loopback HTTP server (`serve()`), records every
request it receives, checks bearer tokens and session logins as Argo CD does, refuses
rollbacks as the real server does, and streams applications through feeds the test drives.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "argocd"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.argocd-api-token.sig"
USER, PASSWORD = "cockpit", "correct-horse-battery"
Outcome = int | str | tuple[int, str] | tuple[int, str, dict[str, str]] | dict[str, Any]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def grpc_error(message: str, code: int) -> dict[str, Any]:
    return {"error": message, "code": code, "message": message, "details": []}


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: Any = None


class Feed:
    """One stream connection; the test sends text, drops the connection or ends it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()

    def send(self, text: str) -> None:
        self.queue.put_nowait(text.encode())

    def event(self, kind: str, app: dict[str, Any]) -> None:
        body = {"result": {"type": kind, "application": app}}
        self.send("data: " + json.dumps(body, separators=(",", ":")) + " \n\n\n")

    def keepalive(self) -> None:
        self.send(":\n")

    def drop(self) -> None:
        self.queue.put_nowait(httpx.RemoteProtocolError("peer closed connection"))

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def body(self) -> AsyncIterator[bytes]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item


@dataclass
class Hold:
    """Keeps the next answer to a path back until the test releases it."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeArgoCD:
    apps: dict[str, dict[str, Any]] = field(default_factory=dict)
    managed: dict[str, Any] = field(default_factory=dict)
    projects: dict[str, Any] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    requests: list[Seen] = field(default_factory=list)
    faults: dict[str, list[Outcome]] = field(default_factory=dict)
    feeds: list[Feed] = field(default_factory=list)
    holds: dict[str, Hold] = field(default_factory=dict)  # path -> answer when released
    sessions: int = 0

    def __post_init__(self) -> None:
        if not self.apps:
            self.apps = {a["metadata"]["name"]: a for a in fixture("applications.json")["items"]}
        if not self.managed:
            self.managed = {
                name: fixture(f"managed-resources-{name}.json")
                for name in ("shop-prod", "batch-dev", "reports-staging")
            }
        if not self.projects:
            self.projects = fixture("projects.json")
        self.connected: asyncio.Queue[Feed] | None = None

    # Scripting ---------------------------------------------------------------------------
    def fail(self, path: str, *outcomes: Outcome) -> None:
        """The next requests to `path` get these: a status (with a message and headers), "timeout",
        "malformed" (broken JSON), or a dict (served as a 200 body)."""
        self.faults.setdefault(path, []).extend(outcomes)

    def change(self, kind: str, app: dict[str, Any]) -> None:
        """The server's state changes: later lists show it, open streams announce it."""
        name = app["metadata"]["name"]
        if kind == "DELETED":
            self.apps.pop(name, None)
        else:
            self.apps[name] = app
        for feed in self.feeds:
            feed.event(kind, copy.deepcopy(app))

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    async def next_stream(self) -> Feed:
        """The feed of the next stream connection the connector opens (waits at most 5 s)."""
        assert self.connected is not None, "use transport() first"
        return await asyncio.wait_for(self.connected.get(), 5.0)

    # Answers -----------------------------------------------------------------------------
    def answer(self, seen: Seen) -> tuple[int, Any]:
        """(status, JSON body) for one non-stream request, as Argo CD would answer it."""
        path, method = seen.path, seen.method
        if path == "/api/v1/session" and method == "POST":
            body = seen.body or {}
            if (body.get("username"), body.get("password")) != (USER, PASSWORD):
                return 401, grpc_error("Invalid username or password", 16)
            self.sessions += 1
            token = f"eyJhbGciOiJIUzI1NiJ9.session-{self.sessions}.sig"
            self.tokens.add(token)
            return 200, {"token": token}
        if not self.authorized(seen):
            return 401, grpc_error("no session information", 16)
        parts = path.removeprefix("/api/v1/").split("/")
        if parts == ["applications"] and method == "GET":
            wanted = seen.params.get("projects")
            items = [a for a in self.apps.values() if not wanted or a["spec"]["project"] in wanted]
            return 200, {"metadata": {"resourceVersion": "8812107"}, "items": items}
        if parts[0] == "applications" and len(parts) >= 2:
            app = self.apps.get(parts[1])
            if app is None:
                return 404, grpc_error(f'applications.argoproj.io "{parts[1]}" not found', 5)
            if len(parts) == 2 and method == "GET":
                return 200, app
            if parts[2:] == ["managed-resources"] and method == "GET":
                return 200, self.managed.get(parts[1], {"items": []})
            if parts[2:] == ["sync"] and method == "POST":
                return 200, app
            if parts[2:] == ["rollback"] and method == "POST":
                return self._rollback(app, seen.body or {})
        if parts[0] == "projects" and len(parts) == 2 and method == "GET":
            project = self.projects.get(parts[1])
            if project is None:
                return 404, grpc_error(f'appprojects.argoproj.io "{parts[1]}" not found', 5)
            return 200, project
        return 404, grpc_error("Not Found", 5)

    def authorized(self, seen: Seen) -> bool:
        auth = seen.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self.tokens

    def _rollback(self, app: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        if (app["spec"].get("syncPolicy") or {}).get("automated") is not None:
            return 400, grpc_error("rollback cannot be initiated when auto-sync is enabled", 9)
        if not any(h["id"] == body.get("id") for h in app["status"].get("history", [])):
            name = f"{app['metadata']['namespace']}/{app['metadata']['name']}"
            return 400, grpc_error(
                f"application {name} does not have deployment with id {body.get('id')}", 3
            )
        return 200, app

    def record(self, request: httpx.Request) -> Seen:
        body = json.loads(request.content) if request.content else None
        seen = Seen(
            request.method,
            request.url.path,
            parse_qs(request.url.query.decode()),
            {k.lower(): v for k, v in request.headers.items()},
            body,
        )
        self.requests.append(seen)
        return seen

    # Transports --------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        self.connected = asyncio.Queue()

        async def handler(request: httpx.Request) -> httpx.Response:
            seen = self.record(request)
            if seen.path in self.holds:
                hold = self.holds.pop(seen.path)
                hold.arrived.set()
                await hold.release.wait()
            queued = self.faults.get(seen.path)
            if queued:
                outcome = queued.pop(0)
                if outcome == "timeout":
                    raise httpx.ReadTimeout("timed out", request=request)
                if outcome == "malformed":
                    return httpx.Response(200, content=b'{"items": [{"metadata": ')
                if isinstance(outcome, dict):
                    return httpx.Response(200, json=outcome)
                status, message, *extra = (
                    outcome if isinstance(outcome, tuple) else (int(outcome), "")
                )
                headers = extra[0] if extra else {}  # e.g. a 429's Retry-After
                return httpx.Response(
                    status, headers=headers, json=grpc_error(message or "injected failure", 14)
                )
            if seen.path == "/api/v1/stream/applications":
                if not self.authorized(seen):
                    return httpx.Response(401, json=grpc_error("no session information", 16))
                feed = Feed()
                self.feeds.append(feed)
                assert self.connected is not None
                self.connected.put_nowait(feed)
                headers = {"content-type": "text/event-stream"}
                return httpx.Response(200, headers=headers, content=feed.body())
            status, body = self.answer(seen)
            return httpx.Response(status, json=copy.deepcopy(body))

        return httpx.MockTransport(handler)

    @contextmanager
    def serve(self, stream_text: str = "") -> Iterator[str]:
        """A loopback HTTP server on a free port; yields its base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    unquote(url.path),
                    parse_qs(url.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                fake.requests.append(seen)
                if seen.path == "/api/v1/stream/applications":
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(stream_text.encode())
                    return
                status, body = fake.answer(seen)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
