"""The recorder notes transitions the facts carry no time for: drift, canary steps, health."""

from __future__ import annotations

from datetime import timedelta

from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.incident.changes import OBSERVED
from cockpit.incident.recorder import ChangeRecorder
from cockpit.model import CanaryPhase, Health
from tests.unit.incident_kit import T0, alert, canary, deployment, drift, minutes, snapshot


def feed(recorder: ChangeRecorder, *states: dict) -> FleetSnapshot:
    """One snapshot per state, a minute apart, each built on the one before (as the hub does)."""
    snap: FleetSnapshot | None = None
    for n, facts in enumerate(states):
        snap = snapshot(T0 + minutes(n), snap, **facts)
        recorder.observe(snap)
    assert snap is not None
    return snap


def summaries(recorder: ChangeRecorder) -> list[tuple[str, str]]:
    return [(c.kind, c.summary) for c in recorder.changes()]


def test_a_state_seen_first_is_not_a_change_nobody_knows_when_it_began() -> None:
    recorder = ChangeRecorder()
    feed(recorder, {"drift": (drift(),), "canaries": (canary(),), "deployments": (deployment(),)})
    assert recorder.changes() == []


def test_drift_appearing_and_disappearing_is_noted_when_seen() -> None:
    recorder = ChangeRecorder()
    dep = (deployment(),)
    feed(
        recorder,
        {"deployments": dep},
        {"deployments": dep, "drift": (drift(2),)},
        {"deployments": dep, "drift": (drift(3),)},  # still drifted: not a new change
        {"deployments": dep, "drift": (drift(0),)},
    )
    found = recorder.changes()
    assert summaries(recorder) == [
        ("drift", "drift appeared: 2 item(s), Deployment/prod/payments spec.replicas"),
        ("drift", "drift resolved: live matches desired again"),
    ]
    assert [c.at for c in found] == [T0 + minutes(1), T0 + minutes(3)]
    assert {(c.service, c.environment, c.source) for c in found} == {("payments", "prod", OBSERVED)}


def test_canary_steps_weights_phases_and_its_end_are_noted() -> None:
    recorder = ChangeRecorder()
    dep = (deployment(version="2.7.11"),)
    feed(
        recorder,
        {"deployments": dep, "canaries": (canary(2, 10),)},
        {"deployments": dep, "canaries": (canary(2, 10),)},
        {"deployments": dep, "canaries": (canary(3, 25),)},
        {"deployments": dep, "canaries": (canary(3, 25, CanaryPhase.PAUSED),)},
        {"deployments": dep},
    )
    assert summaries(recorder) == [
        ("canary", "canary 2.7.12 step 2/6 → 3/6, weight 10% → 25%"),
        ("canary", "canary 2.7.12 progressing → paused"),
        ("canary", "canary 2.7.12 ended"),
    ]


def test_health_turning_degraded_and_back_is_noted_other_moves_are_not() -> None:
    recorder = ChangeRecorder()
    feed(
        recorder,
        {"deployments": (deployment(health=Health.HEALTHY),)},
        {"deployments": (deployment(health=Health.PROGRESSING),)},
        {"deployments": (deployment(health=Health.DEGRADED),)},
        {"deployments": (deployment(health=Health.HEALTHY),)},
    )
    assert summaries(recorder) == [
        ("health", "health progressing → degraded"),
        ("health", "health degraded → healthy"),
    ]
    assert recorder.changes()[0].version == "2.7.12"


def test_only_the_cells_a_snapshot_changed_are_looked_at() -> None:
    recorder = ChangeRecorder()
    snap = feed(recorder, {"deployments": (deployment(), deployment("cart"))})
    calls: list[object] = []
    cells = snap.cells

    class Counting(dict):
        def get(self, key, default=None):  # type: ignore[no-untyped-def]
            calls.append(key)
            return super().get(key, default)

    moved = snapshot(
        T0 + minutes(1), snap, deployments=(deployment(health=Health.DEGRADED), deployment("cart"))
    )
    assert moved.changes.cells == {("payments", "prod")}
    object.__setattr__(moved, "cells", Counting(moved.cells))
    recorder.observe(moved)
    assert calls == [("payments", "prod")] and len(cells) == 2
    assert [c.summary for c in recorder.changes()] == ["health healthy → degraded"]


def test_a_missed_snapshot_makes_it_look_at_every_cell() -> None:
    recorder = ChangeRecorder()
    first = feed(recorder, {"drift": (drift(0),)})
    skipped = snapshot(T0 + minutes(1), first, drift=(drift(1),))
    after = snapshot(T0 + minutes(2), skipped, drift=(drift(1),), deployments=(deployment("cart"),))
    assert ("payments", "prod") not in after.changes.cells
    recorder.observe(after)
    assert [c.summary[:14] for c in recorder.changes()] == ["drift appeared"]


def test_it_keeps_at_most_the_limit_and_nothing_older_than_it_keeps() -> None:
    recorder = ChangeRecorder(limit=3, keep=timedelta(minutes=5))
    states = [{"drift": (drift(n % 2),)} for n in range(8)]
    feed(recorder, *states)
    assert len(recorder) == 3
    recorder = ChangeRecorder(limit=100, keep=timedelta(minutes=2))
    feed(recorder, *states)
    assert [c.at for c in recorder.changes()] == [T0 + minutes(5), T0 + minutes(6), T0 + minutes(7)]
    assert recorder.changes(since=T0 + minutes(6), until=T0 + minutes(6)) == recorder.changes()[1:2]


def test_it_remembers_each_firing_alert_and_when_it_stopped_firing() -> None:
    recorder = ChangeRecorder()
    first = alert(at=T0 - minutes(5))
    refired = alert(at=T0 + minutes(2))  # the same alert firing again: a new start
    feed(
        recorder,
        {"alerts": (first,)},  # already firing when first seen: it carries its own start
        {"alerts": (first,)},
        {},
        {"alerts": (refired,)},
    )
    seen = recorder.alerts()
    assert [(s.alert.started_at, s.resolved_at) for s in seen] == [
        (T0 - minutes(5), T0 + minutes(2)),
        (T0 + minutes(2), None),
    ]
