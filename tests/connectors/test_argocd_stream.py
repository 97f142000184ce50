"""The application stream: SSE framing, live updates, a dropped connection, fallback, resync."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from cockpit.clock import FixedClock
from cockpit.connect.options import parse, secrets_of
from cockpit.errors import Unauthorized, Unreachable
from cockpit.model import Health, Status
from connectors.argocd import ArgoCDConnector, ArgoCDOptions
from connectors.argocd.stream import decode, messages
from tests.fixtures.argocd.fake import (
    FIXTURES,
    PASSWORD,
    TOKEN,
    USER,
    FakeArgoCD,
    Feed,
    Hold,
)

ENV = {"ARGOCD_TOKEN": TOKEN, "ARGOCD_PASSWORD": PASSWORD}
OPTIONS = {
    "url": "https://argocd.example.com",
    "token": "env:ARGOCD_TOKEN",
    "projects": ["shop", "data"],
}


async def lines_of(text: str) -> AsyncIterator[str]:
    for line in text.splitlines():
        yield line


async def collect(text: str) -> list[str]:
    return [m async for m in messages(lines_of(text))]


async def test_sse_framing_skips_keepalives_and_empty_events() -> None:
    recorded = (FIXTURES / "stream.sse").read_text()
    events = [decode(m, "argocd") for m in await collect(recorded)]
    assert [(kind, app["metadata"]["name"]) for kind, app in events] == [
        ("ADDED", "shop-prod"),
        ("ADDED", "shop-staging"),
        ("MODIFIED", "shop-staging"),
        ("DELETED", "reports-staging"),
    ]
    assert await collect(":\n\n:\n\n\n") == []
    # SSE allows a message over several data lines, "data:" without a space, other fields.
    assert await collect('event: message\ndata:{"a":\ndata: 1}\nid: 7\n\n') == ['{"a":\n1}']
    assert await collect('data: {"unterminated": true}') == []  # cut off before its end


def test_stream_messages_decode_or_fail_as_connector_errors() -> None:
    kind, app = decode('{"result":{"type":"MODIFIED","application":{"metadata":{}}}} ', "a")
    assert (kind, app) == ("MODIFIED", {"metadata": {}})
    with pytest.raises(Unauthorized, match="stream ended: token is expired"):
        decode('{"error":{"grpc_code":16,"http_code":401,"message":"token is expired"}}', "a")
    with pytest.raises(Unreachable, match="stream ended: transport is closing"):
        decode('{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing"}}', "a")
    with pytest.raises(Unreachable, match="malformed event"):
        decode('{"result": {"type": "MODIFIED", "applic', "a")
    with pytest.raises(Unreachable, match="without an application"):
        decode('{"result": {"type": "MODIFIED"}}', "a")


class Harness:
    """A streaming connector on the fake, with its wake-ups and reconnect waits visible."""

    def __init__(self, fake: FakeArgoCD, **over: Any) -> None:
        self.fake = fake
        options = parse(ArgoCDOptions, {**OPTIONS, **over}, env=ENV)
        for secret in secrets_of(options):
            secret.resolve(ENV)
        self.client = httpx.AsyncClient(transport=fake.transport())
        clock = FixedClock(datetime(2026, 8, 24, 9, 31, tzinfo=UTC))
        self.connector = ArgoCDConnector("argocd", options, client=self.client, clock=clock)
        self.woken: asyncio.Queue[None] = asyncio.Queue()
        self.connector._on_change = lambda: self.woken.put_nowait(None)  # as the hub wires it
        self.delays: list[float] = []
        self.sleeping: asyncio.Queue[float] = asyncio.Queue()
        self.gate = asyncio.Event()
        assert self.connector.apps.stream is not None
        self.stream = self.connector.apps.stream
        self.stream.sleep = self._sleep

    async def _sleep(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.sleeping.put_nowait(seconds)
        await self.gate.wait()
        self.gate.clear()

    async def wake(self) -> None:
        """The connector asked the hub to poll (bounded wait: a hang fails the test)."""
        await asyncio.wait_for(self.woken.get(), 5)

    async def settle(self) -> None:
        while not self.woken.empty():
            self.woken.get_nowait()

    async def connected(self) -> Feed:
        feed = await self.fake.next_stream()
        await self.wake()  # the stream came up
        return feed

    async def close(self) -> None:
        await self.connector.aclose()
        await self.client.aclose()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness(FakeArgoCD())
    yield h
    await h.close()


def app(fake: FakeArgoCD, name: str) -> dict[str, Any]:
    return copy.deepcopy(fake.apps[name])


async def test_events_update_the_cache_without_listing(harness: Harness) -> None:
    h, fake, connector = harness, harness.fake, harness.connector
    first = await connector.poll()
    assert connector.apps.lists == 1
    feed = await h.connected()
    await connector.poll()  # the stream came up after the list: resync once
    assert connector.apps.lists == 2
    await connector.poll()
    assert connector.apps.lists == 2  # from now on the stream is the source

    (stream,) = fake.seen("GET", "/api/v1/stream/applications")
    assert stream.headers["accept"] == "text/event-stream"
    assert stream.headers["authorization"] == f"Bearer {TOKEN}"
    assert stream.params == {"projects": ["shop", "data"]}

    staging = app(fake, "shop-staging")
    staging["metadata"]["resourceVersion"] = "8812190"
    staging["status"]["health"] = {"status": "Healthy"}
    staging["status"]["operationState"].update(phase="Succeeded", finishedAt="2026-08-24T09:31:00Z")
    staging["status"]["summary"]["images"] = ["registry.example.com/acme/web:2.4.0"]
    feed.keepalive()
    feed.event("MODIFIED", staging)
    feed.keepalive()
    await h.wake()
    feed.event("DELETED", app(fake, "reports-staging"))
    await h.wake()
    obs = await connector.poll()
    assert connector.apps.lists == 2
    deployments = {d.remote_id: d for d in obs.deployments}
    assert (deployments["shop-staging"].version, deployments["shop-staging"].health) == (
        "2.4.0",
        Health.HEALTHY,
    )
    assert deployments["shop-staging"].status is Status.SUCCEEDED
    assert "reports-staging" not in deployments
    assert {r.service for r in obs.drift} == {"shop", "batch"}  # reports' drift left with it
    before = {d.remote_id: d for d in first.deployments}
    # Listed again, the same facts keep the same object: the hub sees no change there.
    assert deployments["shop-prod"] is before["shop-prod"]


async def test_a_dropped_stream_falls_back_to_listing_then_reconnects(harness: Harness) -> None:
    h, fake, connector = harness, harness.fake, harness.connector
    await connector.poll()
    feed = await h.connected()
    await connector.poll()
    lists = connector.apps.lists
    feed.event("MODIFIED", app(fake, "shop-prod"))
    await h.wake()
    feed.drop()
    await h.wake()  # the stream went down: poll now
    assert not h.stream.live and "RemoteProtocolError" in h.stream.error
    await connector.poll()
    await connector.poll()
    assert connector.apps.lists == lists + 2  # while down, every poll lists
    assert len(h.delays) == 1 and 0.5 <= h.delays[0] <= 1.0  # it had events: short backoff

    h.gate.set()  # the backoff is over
    feed = await h.connected()
    assert h.stream.connects == 2
    await connector.poll()
    assert connector.apps.lists == lists + 3  # once more, for what the gap may have hidden
    await connector.poll()
    assert connector.apps.lists == lists + 3


async def test_a_stream_that_keeps_failing_backs_off_longer(harness: Harness) -> None:
    h, fake, connector = harness, harness.fake, harness.connector
    reached = asyncio.Event()

    async def record(seconds: float) -> None:
        h.delays.append(seconds)
        if len(h.delays) == 4:
            reached.set()
            await asyncio.Event().wait()  # no fifth attempt in this test

    h.stream.sleep = record
    fake.fail("/api/v1/stream/applications", 503, 503, 503)
    await connector.poll()
    feed = await fake.next_stream()  # the fourth attempt gets through...
    feed.close()  # ...and is closed without a single event
    await asyncio.wait_for(reached.wait(), 5)
    for i, delay in enumerate(h.delays):
        assert 0.5 * 2**i <= delay <= 2**i, h.delays
    assert h.stream.error == "closed by the server"
    assert len(fake.seen("GET", "/api/v1/stream/applications")) == 4


async def test_events_during_a_list_win_over_it() -> None:
    fake = FakeArgoCD()
    h = Harness(fake)
    try:
        await h.connector.poll()
        feed = await h.connected()
        hold = fake.holds["/api/v1/applications"] = Hold()
        poll = asyncio.create_task(h.connector.poll())  # the resync list, held by the fake
        await asyncio.wait_for(hold.arrived.wait(), 5)
        prod = app(fake, "shop-prod")
        prod["status"]["health"] = {"status": "Degraded"}
        feed.event("MODIFIED", prod)
        feed.event("DELETED", app(fake, "batch-dev"))
        await h.wake()
        await h.wake()
        hold.release.set()
        obs = await asyncio.wait_for(poll, 5)
        deployments = {d.remote_id: d for d in obs.deployments}
        assert deployments["shop-prod"].health is Health.DEGRADED
        assert "batch-dev" not in deployments
    finally:
        await h.close()


async def test_a_stream_refused_for_an_expired_session_logs_in_again() -> None:
    fake = FakeArgoCD()
    h = Harness(fake, token=None, username=USER, password="env:ARGOCD_PASSWORD")
    try:
        await h.connector.poll()
        feed = await h.connected()
        fake.tokens.clear()  # every session expired
        feed.drop()
        await asyncio.wait_for(h.sleeping.get(), 5)
        h.gate.set()  # first reconnect: 401, then a login, then the backoff
        await asyncio.wait_for(h.sleeping.get(), 5)
        assert fake.sessions == 2
        h.gate.set()
        await fake.next_stream()
        streams = fake.seen("GET", "/api/v1/stream/applications")
        bearers = [s.headers["authorization"] for s in streams]
        assert bearers[-1] == "Bearer eyJhbGciOiJIUzI1NiJ9.session-2.sig"
    finally:
        await h.close()


async def test_a_terminal_error_event_reconnects(harness: Harness) -> None:
    h, connector = harness, harness.connector
    await connector.poll()
    feed = await h.connected()
    feed.send('data: {"error":{"grpc_code":14,"http_code":503,"message":"shutting down"}} \n\n')
    await h.wake()
    assert "shutting down" in h.stream.error and not h.stream.live
    h.gate.set()
    await h.connected()
    assert h.stream.connects == 2


async def test_without_streaming_every_poll_lists() -> None:
    fake = FakeArgoCD()
    options = parse(ArgoCDOptions, {**OPTIONS, "stream": False}, env=ENV)
    for secret in secrets_of(options):
        secret.resolve(ENV)
    clock = FixedClock(datetime(2026, 8, 24, 9, 31, tzinfo=UTC))
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        connector = ArgoCDConnector("argocd", options, client=client, clock=clock)
        await connector.poll()
        await connector.poll()
        await connector.aclose()
    assert connector.apps.lists == 2 and connector.apps.stream is None
    assert fake.seen("GET", "/api/v1/stream/applications") == []


async def test_a_rate_limited_stream_waits_for_retry_after_before_reconnecting(
    harness: Harness,
) -> None:
    h, fake, connector = harness, harness.fake, harness.connector
    limited = (429, "too many requests", {"Retry-After": "20"})
    fake.fail("/api/v1/stream/applications", limited, limited)
    await connector.poll()
    first = await asyncio.wait_for(h.sleeping.get(), 5)
    assert "rate limited; retry in 20s" in h.stream.error
    assert first >= 20  # not the 0.5-1 s of a first plain failure
    h.gate.set()
    second = await asyncio.wait_for(h.sleeping.get(), 5)
    assert second >= 20
    h.gate.set()
    await h.connected()
    # Two refusals, then the connection: never four attempts in ten seconds.
    assert len(fake.seen("GET", "/api/v1/stream/applications")) == 3


async def test_a_401_from_rest_while_the_stream_is_up_fails_the_source_at_once(
    harness: Harness,
) -> None:
    h, fake, connector = harness, harness.fake, harness.connector
    await connector.poll()
    await h.connected()
    obs = await connector.poll()  # the stream is live: this poll sent no REST request
    await h.settle()
    fake.tokens.clear()  # the token is revoked; the open stream does not notice
    from cockpit.model import Action, ActionKind

    deployment = obs.deployments[0]
    action = Action(ActionKind.SYNC, deployment.service, deployment.environment, source="argocd")
    with pytest.raises(Unauthorized):
        await connector.execute(action)
    await h.wake()  # the connector asked the hub to poll now, not in 90 s
    with pytest.raises(Unauthorized, match="refused the token"):
        await connector.poll()


async def test_ctrl_r_ends_the_stream_reconnect_backoff_and_reopens_at_once() -> None:
    """The operator's refresh reaches the stream too: a reconnect waiting out its backoff
    (minutes, after many failures) opens again now, as the Kubernetes watch does."""
    h = Harness(FakeArgoCD())
    h.stream.sleep = h.stream.backoff.sleep  # the real wait, as in production
    h.stream.backoff.attempt = 8  # many failures behind it: the next wait is minutes
    try:
        h.fake.fail("/api/v1/stream/applications", 503)
        await h.connector.poll()
        for _ in range(200):  # until the failed attempt is waiting out its backoff
            if h.stream.backoff.attempt == 9:
                break
            await asyncio.sleep(0)
        assert h.stream.backoff.attempt == 9
        h.connector.retry_now()
        feed = await asyncio.wait_for(h.fake.next_stream(), 5)  # not minutes later
        feed.close()
        assert len(h.fake.seen("GET", "/api/v1/stream/applications")) == 2
    finally:
        await h.close()
