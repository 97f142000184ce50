"""The hub: one polling task per connector instance, merged into one fleet snapshot.

Each task polls, then re-arms its own one-shot wait, so polls of one connector never
overlap; each poll has its own timeout, and failures back off exponentially with jitter
(honouring a rate limit's retry-after). A slow or broken connector only ever delays itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import random
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from cockpit.backoff import Backoff
from cockpit.clock import Clock
from cockpit.config import ConnectorSpec
from cockpit.connect.client import ClientFactory, default_client
from cockpit.connect.plugins import shipped
from cockpit.connector import Capability, Connector, implemented
from cockpit.errors import ConnectorError, RateLimited
from cockpit.fleet.analysis import Analyst
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import Environment, Observation
from cockpit.sanitize import InertMemo, clean

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from cockpit.fleet.detail import LogTarget, ServiceDetail

log = logging.getLogger(__name__)

Listener = Callable[[FleetSnapshot], None]


@dataclass(eq=False)  # one per configured connector: compared by identity
class Instance:
    """One configured connector as the hub runs it: its client, backoff and poll task."""

    spec: ConnectorSpec
    connector: Connector
    client: httpx.AsyncClient | None
    backoff: Backoff
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    inert: InertMemo = field(default_factory=InertMemo)  # cleans what each poll brings new

    @property
    def failures(self) -> int:
        """Failed polls in a row: what the backoff counts."""
        return self.backoff.attempt


class Hub:
    """Owns the connector instances, their polling tasks and the current snapshot."""

    def __init__(
        self,
        specs: Sequence[ConnectorSpec],
        environments: Sequence[Environment],
        *,
        clock: Clock,
        client_factory: ClientFactory = default_client,
        rng: random.Random | None = None,
        analyst: Analyst | None = None,
        live: bool = True,
    ) -> None:
        self.clock = clock
        self.live = live  # False: one-shot refreshes, so connectors open no streams
        self.analyst = analyst or Analyst()
        self._merging = asyncio.Lock()
        self._framed = asyncio.Event()  # set while judging: the app's first frame is up
        self.judging = True  # the app holds judging back until its first frame is up
        self._specs = list(specs)
        self._client_factory = client_factory
        self._rng = rng or random.Random()
        self._instances: dict[str, Instance] = {}
        self._listeners: list[Listener] = []
        self.snapshot = FleetSnapshot.empty(environments, clock.now())
        self.problems: list[str] = []
        self._running = False
        # The digests worked out, and the count of artifact-moving publishes they hold for.
        self._artifacts: tuple[int, tuple[tuple[str, str, str], ...]] | None = None
        self._generation = 0

    @property
    def judging(self) -> bool:
        return self._framed.is_set()

    @judging.setter
    def judging(self, on: bool) -> None:
        """Off from the app's start until its first frame is painted: no verdicts, and no
        source that said it is incomplete polled again (its next part, e.g. the demo's
        history, would hold the event loop before the first frame)."""
        if on:
            self._framed.set()
        else:
            self._framed.clear()

    # Wiring ----------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def open(self) -> None:
        """Create the connector instances (no I/O). Idempotent."""
        if self._instances:
            return
        sources = dict(self.snapshot.sources)
        for spec in self._specs:
            client = None
            try:  # a CA file or client certificate that does not load stops this one only
                client = self._client_factory(spec) if spec.cls.USES_HTTP else None
                connector = spec.cls(spec.name, spec.options, client=client, clock=self.clock)
            except Exception as exc:  # a third party's constructor may fail in any way
                msg = f"connector {spec.name!r} failed to start: {type(exc).__name__}: {clean(exc)}"
                self.problems.append(msg)
                log.error(msg)
                continue
            connector._on_change = functools.partial(self.poke, spec.name)
            connector.live = self.live
            connector.max_response_bytes = spec.max_response_bytes
            self._instances[spec.name] = Instance(
                spec,
                connector,
                client,
                Backoff(spec.interval, rng=self._rng),
                inert=InertMemo(trust_hints=shipped(spec.cls)),  # see InertMemo
            )
            sources[spec.name] = SourceState(
                spec.name,
                spec.type,
                None,
                None,
                None,
                "",
                0,
                spec.stale_after,
                capabilities=_capabilities(spec),
            )
        self.snapshot = dataclasses.replace(self.snapshot, sources=MappingProxyType(sources))

    def connector(self, name: str) -> Connector | None:
        inst = self._instances.get(name)
        return inst.connector if inst else None

    # On-demand detail (cockpit.fleet.detail): asked for by a person, never polled -------------
    async def detail(self, service: str, environment: str) -> ServiceDetail | None:
        """The cell's pods view: from the source of its deployment first, then any other."""
        cell = self.snapshot.cell(service, environment)
        first = cell.deployment.source if cell.deployment is not None else ""
        for inst in sorted(self._instances.values(), key=lambda i: i.spec.name != first):
            if implemented(type(inst.connector), "detail"):
                found = await asyncio.wait_for(
                    inst.connector.detail(service, environment), inst.spec.timeout
                )
                if found is not None:
                    return found
        return None

    def logs(self, target: LogTarget, tail: int) -> AsyncIterator[str]:
        """Follow a pod's log through the connector that named the pod."""
        inst = self._instances.get(target.source)
        if inst is None:
            raise ConnectorError(f"no connector named {target.source!r}")
        return inst.connector.logs(target, tail)

    @property
    def names(self) -> list[str]:
        return list(self._instances)

    # Running ---------------------------------------------------------------
    async def start(self) -> None:
        self.open()
        self._running = True
        for inst in self._instances.values():
            inst.task = asyncio.create_task(self._loop(inst), name=f"poll:{inst.spec.name}")

    async def stop(self) -> None:
        self._running = False
        tasks = [i.task for i in self._instances.values() if i.task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for inst in self._instances.values():
            try:
                await asyncio.wait_for(inst.connector.aclose(), 2)
            except Exception as exc:  # closing must not hide the rest
                log.warning("closing %s: %s", inst.spec.name, exc)
            if inst.client is not None:
                await inst.client.aclose()

    async def first_data(self, wait: float) -> bool:
        """Wait until some connector has reported facts, at most `wait` seconds."""
        if self.snapshot.services:
            return True
        arrived = asyncio.Event()
        self._listeners.append(lambda snap: arrived.set() if snap.services else None)
        try:
            await asyncio.wait_for(arrived.wait(), wait)
        except TimeoutError:
            return False
        finally:
            self._listeners.pop()
        return True

    async def judge_now(self) -> None:
        """Judge whatever canaries wait for a verdict, without polling anyone."""
        async with self._merging:
            if self.analyst.pending(self.snapshot):
                self._publish(await asyncio.to_thread(self.analyst.apply, self.snapshot))

    def poke(self, name: str | None = None) -> None:
        """Poll now instead of waiting for the interval (after an action, on user request)."""
        for inst in self._instances.values():
            if name is None or inst.spec.name == name:
                inst.connector.retry_now()
                inst.wake.set()

    async def refresh(self, name: str | None = None) -> FleetSnapshot:
        """Poll every connector (or one) once, concurrently, and return the new snapshot."""
        self.open()
        insts = [i for i in self._instances.values() if name is None or i.spec.name == name]
        await asyncio.gather(*(self._poll(i) for i in insts))
        return self.snapshot

    async def settle(self) -> FleetSnapshot:
        """Poll every connector once, then the metrics sources again if canaries turned up.

        Metrics sources query a canary over its lifetime and by its versions, which they
        learn from the first round: a one-shot look (`cockpit status`) then judges the
        same series as a running cockpit does from its second poll on. A source that
        published early (GitHub's first poll, the demo's history read in chunks) is asked
        again for the rest, until it names nothing missing or what it named before."""
        await self.refresh()
        said: set[tuple[str, str]] = set()
        while early := [
            n
            for n, s in self.snapshot.sources.items()
            if s.ok and s.incomplete and (n, s.incomplete) not in said
        ]:
            said.update((n, self.snapshot.sources[n].incomplete) for n in early)
            await asyncio.gather(*(self.refresh(name) for name in early))
        metrics = [i.spec.name for i in self._instances.values() if _measures(i.spec)]
        if self.snapshot.canaries and metrics:
            await asyncio.gather(*(self.refresh(name) for name in metrics))
        return self.snapshot

    async def _loop(self, inst: Instance) -> None:
        while self._running:
            # Cleared before the poll: a wake-up during it (a watch event) means news the
            # poll may have missed, so it polls again at once, unless it is backing off.
            inst.wake.clear()
            delay = await self._poll(inst)
            if inst.failures:
                inst.wake.clear()
            source = self.snapshot.sources.get(inst.spec.name)
            if not self._framed.is_set() and source is not None and source.incomplete:
                polled = self.clock.monotonic()
                await self._framed.wait()  # the first frame paints first
                delay = max(0.0, delay - (self.clock.monotonic() - polled))
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
            # that lands as its inner wait completes, and stop() would then wait an interval.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await inst.wake.wait()

    async def _poll(self, inst: Instance) -> float:
        """Poll one connector once; returns how long to wait before the next poll."""
        spec = inst.spec
        async with inst.lock:  # never two polls of one connector at once
            started = self.clock.monotonic()
            attempt_at = self.clock.now()
            inst.connector.known_canaries = self.snapshot.canaries
            if Capability.EVIDENCE in spec.cls.CAPABILITIES:
                inst.connector.known_artifacts = self._known_artifacts()
            try:
                async with asyncio.timeout(spec.timeout):
                    obs = await inst.connector.poll()
                if not isinstance(obs, Observation):
                    raise TypeError(f"poll() returned {type(obs).__name__}, not Observation")
                # The one place connector text enters the snapshot: made inert here, once.
                obs = inst.inert(obs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                wait = exc.retry_after if isinstance(exc, RateLimited) else None
                delay = inst.backoff.failed(at_least=wait or 0.0)
                message = _describe(exc, spec.timeout)
                old = self.snapshot.sources.get(spec.name)
                state = SourceState(
                    spec.name,
                    spec.type,
                    False,
                    attempt_at,
                    old.last_success if old else None,
                    message,
                    inst.failures,
                    spec.stale_after,
                    retry_in=delay,
                    latency=self.clock.monotonic() - started,
                    capabilities=_capabilities(spec),
                    rate=old.rate if old else (),
                )
                async with self._merging:
                    # Re-applied so verdicts resting on this source turn unknown at once.
                    failed = self.snapshot.with_source(state, self.clock.now())
                    self._publish(self.analyst.apply(failed, judge=False))
                log.warning("%s: %s (retry in %.0fs)", spec.name, message, delay)
                return delay
            inst.backoff.succeeded()
            state = SourceState(
                spec.name,
                spec.type,
                True,
                attempt_at,
                obs.observed_at,
                "",
                0,
                spec.stale_after,
                latency=self.clock.monotonic() - started,
                capabilities=_capabilities(spec),
                incomplete=obs.incomplete,
                rate=obs.rate,
            )
            async with self._merging:  # snapshots are built one after another
                merged = self.snapshot.with_observation(
                    obs, state, self.clock.now(), inst.inert.delta
                )
                shown = self.analyst.apply(merged, judge=False)
                self._publish(shown)
                if self.judging and self.analyst.pending(shown):
                    # Judging can take tens of milliseconds: off the event loop, then the
                    # verdicts follow as the next frame.
                    self._publish(await asyncio.to_thread(self.analyst.apply, shown))
            return spec.interval

    def _known_artifacts(self) -> Callable[[], tuple[tuple[str, str, str], ...]]:
        """The fleet's image digests as of this snapshot, worked out when a connector first
        reads them, and again only after cells or runs changed.

        Most connectors never read them, and each keeps this until its next poll: it holds
        the snapshot weakly (a whole fleet, and after a fold the old bases of its maps, kept
        a poll longer), and reads the newest one if nothing else kept that one alive.
        """
        snapshot, generation = weakref.ref(self.snapshot), self._generation

        def work_out() -> tuple[tuple[str, str, str], ...]:
            if self._artifacts is not None and self._artifacts[0] == generation:
                return self._artifacts[1]
            from cockpit.fleet.artifacts import known_artifacts

            found = known_artifacts(snapshot() or self.snapshot)
            if self._generation == generation:
                self._artifacts = (generation, found)
            return found

        return work_out

    def _publish(self, snapshot: FleetSnapshot) -> None:
        changes = snapshot.changes
        if changes.everything or changes.cells or changes.runs or changes.runs_removed:
            self._artifacts = None  # deployments, canaries or runs moved
            self._generation += 1
        self.snapshot = snapshot
        for listener in self._listeners:
            try:
                listener(snapshot)
            except Exception:  # a listener's bug must not stop the polling
                log.exception("snapshot listener failed")


def _capabilities(spec: ConnectorSpec) -> frozenset[str]:
    return frozenset(str(c) for c in spec.cls.CAPABILITIES)


def _measures(spec: ConnectorSpec) -> bool:
    return "metrics" in _capabilities(spec)


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, ConnectorError):
        text = str(exc)
        kind = type(exc).__name__
        return clean(f"{kind}: {text}" if kind != "ConnectorError" else text, limit=300)
    return clean(f"{type(exc).__name__}: {exc}", limit=300)
