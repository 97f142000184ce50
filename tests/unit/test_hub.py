"""The hub: isolation of slow and broken connectors, backoff, staleness, merging."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest

from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.fleet.hub import Hub
from cockpit.model import Environment
from tests.fakes import ScriptedConnector, ScriptOptions

ENVS = (Environment("dev", 0), Environment("prod", 1, True))


def spec(
    name: str,
    mode: str = "ok",
    *,
    interval: float = 10,
    timeout: float = 0.2,
    services: list[str] | None = None,
) -> ConnectorSpec:
    return ConnectorSpec(
        name,
        "scripted",
        ScriptedConnector,
        ScriptOptions(mode=mode, services=services or [name]),
        interval,
        timeout,
        3 * interval,
    )


async def test_a_hanging_connector_does_not_delay_the_others(clock: FixedClock) -> None:
    hub = Hub([spec("slow", "hang", timeout=0.3), spec("fast")], ENVS, clock=clock)
    loop = asyncio.get_running_loop()
    started = loop.time()
    fast_done: list[float] = []
    hub.subscribe(
        lambda snap: fast_done.append(loop.time() - started) if snap.sources["fast"].ok else None
    )
    snap = await hub.refresh()
    assert fast_done and fast_done[0] < 0.1, (
        "the fast source published before the slow one timed out"
    )
    assert snap.sources["fast"].ok is True
    assert snap.sources["slow"].ok is False
    assert snap.sources["slow"].error == "timed out after 0.3s"
    assert snap.cell("fast", "prod").deployment is not None


async def test_failures_back_off_and_rate_limits_wait_for_retry_after(clock: FixedClock) -> None:
    hub = Hub(
        [spec("broken", "fail"), spec("limited", "ratelimit")],
        ENVS,
        clock=clock,
        rng=random.Random(0),
    )
    await hub.refresh()
    broken = hub.snapshot.sources["broken"]
    limited = hub.snapshot.sources["limited"]
    assert broken.failures == 1 and 5 <= (broken.retry_in or 0) <= 10
    assert "scripted failure" in broken.error
    assert limited.retry_in == 120 and limited.error.startswith("RateLimited")
    await hub.refresh()
    assert 10 <= (hub.snapshot.sources["broken"].retry_in or 0) <= 20
    assert hub.snapshot.sources["broken"].failures == 2


async def test_polls_of_one_connector_never_overlap(clock: FixedClock) -> None:
    hub = Hub([spec("a")], ENVS, clock=clock)
    await asyncio.gather(*(hub.refresh() for _ in range(5)))
    connector = hub.connector("a")
    assert isinstance(connector, ScriptedConnector)
    assert connector.polls == 5 and connector.max_active == 1


async def test_staleness_follows_the_injected_clock(clock: FixedClock) -> None:
    hub = Hub([spec("a", interval=10)], ENVS, clock=clock)
    await hub.refresh()
    state = hub.snapshot.sources["a"]
    assert not state.stale(clock.now())
    clock.advance(29)
    assert not state.stale(clock.now())
    clock.advance(2)
    assert state.stale(clock.now()) and state.label(clock.now()) == "stale"
    assert hub.snapshot.stale_sources() == []  # taken_at is when it was built


async def test_failed_poll_keeps_the_last_facts_and_their_observed_at(clock: FixedClock) -> None:
    hub = Hub([spec("a")], ENVS, clock=clock)
    await hub.refresh()
    first = hub.snapshot.cell("a", "prod").deployment
    assert first is not None and first.observed_at == clock.now()
    connector = hub.connector("a")
    assert isinstance(connector, ScriptedConnector)
    connector.options.mode = "fail"
    clock.advance(40)
    await hub.refresh()
    snap = hub.snapshot
    assert snap.cell("a", "prod").deployment == first
    assert snap.sources["a"].ok is False and snap.sources["a"].stale(clock.now())


async def test_snapshot_records_what_changed(clock: FixedClock) -> None:
    hub = Hub([spec("a", services=["web", "api"])], ENVS, clock=clock)
    await hub.refresh()
    assert hub.snapshot.services == ("api", "web")
    assert hub.snapshot.changes.cells == {("web", "prod"), ("api", "prod")}
    await hub.refresh()
    assert hub.snapshot.changes.cells == frozenset()
    connector = hub.connector("a")
    assert isinstance(connector, ScriptedConnector)
    connector.options.version = "2.0.0"
    connector.options.services = ["web"]
    await hub.refresh()
    snap = hub.snapshot
    assert snap.changes.cells == {("web", "prod"), ("api", "prod")}
    assert snap.services == ("web",) and snap.changes.services_added
    assert snap.cell("web", "prod").deployment.version == "2.0.0"  # type: ignore[union-attr]


async def test_first_configured_source_wins_a_cell(clock: FixedClock) -> None:
    first = spec("first", services=["web"])
    second = spec("second", services=["web"])
    hub = Hub([first, second], ENVS, clock=clock)
    await hub.refresh("second")
    assert hub.snapshot.cell("web", "prod").deployment.source == "second"  # type: ignore[union-attr]
    await hub.refresh("first")
    cell = hub.snapshot.cell("web", "prod")
    assert cell.deployment.source == "first"  # type: ignore[union-attr]
    assert cell.sources == ("first",)  # only sources whose facts are shown


async def test_running_loops_poll_on_their_own_and_stop_cleanly(clock: FixedClock) -> None:
    hub = Hub([spec("a", interval=0.01)], ENVS, clock=clock)
    seen = asyncio.Event()
    counts: list[int] = []

    def listener(snap: object) -> None:
        counts.append(1)
        if len(counts) >= 3:
            seen.set()

    hub.subscribe(listener)
    await hub.start()
    await asyncio.wait_for(seen.wait(), 5)
    await hub.stop()
    assert len(counts) >= 3


async def test_a_broken_constructor_is_reported_and_skipped(clock: FixedClock) -> None:
    class Exploding(ScriptedConnector):
        def __init__(self, *a: object, **kw: object) -> None:
            raise RuntimeError("boom")

    bad = ConnectorSpec("bad", "x", Exploding, ScriptOptions(), 10, 1, 30)
    hub = Hub([bad, spec("good")], ENVS, clock=clock)
    snap = await hub.refresh()
    assert hub.names == ["good"]
    assert any("boom" in p and "'bad'" in p for p in hub.problems)
    assert snap.sources["good"].ok


@pytest.mark.parametrize("mode", ["fail", "hang"])
async def test_status_exit_is_nonzero_when_a_connector_fails(clock: FixedClock, mode: str) -> None:
    hub = Hub([spec("x", mode, timeout=0.05)], ENVS, clock=clock)
    snap = await hub.refresh()
    assert not all(s.ok for s in snap.sources.values())


class Gated(ScriptedConnector):
    """Its poll answers when the test opens the gate."""

    gate: asyncio.Future[None]

    async def poll(self):  # type: ignore[no-untyped-def]
        await self.gate
        return await super().poll()


async def test_stop_ends_even_when_a_poll_answers_as_it_is_cancelled() -> None:
    """A poll that answers in the same instant stop() cancels it must not swallow the
    cancel (asyncio.wait_for on Python 3.11 did): the poller then waited a whole interval
    and `q` never quit the cockpit."""
    s = spec("slow", interval=3600, timeout=60)
    hub = Hub([ConnectorSpec(s.name, s.type, Gated, s.options, 3600, 60, 7200)], ENVS,
              clock=FixedClock(datetime(2026, 11, 26, 3, 0, tzinfo=UTC)))  # fmt: skip
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    Gated.gate = gate
    await hub.start()
    await asyncio.sleep(0)  # the poller is now waiting at the gate
    gate.set_result(None)  # the answer and the cancel land in the same loop iteration
    stopping = asyncio.ensure_future(hub.stop())
    await asyncio.wait_for(stopping, timeout=5)
