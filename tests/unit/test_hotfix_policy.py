"""The hotfix lane in policy: its config, and the decision on a promote marked hotfix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.actions import lanes
from cockpit.actions.plan import Plan
from cockpit.actions.policy import ALLOWED, NEEDS_APPROVAL, REFUSED, Operator, Policy
from cockpit.config import PolicyConfig
from cockpit.connect import options as opt
from cockpit.errors import ConfigError
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    Action,
    ActionKind,
    Deployment,
    Environment,
    Health,
    Observation,
    Stage,
    Status,
    TestSummary,
)
from tests.fakes import pipeline_run

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ALICE = Operator("alice")
LANE: dict[str, Any] = {"gates": ["pipeline", "tests"], "approvals": 0, "follow_up_hours": 24}
PROMOTE = Action(ActionKind.PROMOTE, "web", "prod", source="cd", version="2.0.0")
HOTFIX = lanes.marked_hotfix(PROMOTE)

CONFIG = """\
environments: [staging, prod]
connectors:
  - name: demo
    type: demo
policy:
  lanes:
{lanes}
"""


def load_error(tmp_path: Path, lanes_yaml: str) -> str:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(lanes=lanes_yaml))
    with pytest.raises(ConfigError) as info:
        config.load(str(path), env={})
    return str(info.value)


def policy(lane: dict[str, Any] | None = None, **rest: Any) -> Policy:
    data: dict[str, Any] = {**rest, "lanes": {"hotfix": lane}} if lane is not None else rest
    return Policy(opt.parse(PolicyConfig, data), production={"prod"})


def snapshot() -> FleetSnapshot:
    """web 2.0.0 built and tested green, no canary running: a normal promote's canary gate is
    unknown (refused in production), the hotfix lane's pipeline and tests gates pass."""
    run = pipeline_run(
        NOW,
        source="cd",
        stages=(Stage("build", Status.SUCCEEDED),),
        tests=TestSummary(100, 0),
    )
    dep = Deployment(
        "web", "prod", "1.9.0", "sha256:1", NOW - timedelta(days=1), "carol",
        Status.SUCCEEDED, Health.HEALTHY, "cd", NOW,
    )  # fmt: skip
    obs = Observation("cd", NOW, deployments=(dep,), runs=(run,))
    state = SourceState("cd", "x", True, NOW, NOW, "", 0, 60, capabilities=frozenset({"alerts"}))
    envs = (Environment("staging", 0), Environment("prod", 1, True))
    return FleetSnapshot.empty(envs, NOW).with_observation(obs, state, NOW)


def plan_of(p: Policy, action: Action = HOTFIX, **kw: Any) -> Plan:
    decision = p.evaluate(action, ALICE, snapshot(), NOW, **kw)
    return Plan(action, decision, "Promote web", "1.9.0", "2.0.0", "")


# Config ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lanes_yaml", "expected"),
    [
        (
            "    hotfx: {approvals: 1}",
            "policy.lanes.hotfx: unknown key 'hotfx'; did you mean 'hotfix'?",
        ),
        (
            "    hotfix: {ticket_requird: true}",
            "policy.lanes.hotfix.ticket_requird: unknown key 'ticket_requird'; "
            "did you mean 'ticket_required'?",
        ),
        ("    hotfix: {approvals: -1}", "policy.lanes.hotfix: approvals must be 0 or more"),
        (
            "    hotfix: {follow_up_hours: 0}",
            "policy.lanes.hotfix: follow_up_hours must be more than 0",
        ),
        ("    hotfix: {gates: []}", "policy.lanes.hotfix: gates must name at least one gate"),
        ("    hotfix: {approvals: two}", "policy.lanes.hotfix.approvals: expected an integer"),
        (
            "    hotfix: {environments: [prdo]}",
            "policy.lanes.hotfix.environments: unknown environment 'prdo'; did you mean 'prod'?",
        ),
    ],
)
def test_a_wrong_hotfix_lane_config_is_one_line_with_file_line_and_a_suggestion(
    tmp_path: Path, lanes_yaml: str, expected: str
) -> None:
    message = load_error(tmp_path, lanes_yaml)
    assert "cockpit.yaml:" in message and expected in message, message
    assert "\n" not in message


def test_a_hotfix_lane_config_loads_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(lanes="    hotfix: {gates: [pipeline, tests]}"))
    hotfix = config.load(str(path), env={}).policy.lanes.hotfix
    assert hotfix is not None
    assert (hotfix.gates, hotfix.approvals, hotfix.ticket_required) == (
        ["pipeline", "tests"],
        1,
        True,
    )
    assert (hotfix.follow_up_hours, hotfix.environments) == (24, None)


# Decisions ------------------------------------------------------------------------------
def test_a_hotfix_promote_is_allowed_with_only_the_lane_s_gates() -> None:
    p = policy(LANE)
    normal = p.evaluate(PROMOTE, ALICE, snapshot(), NOW)
    assert normal.outcome == REFUSED and "gate canary is unknown" in "; ".join(normal.reasons)
    hotfix = p.evaluate(HOTFIX, ALICE, snapshot(), NOW)
    assert hotfix.outcome == ALLOWED, hotfix.reasons
    assert [g.name for g in hotfix.gates] == ["pipeline", "tests"]


def test_a_hotfix_lane_without_gates_keeps_the_environment_s_gates() -> None:
    d = policy({"approvals": 0}).evaluate(HOTFIX, ALICE, snapshot(), NOW)
    assert d.outcome == REFUSED and "gate canary is unknown" in "; ".join(d.reasons)


def test_a_failing_lane_gate_still_refuses_the_hotfix() -> None:
    d = policy({**LANE, "gates": ["pipeline", "tests", "alerts", "canary"]}).evaluate(
        HOTFIX, ALICE, snapshot(), NOW
    )
    assert d.outcome == REFUSED and "gate canary is unknown" in "; ".join(d.reasons)


def test_a_hotfix_promote_without_a_lane_is_refused_with_a_reason() -> None:
    d = policy(environments={"prod": {"unknown_gates": "warn"}}).evaluate(
        HOTFIX, ALICE, snapshot(), NOW
    )
    assert d.outcome == REFUSED
    assert "no hotfix lane in this policy (add policy.lanes.hotfix to the config)" in d.reasons


@pytest.mark.parametrize(
    ("action", "why"),
    [
        (
            lanes.marked_hotfix(Action(ActionKind.ROLLBACK, "web", "prod", source="cd")),
            "only a promote can take the hotfix lane, not rollback",
        ),
        (
            Action(ActionKind.PROMOTE, "web", "prod", source="cd", params=(("lane", "express"),)),
            "unknown lane 'express': the only lane is 'hotfix'",
        ),
    ],
)
def test_only_a_promote_takes_the_hotfix_lane(action: Action, why: str) -> None:
    d = policy(LANE).evaluate(action, ALICE, snapshot(), NOW)
    assert d.outcome == REFUSED and why in d.reasons


def test_a_hotfix_outside_the_lane_s_environments_is_refused() -> None:
    d = policy({**LANE, "environments": ["staging"]}).evaluate(HOTFIX, ALICE, snapshot(), NOW)
    assert d.outcome == REFUSED
    assert "the hotfix lane does not cover prod (only staging)" in d.reasons


def test_the_lane_s_approvals_replace_the_environment_s_two_person_rule() -> None:
    strict = {"environments": {"prod": {"two_person": ["promote"], "approvals": 1}}}
    d = policy({**LANE, "approvals": 2}, **strict).evaluate(HOTFIX, ALICE, snapshot(), NOW)
    assert d.outcome == NEEDS_APPROVAL and d.approvals_required == 2
    assert d.reasons == (
        "prod needs 2 approval(s) from another operator before promote (hotfix lane)",
    )
    assert (
        policy({**LANE, "approvals": 2}, **strict)
        .evaluate(HOTFIX, ALICE, snapshot(), NOW, approved_by=["bob", "carol"])
        .allowed
    )
    assert policy(LANE, **strict).evaluate(HOTFIX, ALICE, snapshot(), NOW).allowed


def test_a_hotfix_without_a_ticket_is_refused_where_the_lane_requires_one() -> None:
    plan = plan_of(policy(LANE))
    assert plan.refusal_for("INC-7 checkout 500s", "web", ticket="") == [
        "the hotfix lane requires a change ticket"
    ]
    assert plan.refusal_for("INC-7 checkout 500s", "web", ticket="  ") != []
    assert plan.refusal_for("INC-7 checkout 500s", "web", ticket="CHG-9") == []
    relaxed = plan_of(policy({**LANE, "ticket_required": False}))
    assert relaxed.refusal_for("INC-7 checkout 500s", "web") == []


def test_the_decision_records_the_lane_and_the_follow_up_due_time_from_the_clock() -> None:
    d = policy({**LANE, "follow_up_hours": 36}).evaluate(HOTFIX, ALICE, snapshot(), NOW)
    record = d.as_record()
    assert record["lane"] == "hotfix"
    assert record["follow_up_hours"] == 36
    assert record["follow_up_due"] == "2026-11-27T22:00:00.000Z"
    assert d.lane is not None
    assert d.lane.rules() == (
        "hotfix: gates pipeline, tests; no approval; ticket required; "
        "follow-up ticket due within 36h (by 2026-11-27 22:00 UTC)"
    )


def test_a_normal_promote_records_no_lane() -> None:
    d = policy(LANE).evaluate(PROMOTE, ALICE, snapshot(), NOW)
    assert d.lane is None and "lane" not in d.as_record()


def test_the_hotfix_toggle_is_offered_only_for_promotes_the_lane_covers() -> None:
    rollback = Action(ActionKind.ROLLBACK, "web", "prod", source="cd")
    assert lanes.offered(policy(LANE).config, PROMOTE)
    assert not lanes.offered(policy(LANE).config, rollback)
    assert not lanes.offered(policy().config, PROMOTE)
    assert not lanes.offered(policy({**LANE, "environments": ["staging"]}).config, PROMOTE)
