"""What changed: every connector's timed facts and the audit log, in one list, each change once."""

from __future__ import annotations

from pathlib import Path

from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.incident.changes import AUDIT, OBSERVED, Change, ChangeKind, collect
from cockpit.model import Annotation, PendingApproval, Revision, Stage, Status
from tests.fakes import pipeline_run
from tests.unit.incident_kit import (
    T0,
    action_record,
    canary,
    deployment,
    minutes,
    snapshot,
    start_record,
    store,
)

SINCE, UNTIL = T0 - minutes(120), T0 + minutes(60)


def kinds(changes: list[Change]) -> list[tuple[str, str]]:
    return [(c.kind, c.summary) for c in changes]


def test_deployments_and_their_history_are_changes_with_the_previous_version() -> None:
    history = (
        Revision("2.7.11", "sha256:b", T0 - minutes(50), "ci-bot", rollback=True),
        Revision("2.7.10", "sha256:c", T0 - minutes(90), "ci-bot"),
        Revision("2.7.9", "sha256:d", T0 - minutes(600), "ci-bot"),  # before the period
    )
    snap = snapshot(deployments=(deployment(at=T0 - minutes(10), history=history),))
    found = collect(snap, [], since=SINCE, until=UNTIL)
    assert kinds(found) == [
        ("deploy", "deployed 2.7.10 (was 2.7.9)"),
        ("rollback", "rolled back to 2.7.11 (was 2.7.10)"),
        ("deploy", "deployed 2.7.12 (was 2.7.11)"),
    ]
    assert found[-1].version == "2.7.12" and found[-1].from_version == "2.7.11"
    assert found[-1].actor == "ci-bot" and found[-1].source == "argocd"


def test_canaries_runs_approvals_and_annotations_are_changes() -> None:
    run = pipeline_run(
        T0,
        finished_at=T0 - minutes(20),
        stages=(Stage("deploy", Status.SUCCEEDED, environment="staging"),),
    )
    running = pipeline_run(T0, id="web#8", number=8, status=Status.RUNNING)
    approval = PendingApproval(
        "a1", "payments", "prod", "deployment", "promote 2.7.12", "carol", T0 - minutes(5), "gh", T0
    )
    notes = (
        Annotation(
            "1",
            T0 - minutes(3),
            "flag checkout-v2 on",
            "grafana",
            T0,
            tags=("config",),
            service="web",
        ),
        Annotation(
            "2", T0 - minutes(2), "rollback payments", "grafana", T0, tags=("cockpit", "rollback")
        ),
        Annotation("3", T0 - minutes(1), "db failover", "grafana", T0, author="dba"),
    )
    snap = snapshot(
        canaries=(canary(),), runs=(run, running), approvals=(approval,), annotations=notes
    )
    found = collect(snap, [], since=SINCE, until=UNTIL)
    assert kinds(found) == [
        ("canary", "canary 2.7.12 started against 2.7.11"),
        ("pipeline", "pipeline release #7 succeeded (2.0.0)"),
        ("approval", "approval requested: promote 2.7.12"),
        ("config", "flag checkout-v2 on"),
        ("annotation", "db failover"),
    ]
    assert found[1].environment == "staging" and found[1].actor == "carol"
    assert found[-1].actor == "dba"


def test_the_cockpits_own_annotations_are_skipped_since_the_audit_log_has_them() -> None:
    note = Annotation("9", T0, "rollback", "grafana", T0, tags=("cockpit", "rollback"))
    assert collect(snapshot(annotations=(note,)), [], since=SINCE, until=UNTIL) == []


def test_succeeded_actions_are_changes_refused_and_failed_ones_are_not(tmp_path: Path) -> None:
    clock = FixedClock(T0 - minutes(30))
    log = store(tmp_path, clock)
    action_record(log, "rollback", event=EventType.ACTION_REQUESTED)
    action_record(log, "rollback")
    action_record(log, "promote", event=EventType.ACTION_REFUSED)
    action_record(log, "sync", event=EventType.ACTION_FAILED)
    action_record(log, "pause", frm="", to="")
    found = collect(snapshot(), log.records(), since=SINCE, until=UNTIL)
    assert kinds(found) == [
        ("canary", "pause: 5xx since 2.7.12"),
        ("rollback", "rollback 2.7.12 → 2.7.11: 5xx since 2.7.12"),
    ]
    assert {c.source for c in found} == {AUDIT}
    assert [c.record for c in found] == [6, 3]  # 1 is audit.initialized
    assert found[1].actor == "alice" and found[1].version == "2.7.11"


def test_a_start_with_another_config_is_a_fleet_wide_config_change(tmp_path: Path) -> None:
    clock = FixedClock(T0 - minutes(300))
    log = store(tmp_path, clock)
    start_record(log, "/etc/cockpit/a.yaml")  # before the period: the baseline
    clock.set(T0 - minutes(20))
    start_record(log, "/etc/cockpit/a.yaml")
    clock.set(T0 - minutes(10))
    start_record(log, "/etc/cockpit/b.yaml")
    found = collect(snapshot(), log.records(), since=SINCE, until=UNTIL)
    assert kinds(found) == [
        ("config", "cockpit started with config /etc/cockpit/b.yaml (was /etc/cockpit/a.yaml)")
    ]
    assert (found[0].service, found[0].environment) == ("", "")


def test_an_audited_rollback_and_the_deployment_it_produced_are_one_change(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0 - minutes(10))
    log = store(tmp_path, clock)
    action_record(log, "rollback", frm="2.7.12", to="2.7.11")
    history = (Revision("2.7.11", "sha256:b", T0 - minutes(9), "argocd", rollback=True),)
    # The rolled-back-to version as the deployment now, and the same revision in history.
    snap = snapshot(
        deployments=(deployment(version="2.7.11", at=T0 - minutes(9), history=history),)
    )
    found = collect(snap, log.records(), since=SINCE, until=UNTIL)
    assert kinds(found) == [("rollback", "rollback 2.7.12 → 2.7.11: 5xx since 2.7.12")]
    assert found[0].record is not None


def test_a_deploy_long_after_an_audited_action_of_the_same_version_stays_its_own(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0 - minutes(100))
    log = store(tmp_path, clock)
    action_record(log, "promote", frm="2.7.11", to="2.7.12")
    snap = snapshot(deployments=(deployment(version="2.7.12", at=T0 - minutes(10)),))
    assert len(collect(snap, log.records(), since=SINCE, until=UNTIL)) == 2


def test_an_observed_canary_step_after_an_audited_promote_is_the_same_change(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0 - minutes(10))
    log = store(tmp_path, clock)
    action_record(log, "promote", frm="2.7.11", to="2.7.12")
    step = Change(T0 - minutes(9), ChangeKind.CANARY, "payments", "prod", "step", OBSERVED)
    later = Change(T0 - minutes(1), ChangeKind.DRIFT, "payments", "prod", "drift", OBSERVED)
    found = collect(snapshot(), log.records(), since=SINCE, until=UNTIL, observed=[step, later])
    assert [c.kind for c in found] == ["promote", "drift"]


def test_the_same_fact_from_two_places_is_listed_once_and_only_inside_the_period() -> None:
    a = Change(T0, "deploy", "web", "prod", "deployed 1.0", "ci")
    early = Change(SINCE - minutes(1), "deploy", "web", "prod", "deployed 0.9", "ci")
    late = Change(UNTIL + minutes(1), "deploy", "web", "prod", "deployed 1.1", "ci")
    found = collect(snapshot(), [], since=SINCE, until=UNTIL, observed=[a, a, early, late])
    assert found == [a]


def test_a_run_belongs_to_the_last_environment_it_deployed_to_not_the_one_it_failed_in() -> None:
    failed = pipeline_run(
        T0,
        status=Status.FAILED,
        finished_at=T0 - minutes(20),
        stages=(
            Stage("deploy-staging", Status.SUCCEEDED, environment="staging"),
            Stage("deploy-prod", Status.FAILED, environment="prod"),
        ),
    )
    built = pipeline_run(T0, id="web#9", number=9, finished_at=T0 - minutes(10))
    found = collect(snapshot(runs=(failed, built)), [], since=SINCE, until=UNTIL)
    assert [(c.summary.split(" (")[0], c.environment) for c in found] == [
        ("pipeline release #7 failed", "staging"),
        ("pipeline release #9 succeeded", ""),  # built, deployed nowhere: the service's only
    ]
