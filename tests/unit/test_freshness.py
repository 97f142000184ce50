"""Fail closed on evidence: a failing or stale source makes its verdicts and gates unknown."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cockpit.actions import gates
from cockpit.clock import FixedClock
from cockpit.config import ConnectorSpec
from cockpit.connector import Capability, Connector
from cockpit.errors import Unreachable
from cockpit.fleet.analysis import Analyst, CanaryConfig
from cockpit.fleet.hub import Hub
from cockpit.model import (
    Action,
    ActionKind,
    Alert,
    Canary,
    CanaryMetrics,
    CanaryPhase,
    Environment,
    Gate,
    GateStatus,
    MetricSeries,
    Observation,
    PipelineRun,
    Severity,
    TestSummary,
)
from tests.fakes import pipeline_run

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ENVS = (Environment("prod", 0, True),)


def series(name: str, shift: float, n: int = 60) -> MetricSeries:
    rng = random.Random(1)
    times = tuple(NOW - timedelta(seconds=15 * (n - i)) for i in range(n))
    return MetricSeries(
        name,
        "%",
        times,
        tuple(rng.gauss(1.0, 0.1) for _ in range(n)),
        tuple(rng.gauss(1.0 + shift, 0.1) for _ in range(n)),
        direction="increase",
        critical=True,
    )


@dataclass
class FactsOptions:
    """What the fake reports each poll; `fail` makes the next polls raise."""

    fail: bool = False
    canaries: tuple[Canary, ...] = ()
    metrics: tuple[CanaryMetrics, ...] = ()
    runs: tuple[PipelineRun, ...] = ()
    alerts: tuple[Alert, ...] = ()
    gates: tuple[Gate, ...] = ()


class Facts(Connector):
    """Reports whatever its options hold, stamped now, or fails like an unreachable server."""

    CAPABILITIES = frozenset({Capability.CANARY, Capability.PIPELINES, Capability.GATES})
    Options = FactsOptions
    USES_HTTP = False

    async def poll(self) -> Observation:
        if self.options.fail:
            raise Unreachable("connection refused")
        o = self.options
        return Observation(
            self.name,
            self.clock.now(),
            canaries=o.canaries,
            metrics=o.metrics,
            runs=o.runs,
            alerts=o.alerts,
            gates=o.gates,
        )


class Metrics(Facts):
    CAPABILITIES = frozenset({Capability.METRICS})


class Alerts(Facts):
    CAPABILITIES = frozenset({Capability.ALERTS})


def spec(name: str, cls: type[Connector], **options: object) -> ConnectorSpec:
    return ConnectorSpec(name, name, cls, FactsOptions(**options), 10.0, 1.0, 60.0)  # type: ignore[arg-type]


def canary(metrics: tuple[MetricSeries, ...] = ()) -> Canary:
    return Canary(
        "web",
        "prod",
        "1.0",
        "1.1",
        2,
        6,
        10,
        CanaryPhase.PROGRESSING,
        NOW - timedelta(minutes=20),
        "rollouts",
        NOW,
        metrics=metrics,
    )


def prom_metrics(shift: float) -> tuple[CanaryMetrics, ...]:
    return (CanaryMetrics("web", "prod", (series("errors", shift),), "prom", NOW),)


def run() -> PipelineRun:
    return pipeline_run(
        NOW,
        id="ci#7",
        pipeline="build",
        author="ann",
        message="fix",
        tests=TestSummary(120, 0),
        version="1.1",
    )


def hub(clock: FixedClock, *specs: ConnectorSpec) -> Hub:
    return Hub(specs, ENVS, clock=clock, analyst=Analyst(CanaryConfig(min_points=50)))


def fail(h: Hub, name: str) -> None:
    connector = h.connector(name)
    assert connector is not None
    connector.options.fail = True


async def test_canary_verdict_and_gate_turn_unknown_while_the_metrics_source_fails() -> None:
    clock = FixedClock(NOW)
    h = hub(
        clock,
        spec("rollouts", Facts, canaries=(canary(),)),
        spec("prom", Metrics, metrics=prom_metrics(0.0)),
        spec("am", Alerts),
    )
    await h.refresh("rollouts")
    await h.refresh("prom")
    await h.refresh("am")
    passed = h.snapshot.cell("web", "prod").canary
    assert passed is not None and passed.verdict is not None
    assert passed.verdict.decision == "pass"
    assert gates.canary_gate(h.snapshot, "web", "prod").status is GateStatus.PASS

    fail(h, "prom")
    clock.advance(5)
    snap = await h.refresh("prom")
    shown = snap.cell("web", "prod").canary
    assert shown is not None and shown.verdict is not None
    assert shown.verdict.decision == "unknown", "a verdict on a failing source is not a pass"
    assert "prom" in shown.verdict.reason and "connection refused" in shown.verdict.reason
    gate = gates.canary_gate(snap, "web", "prod")
    assert gate.status is GateStatus.UNKNOWN and "prom" in gate.evidence


async def test_canary_gate_is_unknown_when_its_source_went_stale_without_news() -> None:
    clock = FixedClock(NOW)
    h = hub(
        clock,
        spec("rollouts", Facts, canaries=(canary((series("errors", 0.0),)),)),
    )
    snap = await h.refresh()
    assert gates.canary_gate(snap, "web", "prod").status is GateStatus.PASS
    clock.advance(61)
    fail(h, "rollouts")
    snap = await h.refresh()
    gate = gates.canary_gate(snap, "web", "prod")
    assert gate.status is GateStatus.UNKNOWN and "rollouts" in gate.evidence


async def test_a_failing_canary_on_stale_evidence_is_unknown_not_a_rollback() -> None:
    clock = FixedClock(NOW)
    h = hub(clock, spec("rollouts", Facts, canaries=(canary((series("errors", 0.5),)),)))
    snap = await h.refresh()
    c = snap.cell("web", "prod").canary
    assert c is not None and c.verdict is not None and c.verdict.decision == "fail"
    fail(h, "rollouts")
    snap = await h.refresh()
    c = snap.cell("web", "prod").canary
    assert c is not None and c.verdict is not None and c.verdict.decision == "unknown"


async def test_pipeline_and_tests_gates_are_unknown_while_the_ci_source_fails() -> None:
    clock = FixedClock(NOW)
    h = hub(clock, spec("ci", Facts, runs=(run(),)))
    snap = await h.refresh()
    assert gates.pipeline_gate(snap, "web", "1.1").status is GateStatus.PASS
    assert gates.tests_gate(snap, "web", "1.1").status is GateStatus.PASS
    fail(h, "ci")
    clock.advance(3)
    snap = await h.refresh()
    for gate in (gates.pipeline_gate(snap, "web", "1.1"), gates.tests_gate(snap, "web", "1.1")):
        assert gate.status is GateStatus.UNKNOWN, gate
        assert "ci" in gate.evidence and "connection refused" in gate.evidence


async def test_alerts_gate_is_unknown_without_an_alert_source() -> None:
    clock = FixedClock(NOW)
    h = hub(clock, spec("ci", Facts, runs=(run(),)))
    snap = await h.refresh()
    gate = gates.alerts_gate(snap, "web", "prod")
    assert gate.status is GateStatus.UNKNOWN
    assert "no alert source" in gate.evidence


async def test_alerts_gate_passes_only_while_every_alert_source_answers() -> None:
    clock = FixedClock(NOW)
    h = hub(clock, spec("am", Alerts))
    snap = await h.refresh()
    assert gates.alerts_gate(snap, "web", "prod").status is GateStatus.PASS
    fail(h, "am")
    snap = await h.refresh()
    gate = gates.alerts_gate(snap, "web", "prod")
    assert gate.status is GateStatus.UNKNOWN and "am" in gate.evidence


async def test_a_critical_alert_still_fails_the_gate_whatever_the_source_health() -> None:
    clock = FixedClock(NOW)
    firing = Alert("Down", "web", "prod", Severity.CRITICAL, "firing", "", NOW, "am", NOW)
    h = hub(clock, spec("am", Alerts, alerts=(firing,)))
    await h.refresh()
    fail(h, "am")
    snap = await h.refresh()
    assert gates.alerts_gate(snap, "web", "prod").status is GateStatus.FAIL


async def test_named_gates_from_a_failing_source_are_unknown() -> None:
    clock = FixedClock(NOW)
    scan = Gate("security-scan", GateStatus.PASS, "0 criticals", "web", "prod", "scanner", "1.1")
    h = hub(clock, spec("scanner", Facts, gates=(scan,)))
    snap = await h.refresh()
    action = Action(ActionKind.PROMOTE, "web", "prod", "scanner", version="1.1")
    (named,) = [g for g in gates.checklist(snap, action, None) if g.name == "security-scan"]
    assert named.status is GateStatus.PASS
    fail(h, "scanner")
    snap = await h.refresh()
    (named,) = [g for g in gates.checklist(snap, action, None) if g.name == "security-scan"]
    assert named.status is GateStatus.UNKNOWN and "scanner" in named.evidence


async def test_a_metrics_source_that_never_answered_holds_the_canary_unknown() -> None:
    """Until a configured metrics source has answered once, nobody knows whether it covers
    this canary, so the canary's own series (which it would take precedence over) must not
    pass it: Prometheus down from start-up is not a green canary."""
    clock = FixedClock(NOW)
    h = hub(
        clock,
        spec("rollouts", Facts, canaries=(canary((series("errors", 0.0),)),)),
        spec("prom", Metrics, fail=True),
    )
    await h.refresh("rollouts")
    snap = await h.refresh("prom")
    c = snap.cell("web", "prod").canary
    assert c is not None and c.verdict is not None
    assert c.verdict.decision == "unknown"
    assert "prom" in c.verdict.reason
    assert gates.canary_gate(snap, "web", "prod").status is GateStatus.UNKNOWN

    h.connector("prom").options.fail = False  # type: ignore[union-attr]
    clock.advance(5)
    snap = await h.refresh("prom")  # answers, and covers another service only
    c = snap.cell("web", "prod").canary
    assert c is not None and c.verdict is not None and c.verdict.decision == "pass"
