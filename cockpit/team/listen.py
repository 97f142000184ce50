"""Live across hosts: LISTEN on the team store, so another cockpit's request shows at once.

Every append to the team store's audit log sends `NOTIFY cockpit_audit` in its own
transaction (payload `{"seq", "event_type", "request_id"}`), so the notification arrives
only once the record is committed and readable. The listener holds one autocommit
connection with `LISTEN cockpit_audit` and, for the events that open, answer or close a
two-person request, pokes the hub's two-person source: its next read of the log (at once)
brings the Approvals view up to date, typically within a few tens of milliseconds, with no
polling. Any other cockpit's approval reaches this screen the same way.

The connection is watched, not trusted: it is probed every `HEARTBEAT` seconds, a lost or
refused connection is retried with the project's jittered backoff, and what went wrong is
shown as the `team-store` source's problem (the sources panel, the status bar), never
raised into the app. After each (re)connect the two-person source is read once, since a
notification sent while nobody listened is gone.

psycopg is imported only when the listener connects, never at start-up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cockpit.actions.twoperson import TWO_PERSON_SOURCE
from cockpit.backoff import Backoff
from cockpit.connector import Connector
from cockpit.controller.github_gate import GATE_SOURCE
from cockpit.errors import Unreachable
from cockpit.model import Observation
from cockpit.sanitize import clean

if TYPE_CHECKING:
    from cockpit.config import ConnectorSpec, Settings
    from cockpit.fleet.hub import Hub

log = logging.getLogger(__name__)

CHANNEL = "cockpit_audit"
LIVE_SOURCE = "team-store"  # the source that shows the listener's health
HEARTBEAT = 15.0  # seconds without a notification before the connection is probed
PROBE_TIMEOUT = 5.0  # a probe unanswered this long: the connection is treated as lost
RETRY_BASE = 1.0  # first reconnect after about a second, doubling up to RETRY_CAP
RETRY_CAP = 30.0
# The events that open, answer or close a two-person request (cockpit.actions.twoperson).
APPROVAL_EVENTS = frozenset(
    {
        "approval.pending",
        "approval.granted",
        "approval.rejected",
        "action.requested",
        "action.refused",
    }
)

Connect = Callable[[], Awaitable[Any]]  # -> psycopg.AsyncConnection (autocommit)
Poke = Callable[[str], None]
APPROVAL_SOURCES = (TWO_PERSON_SOURCE, GATE_SOURCE)


def sources_to_poke(payload: str) -> tuple[str, ...]:
    """The approvals sources this notification concerns: the two-person queue for its
    events, the GitHub gate's queue for `gate.*` ones (a protection-rule request filed by the
    controller, answered or decided), none for the rest.

    A payload that cannot be read says nothing about which event it was: refreshing once too
    often costs one read of the log, missing a request costs the request.
    """
    try:
        data = json.loads(payload)
    except ValueError:
        return APPROVAL_SOURCES
    if not isinstance(data, dict) or not isinstance(data.get("event_type"), str):
        return APPROVAL_SOURCES
    kind = data["event_type"]
    if kind in APPROVAL_EVENTS:
        return (TWO_PERSON_SOURCE,)
    if kind.startswith("gate."):
        return (GATE_SOURCE,)
    return ()


def concerns_approvals(payload: str) -> bool:
    """Should this notification refresh an Approvals source?"""
    return bool(sources_to_poke(payload))


@dataclass
class ListenerState:
    """What the listener is doing, for the `team-store` source and for tests."""

    connected: bool = False
    error: str = ""  # why it is not connected (cleaned, no secrets), "" while connected
    since: datetime | None = None  # connected since
    notifications: int = 0
    reconnects: int = 0
    waiters: list[asyncio.Event] = field(default_factory=list, repr=False)


class Listener:
    """LISTEN cockpit_audit on one connection, for as long as `run()` runs; never raises
    out of `run()` but for its cancellation."""

    def __init__(
        self,
        connect: Connect,
        poke: Poke,
        *,
        now: Callable[[], datetime],
        backoff: Backoff | None = None,
        on_state: Callable[[], None] = lambda: None,
        heartbeat: float = HEARTBEAT,
        probe_timeout: float = PROBE_TIMEOUT,
    ) -> None:
        self._connect = connect
        self._poke = poke
        self._now = now
        self.backoff = backoff or Backoff(RETRY_BASE, RETRY_CAP)
        self._on_state = on_state
        self.heartbeat = heartbeat
        self.probe_timeout = probe_timeout
        self.state = ListenerState()

    async def run(self) -> None:
        while True:
            try:
                await self._session()
                why = "the team store closed the connection"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, dropped, timed out: all shown, all retried
                why = _describe(exc)
            self._set(False, why)
            delay = self.backoff.failed()
            log.warning("team store LISTEN: %s (retry in %.0fs)", why, delay)
            await self.backoff.sleep(delay)

    def retry_now(self) -> None:
        self.backoff.retry_now()

    async def _session(self) -> None:
        conn = await self._connect()
        try:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.backoff.succeeded()
            self._set(True, "")
            for source in APPROVAL_SOURCES:  # what was sent while nobody listened
                self._poke(source)
            while True:
                async for note in conn.notifies(timeout=self.heartbeat):
                    self.state.notifications += 1
                    for source in sources_to_poke(note.payload):
                        self._poke(source)
                # Quiet for a while: a dead peer sends no RST, so ask.
                await self._probe(conn)
        finally:
            try:
                async with asyncio.timeout(2):
                    await conn.close()
            except (Exception, TimeoutError):  # closing a dead connection: nothing to save
                pass

    async def _probe(self, conn: Any) -> None:
        """`SELECT 1`, answered within `probe_timeout` or the connection is given up.

        Not by cancelling the query: psycopg would then send a cancel request and wait for
        it (up to 10 s), through the same dark network. The connection is closed first, so
        the abandoned query ends at once."""
        probe = asyncio.ensure_future(conn.execute("SELECT 1"))
        done, _ = await asyncio.wait({probe}, timeout=self.probe_timeout)
        if not done:
            await conn.close()
            probe.cancel()
            await asyncio.gather(probe, return_exceptions=True)
            raise ProbeUnanswered(self.probe_timeout)
        probe.result()

    def _set(self, connected: bool, error: str) -> None:
        state = self.state
        if connected:
            if state.since is not None:
                state.reconnects += 1
            state.since = self._now()
        elif not state.connected and state.error == error:
            return  # still down for the same reason: nothing new to show
        state.connected, state.error = connected, error
        for waiter in state.waiters:
            waiter.set()
        try:
            self._on_state()
        except Exception:  # the hub's wake-up must not stop listening
            log.exception("team store listener: state callback failed")


class ProbeUnanswered(Exception):
    def __str__(self) -> str:
        return f"the team store did not answer a probe within {self.args[0]:g}s"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ProbeUnanswered):
        return str(exc)
    # AuditError from cockpit.team.connect is already scrubbed of the password; psycopg's
    # own errors after connecting carry no conninfo.
    return clean(f"{type(exc).__name__}: {exc}", limit=300)


def store_connector(settings: Settings) -> Connect:
    """Connect to the configured team store, autocommit (LISTEN needs no transaction)."""
    store = settings.store
    if store is None:
        raise ValueError("no store: section, so there is no team store to listen to")

    async def connect() -> Any:
        from cockpit.team.connect import connect_async

        return await connect_async(store, autocommit=True)

    return connect


def start_listener(
    settings: Settings, hub: Hub, *, connect: Connect | None = None
) -> tuple[asyncio.Task[None], Listener]:
    """Listen for the hub built outside `cockpit.wiring.wire_hub` (which adds the
    `team-store` source, and with it this listener, itself in team mode).

    The task runs until cancelled; cancel it (and await it) when the hub stops.
    """
    listener = Listener(connect or store_connector(settings), hub.poke, now=hub.clock.now)
    task = asyncio.create_task(listener.run(), name="listen:team-store")
    return task, listener


# The `team-store` source -------------------------------------------------------------------
@dataclass
class LiveOptions:
    connect: Connect | None = None  # set by the wiring, not from config
    hub: Any = None  # the Hub to poke; set right after it is built


class LiveConnector(Connector):
    """Shows the listener's health as a source; runs the listener while the hub polls.

    It reports no facts. Its poll fails, with the listener's reason, while the connection is
    down: the sources panel and the status bar then say that other cockpits' requests
    reach this one only through the slow fallback poll of the two-person source.
    """

    USES_HTTP = False
    DESCRIPTION = "The team store's live notifications (built in, team mode)"
    Options = LiveOptions

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.listener: Listener | None = None
        self._task: asyncio.Task[None] | None = None

    def _start(self) -> Listener:
        options: LiveOptions = self.options
        if options.connect is None or options.hub is None:
            raise Unreachable("the team store listener is not wired")
        hub = options.hub
        listener = Listener(options.connect, hub.poke, now=self.clock.now, on_state=self.changed)
        self._task = asyncio.create_task(listener.run(), name=f"listen:{self.name}")
        self.listener = listener
        return listener

    async def poll(self) -> Observation:
        listener = self.listener
        if listener is None:
            if not self.live:  # a one-shot command listens to nobody
                return Observation(source=self.name, observed_at=self.clock.now())
            listener = self._start()
            waiter = asyncio.Event()
            listener.state.waiters.append(waiter)
            try:  # the first answer, within the hub's timeout for this source
                await waiter.wait()
            finally:
                listener.state.waiters.remove(waiter)
        state = listener.state
        if not state.connected:
            raise Unreachable(
                f"live updates from other cockpits lost: {state.error or 'not connected yet'}"
            )
        return Observation(source=self.name, observed_at=self.clock.now())

    def retry_now(self) -> None:
        if self.listener is not None:
            self.listener.retry_now()

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def live_spec(settings: Settings, *, connect: Connect | None = None) -> ConnectorSpec:
    """The `team-store` source for `wire_hub`; set `.options.hub` once the hub exists."""
    from cockpit.config import ConnectorSpec

    options = LiveOptions(connect or store_connector(settings))
    # Polled (without I/O) every 5 s to show the state; a change of state wakes it at once.
    return ConnectorSpec(LIVE_SOURCE, "team-store", LiveConnector, options, 5.0, 10.0, 30.0)
