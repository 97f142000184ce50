"""Policy table tests: every rule and every refusal reason, in words."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from cockpit.actions.policy import ALLOWED, BREAK_GLASS, NEEDS_APPROVAL, REFUSED, Operator, Policy
from cockpit.config import PolicyConfig
from cockpit.connect import options as opt
from cockpit.fleet.snapshot import FleetSnapshot, SourceState
from cockpit.model import (
    Action,
    ActionKind,
    Alert,
    Canary,
    CanaryPhase,
    Deployment,
    Environment,
    Gate,
    GateStatus,
    Health,
    Observation,
    PendingApproval,
    PipelineRun,
    Severity,
    Stage,
    Status,
    TestSummary,
    Verdict,
)

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # Thursday 11:00 CET
ALICE = Operator("alice", frozenset({"release"}))
BOB = Operator("bob", frozenset({"sre"}))
MALLORY = Operator("mallory")

POLICY = {
    "roles": {"captain": ["alice", "@release"], "oncall": ["@sre"]},
    "permissions": {
        "promote": ["captain"],
        "approve": ["captain", "oncall"],
        "rollback": ["captain", "oncall"],
    },
    "environments": {
        "prod": {"two_person": ["promote"], "approvals": 1},
    },
    "windows": [
        {
            "name": "business-hours",
            "schedule": "0 9 * * 1-5",
            "duration": "9h",
            "timezone": "Europe/Berlin",
            "environments": ["prod"],
        }
    ],
}


def policy(data: dict | None = None, **kw: object) -> Policy:
    return Policy(
        opt.parse(PolicyConfig, data if data is not None else POLICY), production={"prod"}, **kw
    )  # type: ignore[arg-type]


def snapshot(
    *,
    verdict: str = "pass",
    alert: bool = False,
    tests_failed: int = 0,
    gate: GateStatus = GateStatus.PASS,
) -> FleetSnapshot:
    envs = (Environment("staging", 0), Environment("prod", 1, True))
    run = PipelineRun(
        id="web#7",
        service="web",
        pipeline="release",
        number=7,
        status=Status.SUCCEEDED,
        stages=(
            Stage("build", Status.SUCCEEDED),
            Stage("test", Status.SUCCEEDED),
            Stage("deploy", Status.SUCCEEDED, environment="prod"),
        ),
        author="carol",
        commit="abc1234def",
        message="m",
        branch="main",
        queued_at=NOW - timedelta(hours=1),
        source="cd",
        observed_at=NOW,
        tests=TestSummary(100 - tests_failed, tests_failed),
        version="2.0.0",
    )
    dep = Deployment(
        "web",
        "prod",
        "1.9.0",
        "sha256:1",
        NOW - timedelta(days=1),
        "carol",
        Status.SUCCEEDED,
        Health.HEALTHY,
        "cd",
        NOW,
    )
    canary = Canary(
        "web",
        "prod",
        "1.9.0",
        "2.0.0",
        3,
        6,
        25,
        CanaryPhase.PROGRESSING,
        NOW - timedelta(minutes=30),
        "cd",
        NOW,
        verdict=Verdict(
            98.0 if verdict == "pass" else 40.0, verdict, 75, 95, digest="sha256:verdict"
        ),
    )
    alerts = (
        (Alert("HighErrorRate", "web", "prod", Severity.CRITICAL, "firing", "5xx", NOW, "am", NOW),)
        if alert
        else ()
    )
    obs = Observation(
        "cd",
        NOW,
        deployments=(dep,),
        runs=(run,),
        canaries=(canary,),
        alerts=alerts,
        gates=(
            Gate(
                "security scan", gate, "scan of 2.0.0", service="web", source="cd", version="2.0.0"
            ),
        ),
    )
    # One healthy source reports everything, alerts included (no alert source: unknown).
    state = SourceState("cd", "x", True, NOW, NOW, "", 0, 60, capabilities=frozenset({"alerts"}))
    return FleetSnapshot.empty(envs, NOW).with_observation(obs, state, NOW)


PROMOTE = Action(ActionKind.PROMOTE, "web", "prod", source="cd", version="2.0.0")
ROLLBACK = Action(ActionKind.ROLLBACK, "web", "prod", source="cd", version="1.8.0")
APPROVAL = PendingApproval(
    "cd:1", "web", "prod", "deployment", "Deploy web 2.0.0", "carol", NOW, "cd", NOW
)
APPROVE = Action(ActionKind.APPROVE, "web", "prod", source="cd", approval_id="cd:1")


def test_allowed_with_every_gate_green() -> None:
    d = policy().evaluate(PROMOTE, ALICE, snapshot(), NOW, approved_by=["bob"])
    assert d.outcome == ALLOWED, d.reasons
    assert [g.name for g in d.gates] == ["pipeline", "tests", "canary", "alerts", "security scan"]
    assert all(g.status is GateStatus.PASS for g in d.gates)
    assert (
        d.production
        and d.typed_confirmation
        and d.window
        and d.window.label == "open until 18:00 CET"
    )


def test_role_refusal_names_the_needed_roles() -> None:
    d = policy().evaluate(PROMOTE, MALLORY, snapshot(), NOW)
    assert d.outcome == REFUSED
    assert "mallory may not promote in prod: needs one of the roles captain" in d.reasons


def test_group_membership_grants_a_role() -> None:
    d = policy().evaluate(ROLLBACK, BOB, snapshot(), NOW)
    assert d.outcome == ALLOWED


def test_two_person_rule_needs_an_approval_first() -> None:
    d = policy().evaluate(PROMOTE, ALICE, snapshot(), NOW)
    assert d.outcome == NEEDS_APPROVAL
    assert d.reasons == ("prod needs 1 approval(s) from another operator before promote",)


@pytest.mark.parametrize(
    ("snap", "reason"),
    [
        (
            snapshot(verdict="fail"),
            "gate canary is fail: fail (score 40.0; pass >= 95) verdict sha256:verdict",
        ),
        (snapshot(alert=True), "gate alerts is fail: critical alert firing: HighErrorRate"),
        (snapshot(tests_failed=3), "gate tests is fail: 3 of 100 failed in web#7"),
        (snapshot(gate=GateStatus.FAIL), "gate security scan is fail: scan of 2.0.0"),
        (snapshot(gate=GateStatus.UNKNOWN), "gate security scan is unknown: scan of 2.0.0"),
    ],
)
def test_failed_gates_refuse_promote(snap: FleetSnapshot, reason: str) -> None:
    d = policy().evaluate(PROMOTE, ALICE, snap, NOW, approved_by=["bob"])
    assert d.outcome == REFUSED and reason in d.reasons


def test_marginal_verdict_is_a_human_call_not_a_pass() -> None:
    d = policy().evaluate(PROMOTE, ALICE, snapshot(verdict="marginal"), NOW, approved_by=["bob"])
    assert d.outcome == REFUSED
    assert any(r.startswith("gate canary is unknown: marginal: a human decides") for r in d.reasons)


def test_unknown_gates_warn_outside_production() -> None:
    action = Action(ActionKind.PROMOTE, "web", "staging", source="cd", version="9.9.9")
    d = policy().evaluate(action, ALICE, snapshot(), NOW)
    assert d.outcome == ALLOWED
    assert any("gate pipeline is unknown" in n for n in d.notes)


def test_failed_gate_can_be_overridden_by_break_glass_when_configured() -> None:
    data = {**POLICY, "break_glass": ["rollback", "promote"]}
    d = policy(data).evaluate(PROMOTE, ALICE, snapshot(verdict="fail"), NOW, approved_by=["bob"])
    assert d.outcome == BREAK_GLASS
    assert any(r.startswith("gate canary is fail") for r in d.reasons)


def test_closed_window_refuses_promote_but_rollback_is_break_glass() -> None:
    night = NOW + timedelta(hours=10)  # 21:00 CET
    d = policy().evaluate(PROMOTE, ALICE, snapshot(), night, approved_by=["bob"])
    assert d.outcome == REFUSED
    assert (
        "prod is closed for changes: outside every allowed change window; closed, opens in 12h00m"
        in d.reasons
    )
    r = policy().evaluate(ROLLBACK, ALICE, snapshot(), night)
    assert r.outcome == BREAK_GLASS and r.reasons[0].startswith("prod is closed for changes")


def test_connector_windows_count_too() -> None:
    from cockpit.model import ChangeWindow

    snap = snapshot()
    freeze = ChangeWindow("gitlab freeze", "0 0 * * *", 24 * 60, "UTC", "deny", source="gitlab")
    snap = FleetSnapshot(**{**snap.__dict__, "windows": (freeze,)})
    d = policy({}).evaluate(ROLLBACK, ALICE, snap, NOW)
    assert d.outcome == BREAK_GLASS and "blackout gitlab freeze" in d.reasons[0]


def test_read_only_refuses_everything_and_says_why() -> None:
    d = policy(read_only=True).evaluate(ROLLBACK, ALICE, snapshot(), NOW)
    assert d.outcome == REFUSED and d.reasons[0] == "read-only mode (started with --read-only)"
    e = policy(read_only_envs={"prod"}).evaluate(ROLLBACK, ALICE, snapshot(), NOW)
    assert e.reasons[0] == "prod is read-only in the config"


def test_segregation_of_duties_author_cannot_approve() -> None:
    carol = Operator("carol", frozenset({"release"}))
    d = policy().evaluate(APPROVE, carol, snapshot(), NOW, approval=APPROVAL)
    assert d.outcome == REFUSED
    assert (
        d.reasons[0]
        == "carol requested this change and cannot approve it (segregation of duties: someone else must)"
    )


def test_segregation_of_duties_no_double_approval() -> None:
    approval = PendingApproval(
        "cd:1",
        "web",
        "prod",
        "two-person",
        "t",
        "carol",
        NOW,
        "cockpit",
        NOW,
        approvals=("alice",),
        required=2,
    )
    d = policy().evaluate(APPROVE, ALICE, snapshot(), NOW, approval=approval)
    assert (
        d.outcome == REFUSED and "alice has already approved this; another person must" in d.reasons
    )


def test_approvals_are_not_blocked_by_windows() -> None:
    night = NOW + timedelta(hours=10)
    d = policy().evaluate(APPROVE, ALICE, snapshot(), night, approval=APPROVAL)
    assert d.outcome == ALLOWED


def test_missing_capability_refuses() -> None:
    d = policy().evaluate(ROLLBACK, ALICE, snapshot(), NOW, capable=False)
    assert d.outcome == REFUSED and d.reasons[0] == "no connector here can rollback web in prod"


def test_no_policy_means_everyone_may_act_outside_production_gates() -> None:
    action = Action(ActionKind.SYNC, "web", "staging", source="cd")
    assert policy({}).evaluate(action, MALLORY, snapshot(), NOW).outcome == ALLOWED


def test_config_rejects_unknown_roles_and_environments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cockpit import config
    from cockpit.errors import ConfigError

    path = tmp_path / "c.yaml"
    path.write_text(
        "policy:\n  roles: {captain: [alice]}\n  permissions:\n    promote: [captian]\n"
    )
    with pytest.raises(ConfigError, match="unknown role 'captian'; did you mean 'captain'"):
        config.load(str(path), env={})
    path.write_text("policy:\n  environments:\n    production: {approvals: 2}\n")
    with pytest.raises(ConfigError, match="unknown environment 'production'"):
        config.load(str(path), env={})
    path.write_text("policy:\n  permissions:\n    promte: ['*']\n")
    with pytest.raises(ConfigError, match="did you mean 'promote'"):
        config.load(str(path), env={})


def test_a_run_without_stages_is_not_a_green_pipeline() -> None:
    from cockpit.actions.gates import pipeline_gate

    snap = snapshot()
    run = snap.runs["web#7"]
    bare = dataclasses.replace(run, stages=(), status=Status.CANCELLED)
    obs = Observation("cd", NOW, runs=(bare,))
    snap2 = FleetSnapshot.empty(snap.environments, NOW).with_observation(
        obs, SourceState("cd", "x", True, NOW, NOW, "", 0, 60), NOW
    )
    gate = pipeline_gate(snap2, "web", "2.0.0")
    assert gate.status is GateStatus.UNKNOWN, gate


def test_an_approver_sees_the_gates_without_being_blocked_by_them() -> None:
    approve = Action(
        ActionKind.APPROVE, "web", "prod", source="cd", version="2.0.0", approval_id="cd:1"
    )
    d = policy().evaluate(approve, ALICE, snapshot(gate=GateStatus.FAIL), NOW, approval=APPROVAL)
    assert d.outcome == ALLOWED
    assert "security scan" in [g.name for g in d.gates]
    assert "gate security scan is fail: scan of 2.0.0" in d.notes
