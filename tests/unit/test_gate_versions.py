"""Gates judge the exact version being promoted: evidence about another version is none."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.actions import gates
from cockpit.actions.policy import Operator, Policy
from cockpit.config import PolicyConfig
from cockpit.connect import options as opt
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    Action,
    ActionKind,
    Environment,
    Gate,
    GateStatus,
    Observation,
    TestSummary,
)
from tests.fakes import pipeline_run

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PROMOTE = Action(ActionKind.PROMOTE, "web", "prod", source="ci", version="2.0.0")


def fleet(*reported: Gate) -> FleetSnapshot:
    envs = (Environment("staging", 0), Environment("prod", 1, True))
    run = pipeline_run(NOW, tests=TestSummary(10, 0))
    obs = Observation("ci", NOW, runs=(run,), gates=reported)
    state = SourceState("ci", "x", True, NOW, NOW, "", 0, 60)
    return FleetSnapshot.empty(envs, NOW).with_observation(obs, state, NOW)


def named(snapshot: FleetSnapshot) -> dict[str, Gate]:
    return {
        g.name: g for g in gates.checklist(snapshot, PROMOTE, None) if g.name not in gates.BUILTIN
    }


def scan(status: GateStatus, version: str) -> Gate:
    return Gate(
        "security scan", status, f"scan of {version}", service="web", source="ci", version=version
    )


def test_a_security_scan_of_another_version_is_unknown_for_this_one() -> None:
    gate = named(fleet(scan(GateStatus.PASS, "1.9.0")))["security scan"]
    assert gate.status is GateStatus.UNKNOWN
    assert "no evidence for web 2.0.0" in gate.evidence and "1.9.0" in gate.evidence


def test_a_licence_check_naming_no_version_is_unknown() -> None:
    licence = Gate(
        "licence check", GateStatus.PASS, "no disallowed licences", service="web", source="ci"
    )
    gate = named(fleet(licence))["licence check"]
    assert gate.status is GateStatus.UNKNOWN and "names no version" in gate.evidence


def test_the_evidence_for_the_promoted_version_counts_even_beside_older_runs() -> None:
    found = named(fleet(scan(GateStatus.PASS, "1.9.0"), scan(GateStatus.FAIL, "2.0.0")))
    assert found["security scan"].status is GateStatus.FAIL
    assert found["security scan"].evidence == "scan of 2.0.0"


def test_production_refuses_a_promote_whose_scan_passed_for_a_different_version() -> None:
    policy = Policy(opt.parse(PolicyConfig, {}), production={"prod"})
    decision = policy.evaluate(
        PROMOTE, Operator("alice"), fleet(scan(GateStatus.PASS, "1.9.0")), NOW
    )
    assert decision.refused
    assert any(r.startswith("gate security scan is unknown") for r in decision.reasons)
