"""A required gate that nothing reports (a typo, a connector gate absent for this service) is
in the checklist as unknown, so it blocks a production promote; `cockpit config check` names
it as a warning, with file and line, and its exit status stays as it was."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.actions import gates, lanes
from cockpit.actions.policy import ALLOWED, REFUSED, Operator, Policy
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
    Stage,
    Status,
    TestSummary,
)
from tests.cli import cockpit
from tests.fakes import pipeline_run

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PROMOTE = Action(ActionKind.PROMOTE, "web", "prod", source="ci", version="2.0.0")
UNREPORTED = "no source reports the gate 'provenence'"


def fleet(*reported: Gate) -> FleetSnapshot:
    """web 2.0.0 built and tested green; `reported`: the connector's named gates."""
    run = pipeline_run(NOW, stages=(Stage("build", Status.SUCCEEDED),), tests=TestSummary(10, 0))
    obs = Observation("ci", NOW, runs=(run,), gates=reported)
    state = SourceState("ci", "x", True, NOW, NOW, "", 0, 60)
    envs = (Environment("staging", 0), Environment("prod", 1, True))
    return FleetSnapshot.empty(envs, NOW).with_observation(obs, state, NOW)


def quality(service: str) -> Gate:
    return Gate("quality", GateStatus.PASS, "A rating", service, "prod", "ci", "2.0.0")


def policy(**data: Any) -> Policy:
    return Policy(opt.parse(PolicyConfig, data), production={"prod"})


def test_a_required_gate_nothing_reports_is_unknown_in_the_checklist() -> None:
    checklist = gates.checklist(fleet(), PROMOTE, ["pipeline", "provenence", "tests"])
    assert [g.name for g in checklist] == ["pipeline", "tests", "provenence"]
    typo = checklist[-1]
    assert (typo.status, typo.evidence) == (GateStatus.UNKNOWN, UNREPORTED)
    assert (typo.service, typo.environment, typo.version) == ("web", "prod", "2.0.0")


def test_a_connector_gate_reported_for_another_service_only_is_unknown_for_this_one() -> None:
    required = ["pipeline", "quality"]
    mine = gates.checklist(fleet(quality("web")), PROMOTE, required)
    assert {g.name: g.status for g in mine} == {
        "pipeline": GateStatus.PASS,
        "quality": GateStatus.PASS,
    }
    other = gates.checklist(fleet(quality("cart")), PROMOTE, required)
    (gate,) = [g for g in other if g.name == "quality"]
    assert gate.status is GateStatus.UNKNOWN
    assert gate.evidence == "no source reports the gate 'quality'"


def test_the_wildcard_and_a_name_given_twice_add_nothing() -> None:
    checklist = gates.checklist(fleet(), PROMOTE, ["pipeline", "*", "pipeline"])
    assert [g.name for g in checklist] == ["pipeline"]
    assert [g.name for g in gates.checklist(fleet(), PROMOTE, None)] == list(gates.BUILTIN)


def test_a_hostile_gate_name_is_shown_clean() -> None:
    (gate,) = gates.checklist(fleet(), PROMOTE, ["scan\x1b[31m[bold]x"])
    assert "\x1b" not in gate.name and "\x1b" not in gate.evidence
    assert gate.status is GateStatus.UNKNOWN


def test_an_unreported_gate_refuses_a_production_promote_unless_unknown_gates_warn() -> None:
    envs: dict[str, Any] = {"prod": {"gates": ["pipeline", "provenence"]}}
    refused = policy(environments=envs).evaluate(PROMOTE, Operator("alice"), fleet(), NOW)
    assert refused.outcome == REFUSED
    assert f"gate provenence is unknown: {UNREPORTED}" in refused.reasons
    envs["prod"]["unknown_gates"] = "warn"
    warned = policy(environments=envs).evaluate(PROMOTE, Operator("alice"), fleet(), NOW)
    assert warned.outcome == ALLOWED, warned.reasons
    assert [g.name for g in warned.gates] == ["pipeline", "provenence"]


def test_a_hotfix_lane_gate_nothing_reports_refuses_the_hotfix() -> None:
    lane = {"gates": ["pipeline", "tests", "quality"], "approvals": 0}
    p = policy(lanes={"hotfix": lane})
    decision = p.evaluate(lanes.marked_hotfix(PROMOTE), Operator("alice"), fleet(), NOW)
    assert decision.outcome == REFUSED
    assert "gate quality is unknown: no source reports the gate 'quality'" in decision.reasons
    reported = p.evaluate(
        lanes.marked_hotfix(PROMOTE), Operator("alice"), fleet(quality("web")), NOW
    )
    assert reported.outcome == ALLOWED, reported.reasons


# The command line ---------------------------------------------------------------------
CONFIG = """\
connectors:
  - name: demo
    type: demo
policy:
  environments:
    prod:
      gates: [pipeline, tests, provenence, "*"]{warn}
  lanes:
    hotfix:
      gates: [pipeline, quality-gate]
"""


def env_in(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"))


def test_the_cli_plan_shows_the_unknown_gate_and_exits_3_for_a_production_promote(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(warn=""))
    argv = ("-c", str(path), "promote", "checkout", "prod", "--reason", "weekly release train")
    out = cockpit(*argv, "--confirm", "checkout", env=env_in(tmp_path), cwd=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert f"  unknown  provenence: {UNREPORTED}" in lines
    (decision,) = [line for line in lines if line.startswith("policy: ")]
    assert decision.startswith("policy: refused:") and "gate provenence is unknown" in decision
    path.write_text(CONFIG.format(warn="\n      unknown_gates: warn"))
    out = cockpit(*argv, "--confirm", "checkout", env=env_in(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"  unknown  provenence: {UNREPORTED}" in out.stdout.splitlines()


def test_config_check_warns_naming_each_gate_only_a_connector_could_report(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(warn=""))
    out = cockpit("config", "check", "-c", str(path), env=env_in(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr  # a warning, not a problem
    assert out.stdout.startswith(f"{path}: OK")
    typo, lane = out.stderr.splitlines()
    assert typo.startswith(f"cockpit: config warning: {path}:7: policy.environments.prod.gates[2]:")
    assert "'provenence' is neither a builtin nor a supply-chain gate" in typo
    assert "reported by a connector?" in typo and "did you mean 'provenance'?" in typo
    assert lane.startswith(f"cockpit: config warning: {path}:10: policy.lanes.hotfix.gates[1]:")
    assert "'quality-gate'" in lane and "did you mean" not in lane
    path.write_text(
        CONFIG.format(warn="").replace("provenence", "provenance").replace(", quality-gate", "")
    )
    clean = cockpit("config", "check", "-c", str(path), env=env_in(tmp_path), cwd=tmp_path)
    assert clean.returncode == 0 and clean.stderr == "", clean.stderr
