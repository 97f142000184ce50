"""A promote marked hotfix through the executor and the CLI: allowed, refused, audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.actions import lanes, targets
from cockpit.actions.executor import Executor
from cockpit.actions.policy import Operator
from cockpit.audit import Actor, AuditRecord, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.fleet.hub import Hub
from cockpit.model import Action
from cockpit.wiring import wire
from tests.cli import cockpit

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
LANE: dict[str, Any] = {"gates": ["pipeline", "tests"], "approvals": 0, "follow_up_hours": 24}
REASON = "INC-7: payment 500s, fix in 2.7.15"


@dataclass
class Desk:
    hub: Hub
    executor: Executor
    path: Path

    def records(self) -> list[AuditRecord]:
        store = open_store(str(self.path), clock=FixedClock(NOW), create=False)
        try:
            return [r for r in store.records() if r.event_type != EventType.AUDIT_INITIALIZED]
        finally:
            store.close()


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """The seeded demo fleet at a fixed time, with a hotfix lane in policy."""
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, {"lanes": {"hotfix": LANE}}),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    who = Actor(user="alice", host="testhost", ssh_client="", pid=4242, version="test")
    hub, executor, journal = wire(settings, actor=who, clock=FixedClock(NOW))
    executor.operator = Operator("alice")
    await journal.call(lambda store: store.head())
    await hub.settle()  # the demo publishes its supply-chain documents on a second poll
    yield Desk(hub, executor, tmp_path / "audit.sqlite3")
    await hub.stop()
    journal.close()


def soak_skipped(desk: Desk) -> Action:
    """A prod promote refused only for its canary soak, which the hotfix lane skips."""
    for service in sorted({key[0] for key in desk.hub.snapshot.cells}):
        built = targets.promote(desk.hub.snapshot, service, "prod")
        if isinstance(built, str):
            continue
        normal = desk.executor.plan(built).decision
        if normal.refused and desk.executor.plan(lanes.marked_hotfix(built)).decision.allowed:
            return built
    raise AssertionError("the demo has no prod promote waiting on its canary soak")


async def test_a_hotfix_promote_runs_with_the_lane_s_gates_and_records_lane_ticket_and_due(
    desk: Desk,
) -> None:
    built = soak_skipped(desk)
    assert any("gate canary" in r for r in desk.executor.plan(built).decision.reasons)
    plan = desk.executor.plan(lanes.marked_hotfix(built))
    assert [g.name for g in plan.decision.gates] == ["pipeline", "tests"]
    outcome = await desk.executor.submit(
        plan, reason=REASON, ticket="CHG-7", confirmation=built.service
    )
    assert outcome.status == "succeeded", outcome.message
    records = desk.records()
    assert [r.event_type for r in records] == [
        EventType.ACTION_REQUESTED,
        EventType.ACTION_SUCCEEDED,
    ]
    for r in records:
        assert r.ticket == "CHG-7" and r.action == "promote"
        assert r.policy["lane"] == "hotfix"
        assert r.policy["follow_up_due"] == "2026-11-27T10:00:00.000Z"
        assert [g["name"] for g in r.evidence["gates"]] == ["pipeline", "tests"]


async def test_a_hotfix_promote_without_a_ticket_is_refused_and_audited(desk: Desk) -> None:
    plan = desk.executor.plan(lanes.marked_hotfix(soak_skipped(desk)))
    outcome = await desk.executor.submit(
        plan, reason=REASON, ticket=" ", confirmation=plan.action.service
    )
    assert outcome.status == "refused"
    assert outcome.reasons == ("the hotfix lane requires a change ticket",)
    (record,) = desk.records()
    assert record.event_type == EventType.ACTION_REFUSED and record.policy["lane"] == "hotfix"
    assert record.extra["refusal"] == ["the hotfix lane requires a change ticket"]


# The command line --------------------------------------------------------------------
CONFIG = """\
connectors:
  - name: demo
    type: demo
    options: {{seed: 7, services: 12}}
audit:
  path: {audit}
policy:
  environments:
    prod: {{unknown_gates: warn}}
{lanes}
"""


def run_cli(tmp_path: Path, lanes_yaml: str, *extra: str) -> tuple[Any, list[tuple[str, Any]]]:
    audit = tmp_path / "audit.sqlite3"
    path = tmp_path / "cockpit.yaml"
    path.write_text(CONFIG.format(audit=audit, lanes=lanes_yaml))
    out = cockpit(
        "-c", str(path), "promote", "payments", "prod", "--hotfix", "--reason", REASON,
        "--confirm", "payments", *extra, cwd=tmp_path,
    )  # fmt: skip
    if not audit.exists():
        return out, []
    store = open_store(str(audit), clock=FixedClock(NOW), create=False)
    try:
        rows = [(str(r.event_type), r.policy.get("lane")) for r in store.records()]
    finally:
        store.close()
    return out, [row for row in rows if row[0].startswith("action.")]


def test_cli_hotfix_without_a_lane_in_policy_exits_3_and_is_audited(tmp_path: Path) -> None:
    out, rows = run_cli(tmp_path, "", "--ticket", "CHG-7", "--yes")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "no hotfix lane in this policy (add policy.lanes.hotfix to the config)" in out.stdout
    assert "lane:" not in out.stdout.split("policy:")[0]
    assert rows == [("action.refused", None)]


def test_cli_hotfix_without_a_ticket_exits_3_and_is_audited(tmp_path: Path) -> None:
    lane = "  lanes:\n    hotfix: {gates: [pipeline, tests], approvals: 0}"
    out, rows = run_cli(tmp_path, lane, "--yes")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "lane: hotfix: gates pipeline, tests; no approval; ticket required;" in out.stdout
    assert "policy: refused: the hotfix lane requires a change ticket" in out.stdout
    assert rows == [("action.refused", "hotfix")]


def test_cli_hotfix_plan_shows_the_lane_and_its_rules_and_runs_nothing(tmp_path: Path) -> None:
    lane = "  lanes:\n    hotfix: {gates: [pipeline, tests], approvals: 0, follow_up_hours: 8}"
    out, rows = run_cli(tmp_path, lane, "--ticket", "CHG-7")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[2].startswith(
        "lane: hotfix: gates pipeline, tests; no approval; ticket required; "
        "follow-up ticket due within 8h (by "
    )
    assert [line.split()[1] for line in lines[3:5]] == ["pipeline:", "tests:"]
    assert "policy: allowed" in lines
    assert rows == []
