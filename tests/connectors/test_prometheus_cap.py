"""The Prometheus connector reads through requests, which has no body cap: ours applies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cockpit.errors import Unreachable
from connectors.prometheus.client import Queries

SMALL = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1764126000, "1"]}]},
}
# A well-formed answer padded past the cap, sent chunked (no Content-Length to trust).
HUGE = json.dumps({**SMALL, "padding": "x" * (2 << 20)}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = HUGE if "huge" in self.path else json.dumps(SMALL).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 65536):
            part = body[i : i + 65536]
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            except (BrokenPipeError, ConnectionResetError):
                return  # the client stopped reading at its cap
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


AT = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def test_a_body_past_the_cap_is_refused_not_read_whole(server: str) -> None:
    queries = Queries(server + "/huge", name="prom", timeout=5.0, max_response_bytes=1 << 20)
    try:
        with pytest.raises(Unreachable, match="larger than 1 MiB"):
            await queries.value("up", AT)
    finally:
        queries.close()


async def test_an_answer_within_the_cap_reads_as_before(server: str) -> None:
    queries = Queries(server, name="prom", timeout=5.0, max_response_bytes=1 << 20)
    try:
        assert await queries.value("up", AT) == 1.0
    finally:
        queries.close()


async def test_the_configured_cap_reaches_the_requests_session(server: str) -> None:
    """The hub sets the config's max_response_bytes on the connector after building it; the
    connector's own session reads the cap in force when each answer arrives."""
    from cockpit.clock import FixedClock
    from connectors.prometheus.connector import PrometheusConnector
    from connectors.prometheus.options import PrometheusOptions

    connector = PrometheusConnector(
        "prom", PrometheusOptions(url=server + "/huge"), client=None, clock=FixedClock(AT)
    )
    try:
        assert connector.queries.max_response_bytes == 32 * 1024 * 1024  # 2 MiB body fits
        connector.max_response_bytes = 1 << 20  # what the hub does with the config's value
        assert await connector.metrics() == []  # no canaries configured: nothing asked
        with pytest.raises(Unreachable, match="larger than 1 MiB"):
            await connector.queries.value("up", AT)
    finally:
        await connector.aclose()
