"""A small HTTP/1.1 server for the controller: health, metrics and incoming webhooks.

One request per connection (the response closes it), bodies read up to a cap by their
Content-Length, handlers looked up by method and path. It is meant for a loopback address
or behind a reverse proxy that terminates TLS; nothing here parses or trusts more than
the request line, the headers it needs and the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # a webhook delivery is a few KiB; GitHub caps payloads at 25 MB
MAX_HEADER_LINES = 100
READ_TIMEOUT = 10.0

REASONS = {
    200: "OK", 202: "Accepted", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
    413: "Content Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
}  # fmt: skip


@dataclass(frozen=True)
class Request:
    method: str  # upper case
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: bytes
    peer: str = ""


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, text.encode())

    @classmethod
    def json(cls, status: int, data: object) -> Response:
        import json

        return cls(status, json.dumps(data).encode(), "application/json")


Handler = Callable[[Request], Awaitable[Response]]


class Router:
    """Exact (method, path) routes, plus prefix routes for paths that carry names."""

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], Handler] = {}
        self._prefix: list[tuple[str, str, Handler]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        self._exact[(method.upper(), path)] = handler

    def add_prefix(self, method: str, prefix: str, handler: Handler) -> None:
        self._prefix.append((method.upper(), prefix, handler))

    def find(self, method: str, path: str) -> Handler | bool | None:
        """The handler; False when the path exists under another method; None when unknown."""
        handler = self._exact.get((method, path))
        if handler is not None:
            return handler
        for m, prefix, h in self._prefix:
            if path.startswith(prefix) and m == method:
                return h
        known = any(p == path for _, p in self._exact) or any(
            path.startswith(p) for _, p, _ in self._prefix
        )
        return False if known else None

    async def dispatch(self, request: Request) -> Response:
        handler = self.find(request.method, request.path)
        if handler is None:
            return Response.text(404, "not found\n")
        if handler is False:
            return Response.text(405, "method not allowed\n")
        assert not isinstance(handler, bool)
        try:
            return await handler(request)
        except Exception:  # a handler's bug is a 500 for this request, never the server's end
            log.exception("handler for %s %s failed", request.method, request.path)
            return Response.text(500, "internal error\n")


class BadRequest(Exception):
    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


async def _read_request(reader: asyncio.StreamReader, peer: str) -> Request:
    line = await reader.readline()
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(400, "malformed request line")
    method, target = parts[0].upper(), parts[1]
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest(400, "malformed header")
        headers[name.strip().lower()] = value.strip()
    else:
        raise BadRequest(400, "too many headers")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest(400, "chunked bodies are not accepted; send Content-Length")
    try:
        length = int(headers.get("content-length", "0") or 0)
    except ValueError:
        raise BadRequest(400, "bad Content-Length") from None
    if length < 0:
        raise BadRequest(400, "bad Content-Length")
    if length > MAX_BODY:
        raise BadRequest(413, f"body over {MAX_BODY} bytes")
    body = await reader.readexactly(length) if length else b""
    split = urlsplit(target)
    return Request(method, split.path or "/", parse_qs(split.query), headers, body, peer)


def _encode(response: Response) -> bytes:
    reason = REASONS.get(response.status, "Status")
    head = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in response.headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + response.body


class Server:
    """`await start()` binds host:port (port 0 picks a free one, see `.port`); `close()` stops."""

    def __init__(self, router: Router, host: str = "127.0.0.1", port: int = 0) -> None:
        self.router, self.host, self.port = router, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        peer_text = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else ""
        try:
            try:
                request = await asyncio.wait_for(_read_request(reader, peer_text), READ_TIMEOUT)
            except BadRequest as exc:
                response = Response.text(exc.status, f"{exc}\n")
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            else:
                response = await self.router.dispatch(request)
            writer.write(_encode(response))
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
