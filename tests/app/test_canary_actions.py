"""Acting on the judge's verdict: automatic rollback (audited) or a banner and one key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cockpit.actions.autopilot import AUTO_ACTOR
from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.model import CanaryPhase
from screens.dialog import ActionDialog
from tests.app.helpers import BANNER, T0, app_with, degrade, fill_and_confirm, records

AUTO = {"environments": {"prod": {"auto_rollback": True, "unknown_gates": "warn"}}}


async def test_a_failing_canary_is_rolled_back_automatically_and_audited(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    app = app_with(tmp_path, AUTO, clock=clock)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert (
            canary is not None and canary.verdict is not None and canary.verdict.decision == "pass"
        )
        await degrade(app, clock, pilot)
        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and canary.phase is CanaryPhase.ABORTED
        checkout = app.hub.snapshot.cell("checkout", "prod").canary
        assert checkout is not None and checkout.phase.active, "the healthy canary is left alone"
        assert app.banner is None
    log = records(app)
    verdicts = [r for r in log if r.event_type == EventType.VERDICT_RECORDED]
    done = [r for r in log if r.event_type == EventType.ACTION_SUCCEEDED]
    assert len(verdicts) == 1 and len(done) == 1
    record = done[0]
    assert record.actor.user == AUTO_ACTOR
    assert record.action == "rollback" and record.target.service == "payments"
    assert record.reason.startswith(
        "automatic rollback: canary 2.7.15 verdict fail (score 0): error_rate"
    )
    assert record.evidence["verdict"]["decision"] == "fail"
    assert record.evidence["verdict_digest"] == verdicts[0].evidence["verdict_digest"]
    assert record.evidence["verdict_digest"].startswith("sha256:")


async def test_without_auto_rollback_a_banner_proposes_it_on_one_key(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    app = app_with(tmp_path, BANNER, clock=clock)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await degrade(app, clock, pilot)
        assert app.banner is not None
        assert (
            "payments 2.7.15 in prod" in app.banner.plain
            and "press B to roll back" in app.banner.plain
        )
        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and canary.phase.active, "nothing happens on its own"
        assert not [r for r in records(app) if r.event_type == EventType.ACTION_REQUESTED]
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert (
            dialog.plan.action.kind.value == "rollback" and dialog.plan.action.service == "payments"
        )
        await fill_and_confirm(pilot, app, "canary error rate is climbing", "payments")
        assert app.hub.snapshot.cell("payments", "prod").canary.phase is CanaryPhase.ABORTED  # type: ignore[union-attr]
        assert app.banner is None
    done = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert done[0].actor.user == "alice"


async def test_the_promote_dialog_carries_the_verdict_digest(tmp_path: Path) -> None:
    app = app_with(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        canary_gate = next(g for g in dialog.plan.decision.gates if g.name == "canary")
        assert canary_gate.status.value == "pass"
        assert "verdict sha256:" in canary_gate.evidence
        assert dialog.plan.evidence()["verdict_digest"].startswith("sha256:")


def test_banner_snapshot(snap_compare: Any, tmp_path: Path) -> None:
    """The overview with the red banner: payments' canary fails, press B to roll back."""
    clock = FixedClock(T0)
    app = app_with(tmp_path, BANNER, clock=clock)

    async def run_before(pilot: Any) -> None:
        await degrade(app, clock, pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
