"""Issue 12: a poll is applied by what changed (objects that differ by identity from the last
poll's), and the result must be the snapshot a full rebuild would make."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest

from cockpit.clock import FixedClock
from cockpit.connector import Capability, Connector
from cockpit.fleet.cells import Cell, ObsIndex, identity_delta, merge_cell
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    Changed,
    Deployment,
    Environment,
    Health,
    Observation,
    PipelineRun,
    Status,
)
from cockpit.sanitize import InertMemo
from connectors.demo import DemoConnector, DemoOptions

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
ENVS = (Environment("dev", 0), Environment("staging", 1), Environment("prod", 2, True))


def _state(name: str, at: datetime) -> SourceState:
    return SourceState(name, "demo", True, at, at, "", 0, 60)


def _rebuilt(obs: Observation) -> FleetSnapshot:
    return FleetSnapshot.empty(ENVS, T0).with_observation(obs, _state(obs.source, T0), T0)


@pytest.fixture(params=["at once", "in chunks"])
def history(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's history read at its first poll, or in chunks over the next polls."""
    if request.param == "in chunks":
        import connectors.demo as demo_module

        monkeypatch.setattr(demo_module, "HISTORY_AT_ONCE", 100)
        monkeypatch.setattr(demo_module, "HISTORY_CHUNK", 150)


@pytest.mark.usefixtures("history")
def test_an_incremental_snapshot_matches_a_full_rebuild_poll_after_poll() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=60), client=None, clock=clock)
    memo = InertMemo(trust_hints=True)
    snap = FleetSnapshot.empty(ENVS, T0)
    for _ in range(15):
        clock.advance(7)
        obs = memo(asyncio.run(demo.poll()))
        before = snap
        snap = snap.with_observation(obs, _state("demo", clock.now()), clock.now(), memo.delta)
        full = _rebuilt(obs)
        assert dict(snap.cells) == dict(full.cells)
        assert dict(snap.runs) == dict(full.runs)
        assert snap.services == full.services
        # The changes named are exactly what differs from the previous snapshot.
        keys = before.cells.keys() | snap.cells.keys()
        differ = {k for k in keys if before.cells.get(k) != snap.cells.get(k)}
        assert set(snap.changes.cells) >= differ
        runs = before.runs.keys() | snap.runs.keys()
        moved = {r for r in runs if r in snap.runs and before.runs.get(r) != snap.runs[r]}
        assert set(snap.changes.runs) == moved
        assert set(snap.changes.runs_removed) == before.runs.keys() - snap.runs.keys()


def test_a_poll_with_nothing_new_changes_only_the_source() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=50), client=None, clock=clock)
    memo = InertMemo(trust_hints=True)
    memo(asyncio.run(demo.poll()))
    obs = memo(asyncio.run(demo.poll()))  # from the second, the documents: a few runs a poll
    while obs.incomplete:
        obs = memo(asyncio.run(demo.poll()))  # ... until every one is made: it stands still
    snap = FleetSnapshot.empty(ENVS, T0).with_observation(obs, _state("demo", T0), T0)
    again = memo(asyncio.run(demo.poll()))  # the clock did not move: the same observation
    assert again is obs
    assert memo.delta == (obs, {})
    nxt = snap.with_observation(again, _state("demo", T0), T0, memo.delta)
    assert nxt.cells is snap.cells and nxt.runs is snap.runs
    assert nxt.changes.cells == frozenset() and nxt.changes.runs == frozenset()
    assert nxt.changes.sources == frozenset({"demo"}) and not nxt.changes.other


def _dep(service: str, env: str, version: str) -> Deployment:
    return Deployment(
        service=service,
        environment=env,
        version=version,
        digest="",
        deployed_at=T0,
        deployed_by="ci",
        status=Status.SUCCEEDED,
        health=Health.HEALTHY,
        source="s",
        observed_at=T0,
    )


def test_the_cleaning_pass_reports_new_and_gone_items_by_identity() -> None:
    memo = InertMemo(trust_hints=True)
    a, b, c = _dep("a", "dev", "1"), _dep("b", "dev", "1"), _dep("c", "dev", "1")
    first = Observation(source="s", observed_at=T0, deployments=(a, b))
    assert memo(first) is first and memo.delta is None  # nothing to compare with
    b2 = _dep("b", "dev", "2\x1b[31m")  # a changed object, with text to clean
    second = Observation(source="s", observed_at=T0, deployments=(a, b2, c))
    cleaned = memo(second)
    assert memo.delta is not None and memo.delta[0] is first
    found = memo.delta[1]["deployments"]
    assert found is not None
    added, gone = found
    assert cleaned.deployments[0] is a
    assert set(map(id, added)) == {id(cleaned.deployments[1]), id(c)}
    assert "\x1b" not in cleaned.deployments[1].version
    assert gone == [b]
    twice = Observation(source="s", observed_at=T0, deployments=(a, c, c))
    memo(twice)
    assert memo.delta is not None and memo.delta[1]["deployments"] is None  # no identity delta


def test_two_deployments_of_one_cell_keep_the_last_as_a_rebuild_does() -> None:
    a1, b1 = _dep("a", "dev", "1"), _dep("b", "dev", "1")
    old = Observation(source="s", observed_at=T0, deployments=(a1, b1))
    prev = ObsIndex.of(old, None, None)
    a2 = _dep("a", "dev", "2")
    new = Observation(source="s", observed_at=T0, deployments=(a1, b1, a2))
    index = ObsIndex.of(new, prev, old)
    assert index.deployments[("a", "dev")] is a2
    cell = merge_cell(("a", "dev"), ["s"], {"s": index})
    assert cell is not None and cell.deployment is a2
    swapped = Observation(source="s", observed_at=T0, deployments=(a2, b1, a1))
    assert ObsIndex.of(swapped, index, new).deployments[("a", "dev")] is a1
    assert replace(new, deployments=()).deployments == ()


def _hinted(obs: Observation, last: Observation | None) -> Observation:
    """`obs` with a `Changed` hint for each tuple field that moved since `last` (as a connector
    that tracks its changes would name them)."""
    if last is None:
        return obs
    hints = []
    for name in ("deployments", "runs", "canaries", "drift", "alerts", "approvals", "evidence"):
        before, after = getattr(last, name), getattr(obs, name)
        if before is not after:
            added, removed = identity_delta(before, after)
            hints.append(Changed(name, before, tuple(added), tuple(removed)))
    return replace(obs, changed=tuple(hints))


def test_named_changes_are_applied_as_a_full_rebuild_would_be() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=60), client=None, clock=clock)
    memo = InertMemo(trust_hints=True)
    snap = FleetSnapshot.empty(ENVS, T0)
    last = None
    for _ in range(15):
        clock.advance(7)
        raw = asyncio.run(demo.poll())
        obs = memo(_hinted(raw, last))
        last = raw
        assert obs.changed == ()  # the hint is not kept
        snap = snap.with_observation(obs, _state("demo", clock.now()), clock.now(), memo.delta)
        full = _rebuilt(obs)
        assert dict(snap.cells) == dict(full.cells)
        assert dict(snap.runs) == dict(full.runs)
        assert snap.services == full.services
        assert dict(snap.evidence) == dict(full.evidence)


def test_a_named_change_is_used_only_where_it_holds() -> None:
    memo = InertMemo(trust_hints=True)
    a, b, c = _dep("a", "dev", "1"), _dep("b", "dev", "1"), _dep("c", "dev", "1")
    first = Observation(source="s", observed_at=T0, deployments=(a, b))
    memo(first)
    # Named against the tuple seen last: used as named, nothing else is looked at.
    second = Observation(
        source="s",
        observed_at=T0,
        deployments=(a, c),
        changed=(Changed("deployments", first.deployments, (c,), (b,)),),
    )
    cleaned = memo(second)
    assert cleaned.deployments is second.deployments and cleaned.changed == ()
    assert memo.delta is not None and memo.delta[1]["deployments"] == ([c], [b])
    # An added item with text to clean: the field is cleaned item by item, as without a hint.
    dirty = _dep("d", "dev", "2\x1b[31m")
    third = Observation(
        source="s",
        observed_at=T0,
        deployments=(a, c, dirty),
        changed=(Changed("deployments", second.deployments, (dirty,), ()),),
    )
    cleaned = memo(third)
    assert "\x1b" not in cleaned.deployments[2].version and cleaned.deployments[0] is a
    assert memo.delta is not None and memo.delta[1]["deployments"] == ([cleaned.deployments[2]], [])
    # The next hint is relative to a tuple that was not all clean: not used, still cleaned.
    e = _dep("e", "dev", "1")
    fourth = Observation(
        source="s",
        observed_at=T0,
        deployments=(a, c, dirty, e),
        changed=(Changed("deployments", third.deployments, (e,), ()),),
    )
    cleaned = memo(fourth)
    assert "\x1b" not in cleaned.deployments[2].version
    assert memo.delta is not None and memo.delta[1]["deployments"] == ([e], [])
    # A hint against another base, or whose lengths do not add up, is not trusted.
    f = _dep("f", "dev", "1\u202e")
    for wrong in (
        Changed("deployments", second.deployments, (), ()),
        Changed("deployments", fourth.deployments, (), ()),
    ):
        memo(fourth)  # the base again (its identity: nothing to do)
        fifth = Observation(
            source="s", observed_at=T0, deployments=(a, c, dirty, e, f), changed=(wrong,)
        )
        cleaned = memo(fifth)
        assert "\u202e" not in cleaned.deployments[4].version
        assert "\x1b" not in cleaned.deployments[2].version
        assert memo.delta is not None and memo.delta[1]["deployments"] == (
            [cleaned.deployments[4]],
            [],
        )


@pytest.mark.usefixtures("history")
def test_the_demo_names_its_changes_truthfully() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=40), client=None, clock=clock)
    last = asyncio.run(demo.poll())
    for _ in range(10):
        clock.advance(5)
        obs = asyncio.run(demo.poll())
        assert len({h.field for h in obs.changed}) == len(obs.changed)
        for hint in obs.changed:
            before, after = getattr(last, hint.field), getattr(obs, hint.field)
            assert hint.before is before
            added, removed = identity_delta(before, after)
            assert sorted(map(id, hint.added)) == sorted(map(id, added))
            assert sorted(map(id, hint.removed)) == sorted(map(id, removed))
        last = obs


def _run(rid: str, number: int) -> PipelineRun:
    return PipelineRun(
        id=rid,
        service="ci-only",
        pipeline="ci",
        number=number,
        status=Status.RUNNING,
        stages=(),
        author="a",
        commit="c",
        message="m",
        branch="main",
        queued_at=T0,
        source="ci",
        observed_at=T0,
    )


def test_runs_of_two_sources_merge_as_a_full_rebuild_does() -> None:
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=30), client=None, clock=clock)
    memos = {"demo": InertMemo(trust_hints=True), "ci": InertMemo(trust_hints=True)}
    snap = FleetSnapshot.empty(ENVS, T0)
    latest: dict[str, Observation] = {}
    for i in range(8):
        clock.advance(7)
        ci = Observation(
            source="ci",
            observed_at=clock.now(),
            runs=tuple(_run(f"ci#{n}", n) for n in range(i % 3, i % 3 + 2 + i % 2)),
        )
        for raw in (asyncio.run(demo.poll()), ci) if i % 2 else (ci, asyncio.run(demo.poll())):
            memo = memos[raw.source]
            obs = latest[raw.source] = memo(raw)
            snap = snap.with_observation(
                obs, _state(obs.source, clock.now()), clock.now(), memo.delta
            )
        full = FleetSnapshot.empty(ENVS, T0)
        for name in ("demo", "ci") if i % 2 else ("ci", "demo"):
            full = full.with_observation(latest[name], _state(name, T0), T0)
        assert dict(snap.runs) == dict(full.runs)
        assert dict(snap.cells) == dict(full.cells)


def test_a_hint_from_a_connector_not_shipped_with_the_cockpit_never_skips_the_cleaning() -> None:
    # A hint whose lengths add up but which hides a new object (one swapped for another,
    # neither named): trusted, the new object's text would reach the screen uncleaned.
    a, b = _dep("a", "dev", "1"), _dep("b", "dev", "1")
    first = Observation(source="s", observed_at=T0, deployments=(a, b))
    hostile = _dep("b", "dev", "2\x1b]52;c;cm0gLXJmIH4=\x07")  # OSC 52: write the clipboard
    lying = Observation(
        source="s",
        observed_at=T0,
        deployments=(a, hostile),
        changed=(Changed("deployments", first.deployments),),  # "nothing changed"
    )
    memo = InertMemo()  # as the hub makes it for a third party's connector
    memo(first)
    cleaned = memo(lying)
    assert cleaned.deployments[1].version == "2^[]52;c;cm0gLXJmIH4=^G"
    assert cleaned.changed == ()
    assert memo.delta is not None and memo.delta[1]["deployments"] == (
        [cleaned.deployments[1]],
        [b],
    )


@dataclass
class _NoOptions:
    pass


class _Swapping(Connector):
    """A third party's connector whose second poll swaps an object, hinting nothing changed."""

    CAPABILITIES = frozenset({Capability.ENVIRONMENTS})
    Options = _NoOptions
    USES_HTTP = False
    first = (_dep("a", "dev", "1"), _dep("b", "dev", "1"))

    async def poll(self) -> Observation:
        if not getattr(self, "polled", False):
            self.polled = True
            return Observation("swap", T0, deployments=self.first)
        swapped = (self.first[0], _dep("b", "dev", "2\x1b[2J"))
        return Observation(
            "swap", T0, deployments=swapped, changed=(Changed("deployments", self.first),)
        )


def test_the_hub_takes_hints_only_from_the_connectors_shipped_with_it() -> None:
    from cockpit.config import ConnectorSpec
    from cockpit.connect.plugins import shipped
    from cockpit.fleet.hub import Hub

    spec = ConnectorSpec("swap", "swap", _Swapping, _NoOptions(), 10, 5, 60)
    hub = Hub((spec,), ENVS, clock=FixedClock(T0), live=False)

    async def two_polls() -> None:
        await hub.refresh()
        await hub.refresh()

    asyncio.run(two_polls())
    cell = hub.snapshot.cell("b", "dev")
    assert cell.deployment is not None and cell.deployment.version == "2^[[2J"
    assert shipped(DemoConnector) and not shipped(_Swapping)


def test_the_one_sources_cells_are_its_facts_as_they_are() -> None:
    """With one source indexed, each merged cell is that source's facts for the key, and
    there is none where it has nothing."""
    clock = FixedClock(T0)
    demo = DemoConnector("demo", DemoOptions(services=60), client=None, clock=clock)
    clock.advance(400)  # canaries judged, alerts firing
    obs = asyncio.run(demo.poll())
    index = ObsIndex.of(obs, None, None)
    assert index.canaries and index.drift and index.alerts
    keys = {*index.deployments, *index.canaries, *index.drift, *index.alerts, ("nope", "dev")}
    for key in keys:
        dep, canary, drift = (
            index.deployments.get(key),
            index.canaries.get(key),
            index.drift.get(key),
        )
        alerts = index.alerts.get(key, ())
        found = dep or canary or drift or alerts
        alone = Cell(*key, dep, canary, drift, alerts, ("demo",)) if found else None
        assert merge_cell(key, ["demo"], {"demo": index}) == alone, key
    assert merge_cell(("nope", "dev"), ["demo"], {"demo": index}) is None
    silent = ObsIndex({}, {}, {}, {("a", "dev"): ()}, {})  # an alert key with no alert left
    assert merge_cell(("a", "dev"), ["s"], {"s": silent}) is None
