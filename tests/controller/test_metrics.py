"""/metrics counts from the hub's snapshots: each poll once, failed ones as errors, and a
source that stopped answering is down."""

from __future__ import annotations

from datetime import timedelta

from cockpit.controller.metrics import ControllerMetrics
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import Environment
from tests.fakes import T0


def _state(ok: bool, attempt_s: int, success_s: int | None) -> SourceState:
    success = T0 + timedelta(seconds=success_s) if success_s is not None else None
    return SourceState(
        "argocd", "argocd", ok, T0 + timedelta(seconds=attempt_s), success,
        "" if ok else "HTTP 502", 0 if ok else 1, 30.0,
    )  # fmt: skip


def _sample(metrics: ControllerMetrics, name: str) -> float:
    value = metrics.registry.get_sample_value(name, {"connector": "argocd", "type": "argocd"})
    return value if value is not None else 0.0


def test_each_poll_counts_once_and_a_failed_one_is_an_error() -> None:
    metrics = ControllerMetrics()
    snap = FleetSnapshot.empty([Environment("prod", 0, True)], T0)
    snap = snap.with_source(_state(True, 0, 0), T0)
    metrics.observe(snap)
    metrics.observe(snap)  # the same snapshot again (a verdict followed): no new poll
    assert _sample(metrics, "cockpit_connector_polls_total") == 1
    assert _sample(metrics, "cockpit_connector_up") == 1
    failed = snap.with_source(_state(False, 10, 0), T0 + timedelta(seconds=10))
    metrics.observe(failed)
    assert _sample(metrics, "cockpit_connector_polls_total") == 2
    assert _sample(metrics, "cockpit_connector_poll_errors_total") == 1
    assert _sample(metrics, "cockpit_connector_up") == 0


def test_two_controllers_in_one_process_keep_their_own_counts() -> None:
    a, b = ControllerMetrics(), ControllerMetrics()
    a.leader.set(1)
    a.appended(0.004)
    assert b.registry.get_sample_value("cockpit_controller_leader") == 0
    assert b.registry.get_sample_value("cockpit_audit_append_seconds_count") == 0
    assert a.registry.get_sample_value("cockpit_audit_append_seconds_bucket", {"le": "0.005"}) == 1
    assert b"cockpit_controller_leader 1.0" in a.render()
