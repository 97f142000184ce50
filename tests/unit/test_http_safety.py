"""Shared HTTP safety on real loopback servers: the token stays at its origin, bodies are capped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from cockpit.config import DEFAULT_MAX_RESPONSE_BYTES, ConnectorSpec
from cockpit.connect.client import default_client
from cockpit.connect.http import Api
from cockpit.errors import Unreachable
from tests.fakes import ScriptedConnector, ScriptOptions

TOKEN = "s3cret-token"


class Server:
    """One loopback HTTP server on a free port, recording every request it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []  # GETs
        self.posts: list[str] = []
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.big_chunks = 0  # /big streams this many 64 KiB chunks
        self.sent_chunks = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                owner.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.path == "/big":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for _ in range(owner.big_chunks):
                            chunk = b" " * 65536
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                            owner.sent_chunks += 1
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:  # the client hung up at its cap
                        pass
                    return
                status, headers, body = owner.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                owner.posts.append(self.path)
                status, headers, body = owner.routes.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    @contextmanager
    def running(self) -> Iterator[Server]:
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


@contextmanager
def two_servers() -> Iterator[tuple[Server, Server]]:
    with Server().running() as origin, Server().running() as elsewhere:
        yield origin, elsewhere


def api(client: httpx.AsyncClient, base: str) -> Api:
    return Api(
        client, base, headers={"Authorization": f"Bearer {TOKEN}"}, name="t", secrets=(TOKEN,)
    )


def page(next_url: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Link": f'<{next_url}>; rel="next"'}, json.dumps([1]).encode()


@pytest.mark.parametrize("where", ["port", "host", "scheme"])
async def test_pagination_link_to_another_origin_is_refused_and_never_gets_the_token(
    where: str,
) -> None:
    with two_servers() as (origin, elsewhere):
        target = {
            "port": f"{elsewhere.url}/items?page=2",
            "host": f"http://localhost:{origin.port}/items?page=2",
            "scheme": f"https://127.0.0.1:{origin.port}/items?page=2",
        }[where]
        origin.routes["/items"] = page(target)
        async with httpx.AsyncClient() as client:
            with pytest.raises(Unreachable) as info:
                await api(client, origin.url).collect("/items")
        named = target.split("/items")[0]
        assert named in str(info.value) and TOKEN not in str(info.value)
        assert elsewhere.seen == []
        assert [path for path, _ in origin.seen] == ["/items"], "nothing sent to the other origin"


async def test_same_origin_pagination_is_still_followed() -> None:
    with two_servers() as (origin, _):
        origin.routes["/items"] = page(f"{origin.url}/items?page=2")
        origin.routes["/items?page=2"] = (200, {}, b"[2]")
        async with httpx.AsyncClient() as client:
            assert await api(client, origin.url).collect("/items") == [1, 2]


@pytest.mark.parametrize("follow", [False, True])
async def test_a_redirect_to_another_origin_is_refused_and_never_gets_the_token(
    follow: bool,
) -> None:
    with two_servers() as (origin, elsewhere):
        origin.routes["/items"] = (302, {"Location": f"{elsewhere.url}/steal"}, b"")
        async with httpx.AsyncClient(follow_redirects=follow) as client:
            with pytest.raises(Unreachable, match=f"127.0.0.1:{elsewhere.port}"):
                await api(client, origin.url).get("/items")
        assert elsewhere.seen == []


async def test_a_same_origin_redirect_is_followed_with_the_token() -> None:
    with two_servers() as (origin, _):
        origin.routes["/old"] = (301, {"Location": "/new"}, b"")
        origin.routes["/new"] = (200, {}, b'{"ok": true}')
        async with httpx.AsyncClient() as client:
            assert await api(client, origin.url).get("/old") == {"ok": True}
        assert origin.seen[-1][1]["authorization"] == f"Bearer {TOKEN}"


async def test_a_303_after_a_post_fetches_the_result_and_never_posts_twice() -> None:
    """An action POSTed to a server that answers "see other" must not be sent again to the
    new location (a second approval, a second rollback): it is read with GET."""
    with two_servers() as (origin, _):
        origin.routes["/act"] = (303, {"Location": "/result"}, b"")
        origin.routes["/result"] = (200, {}, b'{"done": true}')
        async with httpx.AsyncClient() as client:
            answer = await api(client, origin.url).request("POST", "/act", json_body={"x": 1})
        assert origin.posts == ["/act"]
        assert [path for path, _ in origin.seen] == ["/result"]
        assert answer.body == {"done": True}


def spec(limit: int | None = None) -> ConnectorSpec:
    s = ConnectorSpec("t", "scripted", ScriptedConnector, ScriptOptions(), 10, 5, 30)
    return s if limit is None else replace(s, max_response_bytes=limit)


async def test_a_body_over_the_cap_is_refused_while_it_streams() -> None:
    assert spec().max_response_bytes == DEFAULT_MAX_RESPONSE_BYTES == 32 * 1024 * 1024
    with two_servers() as (origin, _):
        origin.big_chunks = 800  # 50 MiB, against a 256 KiB cap
        async with default_client(spec(256 * 1024)) as client:
            with pytest.raises(Unreachable, match="larger than 256 KiB") as info:
                await api(client, origin.url).get("/big")
        assert "max_response_bytes" in str(info.value)
        assert origin.sent_chunks < 800, "the client stopped reading at the cap"


async def test_a_declared_length_over_the_cap_is_refused_before_the_body() -> None:
    with two_servers() as (origin, _):
        origin.routes["/items"] = (200, {}, b"[" + b"1," * 2000 + b"1]")
        async with default_client(spec(1024)) as client:
            with pytest.raises(Unreachable, match="larger than 1 KiB"):
                await api(client, origin.url).get("/items")
        async with default_client(spec()) as client:
            assert len(await api(client, origin.url).get("/items")) == 2001


def test_the_hub_tells_each_connector_its_configured_cap() -> None:
    from cockpit.clock import FixedClock
    from cockpit.fleet.hub import Hub
    from tests.fakes import T0

    hub = Hub([spec(4096), replace(spec(), name="u")], [], clock=FixedClock(T0))
    hub.open()
    capped, default = hub.connector("t"), hub.connector("u")
    assert capped is not None and default is not None
    assert (capped.max_response_bytes, default.max_response_bytes) == (4096, 32 * 1024 * 1024)
