"""The team store's LISTEN: approval events reach the two-person source at once, anything
else does not, and a lost connection is shown and retried, never raised into the app."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from cockpit.actions.twoperson import TWO_PERSON_SOURCE
from cockpit.backoff import Backoff
from cockpit.clock import SystemClock
from cockpit.controller.github_gate import GATE_SOURCE
from cockpit.errors import Unreachable
from cockpit.team.connect import connect_async
from cockpit.team.listen import (
    CHANNEL,
    LIVE_SOURCE,
    Listener,
    LiveConnector,
    LiveOptions,
    concerns_approvals,
    sources_to_poke,
)
from cockpit.team.store_config import StoreConfig
from tests.team.kit import store_for, until


class Pokes:
    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, name: str) -> None:
        self.names.append(name)


def notify(url: str, event_type: str | None, raw: str | None = None) -> None:
    payload = (
        raw
        if raw is not None
        else json.dumps({"seq": 1, "event_type": event_type, "request_id": "r1"})
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def now() -> datetime:
    return datetime.now(UTC)


def test_which_events_concern_the_approvals_view() -> None:
    def payload(kind: str) -> str:
        return json.dumps({"seq": 3, "event_type": kind, "request_id": "x"})

    for kind in ("approval.pending", "approval.granted", "approval.rejected", "action.requested"):
        assert concerns_approvals(payload(kind))
    assert not concerns_approvals(payload("app.start"))
    assert not concerns_approvals(payload("audit.read"))
    # Nothing to tell which event it was: one more read beats a missed request.
    assert concerns_approvals("not json")
    assert concerns_approvals(json.dumps({"seq": 3}))
    # A protection-rule request filed, decided or answered refreshes the gate's queue alone.
    assert sources_to_poke(payload("gate.requested")) == (GATE_SOURCE,)
    assert sources_to_poke(payload("approval.granted")) == (TWO_PERSON_SOURCE,)
    assert sources_to_poke("not json") == (TWO_PERSON_SOURCE, GATE_SOURCE)
    assert sources_to_poke(payload("app.start")) == ()


async def test_an_approval_notification_pokes_the_two_person_source_at_once(pg_url: str) -> None:
    store = store_for(pg_url)
    pokes = Pokes()
    listener = Listener(lambda: connect_async(store, autocommit=True), pokes, now=now)
    task = asyncio.create_task(listener.run())
    try:
        await until(lambda: listener.state.connected, 10, "listening")
        # A read of each queue after connecting: nothing sent meanwhile is missed.
        assert pokes.names == [TWO_PERSON_SOURCE, GATE_SOURCE]
        await asyncio.to_thread(notify, pg_url, "app.start")
        await asyncio.to_thread(notify, pg_url, "approval.pending")
        took = await until(lambda: len(pokes.names) == 3, 2, "the pending request's poke")
        assert took < 1.0
        await until(lambda: listener.state.notifications == 2, 2, "both notifications read")
        assert pokes.names[2:] == [TWO_PERSON_SOURCE]  # app.start poked nobody
        await asyncio.to_thread(notify, pg_url, "gate.requested")
        await until(lambda: len(pokes.names) == 4, 2, "the gate request's poke")
        assert pokes.names[3:] == [GATE_SOURCE]
        await asyncio.to_thread(notify, pg_url, None, raw="{garbled")
        await until(lambda: len(pokes.names) == 6, 2, "an unreadable payload's pokes")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_killed_connection_is_shown_then_listening_resumes(pg_url: str) -> None:
    store = store_for(pg_url)
    pokes = Pokes()
    pids: list[int] = []
    states: list[tuple[bool, str]] = []

    async def connect() -> Any:
        conn = await connect_async(store, autocommit=True)
        pids.append(conn.info.backend_pid)
        return conn

    listener = Listener(
        connect,
        pokes,
        now=now,
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
        on_state=lambda: states.append((listener.state.connected, listener.state.error)),
    )
    task = asyncio.create_task(listener.run())
    try:
        await until(lambda: listener.state.connected, 10, "listening")
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pids[0],))
        await until(lambda: not listener.state.connected, 5, "the loss noticed")
        assert listener.state.error  # why, for the team-store source
        await until(lambda: listener.state.connected, 5, "reconnected")
        assert len(pids) == 2 and listener.state.reconnects == 1
        assert [c for c, _ in states] == [True, False, True]
        assert pokes.names == [TWO_PERSON_SOURCE, GATE_SOURCE] * 2  # a read after each connect
        await asyncio.to_thread(notify, pg_url, "approval.granted")
        await until(lambda: len(pokes.names) == 5, 2, "a poke on the new connection")
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_an_unreachable_store_is_a_source_problem_with_no_secret(
    unused_tcp_port: int,
) -> None:
    from cockpit.connect.option_values import Secret

    secret = Secret("env:PW")
    secret.resolve({"PW": "hunter2-very-secret"})
    store = StoreConfig(
        url=f"postgresql://alice@127.0.0.1:{unused_tcp_port}/cockpit", password=secret
    )

    class Hub:
        clock = SystemClock()

        def poke(self, name: str | None = None) -> None:
            pass

    options = LiveOptions(lambda: connect_async(store, autocommit=True), Hub())
    connector = LiveConnector(LIVE_SOURCE, options, client=None, clock=SystemClock())
    try:
        with pytest.raises(Unreachable) as raised:
            await asyncio.wait_for(connector.poll(), 10)
        text = str(raised.value)
        assert "live updates from other cockpits lost" in text
        assert f"127.0.0.1:{unused_tcp_port}/cockpit" in text
        assert "hunter2" not in text
        assert connector._task is not None and not connector._task.done()  # retrying
    finally:
        await connector.aclose()
    assert connector._task is None


async def test_a_lost_store_is_the_team_store_sources_problem_and_the_rest_runs_on(
    unused_tcp_port: int, tmp_path: Any
) -> None:
    from dataclasses import replace

    from cockpit import config
    from cockpit.wiring import wire_hub

    store = StoreConfig(url=f"postgresql://alice@127.0.0.1:{unused_tcp_port}/cockpit")
    settings = replace(
        config.load(None, seed=7, scale=3, env={}),
        store=store,
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    hub, journal = wire_hub(settings, clock=SystemClock())
    await hub.start()
    try:

        def failing() -> bool:
            state = hub.snapshot.sources.get(LIVE_SOURCE)
            return state is not None and state.ok is False

        await until(failing, 15, "the team-store source failing")
        await until(lambda: bool(hub.snapshot.services), 15, "the demo's facts")
        problem = hub.snapshot.sources[LIVE_SOURCE].problem(now())
        assert problem.startswith("team-store failing")
        assert "live updates from other cockpits lost" in problem
        assert hub.snapshot.sources["demo"].ok
    finally:
        await hub.stop()
        journal.close()


class FreezingProxy:
    """A loopback TCP proxy to PostgreSQL that can stop passing bytes without closing
    anything: a peer gone dark (a dropped VPN, a suspended laptop's NAT), no RST."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.frozen = False
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                if self.frozen:
                    return  # swallowed, and nothing more is read: dark, not closed
                dst.write(data)
                await dst.drain()

        frozen_at_start = self.frozen
        if not frozen_at_start:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        for w in self._writers:
            w.close()
        if self._server is not None:
            self._server.close()


async def test_a_peer_gone_dark_is_noticed_by_the_probe_and_listening_resumes(
    pg_server: Any, pg_url: str
) -> None:
    proxy = FreezingProxy(pg_server.port)
    await proxy.start()
    store = store_for(pg_url)
    via_proxy = StoreConfig(
        url=store.url.replace(f":{pg_server.port}/", f":{proxy.port}/"), password=store.password
    )
    pokes = Pokes()
    listener = Listener(
        lambda: connect_async(via_proxy, autocommit=True),
        pokes,
        now=now,
        backoff=Backoff(0.05, 0.2, rng=random.Random(1)),
        heartbeat=0.3,
        probe_timeout=0.5,
    )
    task = asyncio.create_task(listener.run())
    try:
        await until(lambda: listener.state.connected, 10, "listening")
        proxy.frozen = True
        await until(lambda: not listener.state.connected, 5, "the dark peer noticed")
        assert "did not answer a probe within 0.5s" in listener.state.error
        proxy.frozen = False  # the network is back: new connections pass again
        await until(lambda: listener.state.connected, 10, "listening again")
        await asyncio.to_thread(notify, pg_url, "approval.pending")
        await until(lambda: len(pokes.names) == 5, 5, "a poke on the new connection")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await proxy.close()
