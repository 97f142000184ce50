"""The executor enforces the final decision itself: plan, refusals, break-glass, audit first."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.actions import targets
from cockpit.actions.autopilot import AUTO_ACTOR, Proposal, roll_back
from cockpit.actions.executor import Executor
from cockpit.actions.policy import Operator
from cockpit.audit import Actor, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.model import Action, ActionKind
from cockpit.wiring import wire

THURSDAY_3AM = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # outside business hours
THURSDAY_10AM = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # inside
BUSINESS_HOURS = {
    "name": "business-hours",
    "schedule": "0 9 * * 1-5",
    "duration": "8h",
    "environments": ["prod"],
}
TWO_PERSON_ROLLBACK: dict[str, Any] = {
    "windows": [BUSINESS_HOURS],
    "environments": {"prod": {"two_person": ["rollback"], "unknown_gates": "warn"}},
}


class Desk:
    """One operator's cockpit without a screen: hub, executor and journal on a shared log."""

    def __init__(self, folder: Path, policy: dict[str, Any], user: str, clock: FixedClock):
        settings = config.load(None, seed=7, scale=12, env={})
        settings = replace(
            settings,
            policy=options.parse(PolicyConfig, policy),
            audit=config.AuditConfig(str(folder / "audit.sqlite3")),
        )
        who = Actor(user=user, host="testhost", ssh_client="", pid=4242, version="test")
        self.hub, self.executor, self.journal = wire(settings, actor=who, clock=clock)
        self.executor.operator = Operator(user)  # no OS group lookup for test users
        self.path = folder / "audit.sqlite3"
        self.clock = clock

    @property
    def ex(self) -> Executor:
        return self.executor

    def version(self, service: str, environment: str = "prod") -> str:
        dep = self.hub.snapshot.cell(service, environment).deployment
        assert dep is not None
        return dep.version

    def rollback(self, service: str = "cart", to: str | None = None) -> Action:
        built = targets.rollback(self.hub.snapshot, service, "prod", to)
        assert isinstance(built, Action), built
        return built

    def records(self) -> list[Any]:
        store = open_store(str(self.path), clock=self.clock, create=False)
        try:
            return list(store.records())
        finally:
            store.close()


OpenDesk = Callable[..., Any]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[OpenDesk]:
    opened: list[Desk] = []

    async def open_desk(
        policy: dict[str, Any] | None = None,
        user: str = "alice",
        clock: FixedClock | None = None,
    ) -> Desk:
        d = Desk(
            tmp_path,
            policy or {"environments": {"prod": {"unknown_gates": "warn"}}},
            user,
            clock or FixedClock(THURSDAY_3AM),
        )
        await d.journal.call(lambda store: store.head())  # as the app does after its first frame
        await d.hub.refresh()
        opened.append(d)
        return d

    yield open_desk
    for d in opened:
        await d.hub.stop()
        d.journal.close()


def events(records: list[Any]) -> list[tuple[str, str]]:
    return [
        (r.event_type.value, r.actor.user)
        for r in records
        if r.event_type != EventType.AUDIT_INITIALIZED
    ]


# Two-person rule and break-glass ------------------------------------------------------
async def test_two_person_request_in_a_closed_window_needs_break_glass_when_requested(
    desk: OpenDesk,
) -> None:
    alice = await desk(TWO_PERSON_ROLLBACK)
    plan = alice.ex.plan(alice.rollback())
    assert plan.decision.outcome == "needs_approval" and plan.decision.needs_break_glass

    unticked = await alice.ex.submit(plan, reason="error budget burning", confirmation="cart")
    assert unticked.status == "refused"
    assert "prod is closed for changes" in unticked.message and "break-glass" in unticked.message
    assert not alice.hub.snapshot.approvals or all(
        a.source != "cockpit" for a in alice.hub.snapshot.approvals
    )

    ticked = await alice.ex.submit(
        plan, reason="error budget burning", confirmation="cart", break_glass=True
    )
    assert ticked.status == "pending"
    log = alice.records()
    glass = [r for r in log if r.event_type == EventType.BREAKGLASS_USED]
    pending = [r for r in log if r.event_type == EventType.APPROVAL_PENDING]
    assert [g.actor.user for g in glass] == ["alice"], "recorded when requested"
    assert pending[0].break_glass and pending[0].request_id == glass[0].request_id


async def test_approving_a_break_glass_request_runs_it_as_break_glass(desk: OpenDesk) -> None:
    alice = await desk(TWO_PERSON_ROLLBACK)
    was = alice.version("cart")
    asked = await alice.ex.submit(
        alice.ex.plan(alice.rollback()),
        reason="error budget burning",
        confirmation="cart",
        break_glass=True,
    )
    assert asked.status == "pending"

    bob = await desk(TWO_PERSON_ROLLBACK, user="bob")
    pending = next(a for a in bob.hub.snapshot.approvals if a.source == "cockpit")
    approve = bob.ex.plan(targets.decide(pending, ActionKind.APPROVE))
    done = await bob.ex.submit(approve, reason="checked the error budget", confirmation="cart")
    assert done.status == "succeeded", done.message
    await bob.hub.refresh()
    assert bob.version("cart") != was

    ran = next(r for r in bob.records() if r.event_type == EventType.ACTION_SUCCEEDED)
    assert ran.policy["decision"] == "break_glass" and ran.break_glass
    assert ran.extra["initiator"] == "alice" and ran.extra["approvers"] == ["bob"]


async def test_approval_rechecks_the_window_when_the_second_person_approves(
    desk: OpenDesk,
) -> None:
    clock = FixedClock(THURSDAY_10AM)
    alice = await desk(TWO_PERSON_ROLLBACK, clock=clock)
    was = alice.version("cart")
    plan = alice.ex.plan(alice.rollback())
    assert plan.decision.outcome == "needs_approval" and not plan.decision.needs_break_glass
    asked = await alice.ex.submit(plan, reason="error budget burning", confirmation="cart")
    assert asked.status == "pending"

    clock.set(THURSDAY_3AM.replace(day=27))  # Friday 03:00: the window has closed since
    bob = await desk(TWO_PERSON_ROLLBACK, user="bob", clock=clock)
    pending = next(a for a in bob.hub.snapshot.approvals if a.source == "cockpit")
    approve = bob.ex.plan(targets.decide(pending, ActionKind.APPROVE))
    done = await bob.ex.submit(approve, reason="checked the error budget", confirmation="cart")

    assert done.status == "refused"
    assert "prod is closed for changes" in done.message and "break-glass" in done.message
    assert bob.version("cart") == was, "nothing ran"
    log = bob.records()
    assert not [r for r in log if r.event_type == EventType.ACTION_REQUESTED]
    refusal = [r for r in log if r.event_type == EventType.ACTION_REFUSED]
    assert len(refusal) == 1 and refusal[0].actor.user == "bob"
    assert "break-glass needed" in refusal[0].extra["refusal"][0]


# Typed confirmation -------------------------------------------------------------------
async def test_executor_refuses_a_missing_typed_confirmation(desk: OpenDesk) -> None:
    alice = await desk({"environments": {"prod": {"typed_confirmation": ["rollback"]}}})
    was = alice.version("cart")
    plan = alice.ex.plan(alice.rollback())
    assert plan.decision.typed_confirmation  # asked for by policy (not a rollback's default)
    out = await alice.ex.submit(plan, reason="error budget burning", confirmation=None)
    assert out.status == "refused" and "type cart to confirm" in out.message
    await alice.hub.refresh()
    assert alice.version("cart") == was
    assert [e for e, _ in events(alice.records()) if e.startswith("action.")] == ["action.refused"]


async def test_typed_confirmation_matches_the_service_name_as_displayed(desk: OpenDesk) -> None:
    alice = await desk()
    hostile = Action(ActionKind.ROLLBACK, "we\x1bb", "prod", source="demo", version="1.0.0")
    plan = alice.ex.plan(hostile)
    assert plan.confirmation_word == "we^[b"
    out = await alice.ex.submit(plan, reason="a name with an escape in it", confirmation="we^[b")
    assert "confirm" not in out.message, out.message
    assert "action.requested" in [e for e, _ in events(alice.records())], "confirmation accepted"


# Rollback during a canary ------------------------------------------------------------
async def test_rollback_to_another_version_during_a_canary_is_refused_by_the_plan(
    desk: OpenDesk,
) -> None:
    alice = await desk()
    plan = alice.ex.plan(alice.rollback("checkout", to="1.5.10"))
    assert plan.decision.refused
    assert plan.decision.reasons[-1] == (
        "checkout has an active canary in prod (1.5.11 → 1.5.14): abort the canary first, "
        "then roll back to 1.5.10"
    )
    out = await alice.ex.submit(plan, reason="bad canary, go back", confirmation="checkout")
    assert out.status == "refused"
    await alice.hub.refresh()
    canary = alice.hub.snapshot.cell("checkout", "prod").canary
    assert canary is not None and canary.phase.active, "nothing ran"
    (refused,) = [r for r in alice.records() if r.event_type.value.startswith("action.")]
    assert refused.event_type == EventType.ACTION_REFUSED
    assert (refused.target.from_version, refused.target.to_version) == ("1.5.14", "1.5.10")


async def test_rollback_to_the_stable_version_during_a_canary_agrees_everywhere(
    desk: OpenDesk,
) -> None:
    alice = await desk()
    plan = alice.ex.plan(alice.rollback("checkout", to="1.5.11"))
    assert plan.title == "Rollback checkout 1.5.14 → 1.5.11 in PROD (production)"
    out = await alice.ex.submit(plan, reason="bad canary, go back", confirmation="checkout")
    assert out.status == "succeeded" and "1.5.11 serves all traffic" in out.message
    await alice.hub.refresh()
    cell = alice.hub.snapshot.cell("checkout", "prod")
    assert cell.canary is None or not cell.canary.phase.active
    assert alice.version("checkout") == "1.5.11"
    moved = [r for r in alice.records() if r.event_type.value.startswith("action.")]
    assert [(r.target.from_version, r.target.to_version) for r in moved] == [
        ("1.5.14", "1.5.11"),
        ("1.5.14", "1.5.11"),
    ]


# The audit log first -----------------------------------------------------------------
async def test_an_audit_log_that_cannot_be_written_runs_nothing(
    desk: OpenDesk, tmp_path: Path
) -> None:
    open_store(str(tmp_path / "audit.sqlite3"), clock=FixedClock(THURSDAY_3AM)).close()
    with sqlite3.connect(tmp_path / "audit.sqlite3") as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")  # the store now refuses to write
    alice = await desk()
    was = alice.version("cart")
    out = await alice.ex.submit(
        alice.ex.plan(alice.rollback()), reason="error budget burning", confirmation="cart"
    )
    assert out.status == "failed"
    assert out.message.startswith("nothing was run: the audit log is unavailable (AuditError:")
    await alice.hub.refresh()
    assert alice.version("cart") == was, "the connector was never called"


# Automatic rollback -------------------------------------------------------------------
def failing(d: Desk) -> Proposal:
    canary = d.hub.snapshot.cell("payments", "prod").canary
    assert canary is not None and canary.verdict is not None
    verdict = replace(canary.verdict, decision="fail")
    return Proposal("payments", "prod", canary.canary_version, "verdict fail", verdict, True)


CLOSED_AUTO: dict[str, Any] = {
    "windows": [BUSINESS_HOURS],
    "environments": {"prod": {"auto_rollback": True, "unknown_gates": "warn"}},
}


async def test_auto_rollback_in_a_closed_window_does_not_grant_itself_break_glass(
    desk: OpenDesk,
) -> None:
    d = await desk(CLOSED_AUTO)
    out = await roll_back(d.ex, failing(d), d.ex.actor)
    assert not isinstance(out, str) and out.status == "refused"
    await d.hub.refresh()
    canary = d.hub.snapshot.cell("payments", "prod").canary
    assert canary is not None and canary.phase.active
    log = [r for r in d.records() if r.event_type != EventType.AUDIT_INITIALIZED]
    assert [(r.event_type, r.actor.user) for r in log] == [
        (EventType.VERDICT_RECORDED, AUTO_ACTOR),
        (EventType.ACTION_REFUSED, AUTO_ACTOR),
    ]
    assert log[1].policy["decision"] == "break_glass" and log[1].policy["break_glass"] is False


async def test_auto_rollback_breaks_glass_where_policy_says_so(desk: OpenDesk) -> None:
    d = await desk({**CLOSED_AUTO, "auto_rollback": {"break_glass": True}})
    out = await roll_back(d.ex, failing(d), d.ex.actor)
    assert not isinstance(out, str) and out.status == "succeeded", out
    log = [r for r in d.records() if r.event_type != EventType.AUDIT_INITIALIZED]
    assert [r.event_type for r in log] == [
        EventType.VERDICT_RECORDED,
        EventType.BREAKGLASS_USED,
        EventType.ACTION_REQUESTED,
        EventType.ACTION_SUCCEEDED,
    ]
    assert {r.actor.user for r in log} == {AUTO_ACTOR}
    assert log[-1].policy["decision"] == "break_glass" and log[-1].break_glass


async def test_two_silences_of_different_alerts_on_one_service_both_run(desk: OpenDesk) -> None:
    """The repeated-request guard tells actions apart by what they act on, remote id included:
    silencing two alerts of one service at once is two actions, not one pressed twice."""
    d = await desk()
    alert = next(a for a in d.hub.snapshot.alerts if a.firing and not a.silenced)
    first = targets.silence(d.hub.snapshot, alert, "1h")
    assert isinstance(first, Action), first
    second = replace(first, remote_id="f" * 16)  # another alert of the same service
    plans = [d.ex.plan(first), d.ex.plan(second)]
    outcomes = await asyncio.gather(
        *(d.ex.submit(p, reason="paging storm while we roll back") for p in plans)
    )
    assert [o.status for o in outcomes].count("duplicate") == 0, outcomes
    requested = [r for r in d.records() if r.event_type == EventType.ACTION_REQUESTED]
    assert len(requested) == 2


async def test_a_silence_plan_names_the_alert_not_a_version(desk: OpenDesk) -> None:
    d = await desk()
    alert = next(a for a in d.hub.snapshot.alerts if a.firing and not a.silenced)
    built = targets.silence(d.hub.snapshot, alert, "1h")
    assert isinstance(built, Action), built
    title = d.ex.plan(built).title
    assert title.startswith(f"Silence {alert.name} on {alert.service} in ")
