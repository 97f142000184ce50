"""The hotfix toggle in the promote dialog (Pilot): shown where the lane applies, and audited."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import Button, Checkbox, Input, Static

from cockpit import config
from cockpit.actions import targets
from cockpit.app import CockpitApp
from cockpit.audit import Actor, AuditRecord, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.model import Action
from screens.dialog import ActionDialog
from tests.app.helpers import T0

LANE: dict[str, Any] = {"lanes": {"hotfix": {"gates": ["pipeline", "tests"], "approvals": 0}}}


def app_with(tmp_path: Path, policy: dict[str, Any]) -> CockpitApp:
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, policy),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    who = Actor(user="alice", host="testhost", ssh_client="", pid=4242, version="test")
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, actor=who)
    app.animation_level = "none"
    return app


def promote(app: CockpitApp, service: str) -> Action:
    built = targets.promote(app.hub.snapshot, service, "prod")
    assert isinstance(built, Action), built
    return built


def actions(app: CockpitApp) -> list[AuditRecord]:
    store = open_store(app.settings.audit.path, clock=FixedClock(T0), create=False)
    try:
        return [r for r in store.records() if r.event_type.value.startswith("action.")]
    finally:
        store.close()


async def test_the_hotfix_toggle_switches_the_plan_and_the_promote_is_recorded_as_hotfix(
    tmp_path: Path,
) -> None:
    app = app_with(tmp_path, LANE)
    async with app.run_test(size=(120, 36)) as pilot:
        # search's prod promote waits for a canary soak: refused unless it is a hotfix.
        app.request_action(promote(app, "search"))
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog) and dialog.plan.decision.refused
        button = dialog.query_one("#confirm-button", Button)
        assert button.disabled
        dialog.query_one("#hotfix", Checkbox).focus()
        await pilot.press("space")
        assert dialog.plan.decision.lane is not None
        assert [g.name for g in dialog.plan.decision.gates] == ["pipeline", "tests"]
        assert "lane: hotfix: gates pipeline, tests" in str(
            dialog.query_one("#dialog-plan", Static).render()
        )
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"INC-7 search 500s")
        dialog.query_one("#confirm", Input).focus()
        await pilot.press(*"search")
        assert button.disabled, "the lane requires a ticket"
        assert "the hotfix lane requires a change ticket" in str(
            dialog.query_one("#dialog-why", Static).render()
        )
        dialog.query_one("#ticket", Input).focus()
        await pilot.press(*"CHG-7")
        assert not button.disabled
        button.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    done = actions(app)
    assert [r.event_type for r in done] == [EventType.ACTION_REQUESTED, EventType.ACTION_SUCCEEDED]
    assert all(r.policy["lane"] == "hotfix" and r.ticket == "CHG-7" for r in done)
    assert done[-1].policy["follow_up_due"] == "2026-11-27T03:00:00.000Z"


async def test_unticking_the_hotfix_toggle_goes_back_to_the_refused_normal_plan(
    tmp_path: Path,
) -> None:
    app = app_with(tmp_path, LANE)
    async with app.run_test(size=(120, 36)) as pilot:
        app.request_action(promote(app, "search"))
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        box = dialog.query_one("#hotfix", Checkbox)
        box.focus()
        await pilot.press("space", "space")
        assert not box.value and dialog.plan.decision.refused
        assert dialog.query_one("#confirm-button", Button).disabled


async def test_no_hotfix_toggle_without_a_lane_or_for_other_actions(tmp_path: Path) -> None:
    app = app_with(tmp_path, {"environments": {"prod": {"unknown_gates": "warn"}}})
    async with app.run_test(size=(120, 36)) as pilot:
        app.request_action(promote(app, "payments"))
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog) and not app.screen.query("#hotfix")
    app = app_with(tmp_path, LANE)
    async with app.run_test(size=(120, 36)) as pilot:
        app.request_action(targets.rollback(app.hub.snapshot, "payments", "prod", None))
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog) and not app.screen.query("#hotfix")
