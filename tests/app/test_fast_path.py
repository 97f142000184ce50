"""The operator's fast path (issue 10 §3): a failing prod canary rolled back with `B`, the
reason and Enter, from launch; keys typed while the dialog opens land in its field."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Button, Input

from cockpit import config
from cockpit.actions import targets
from cockpit.app import CockpitApp
from cockpit.audit import EventType
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.model import Action, ActionKind, CanaryPhase
from screens.base import FleetScreen
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import BANNER, T0, Toasts, actor, degrade, records

REASON = "canary error rate climbing"


def cockpit(tmp_path: Path, clock: FixedClock, *, poll: bool, policy: Any = BANNER) -> CockpitApp:
    """The demo fleet under `policy` (default: prod's failing canary waits for a human)."""
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, policy),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    app = CockpitApp(settings, clock=clock, poll=poll, actor=actor("alice"))
    app.animation_level = "none"
    return app


def burst(app: CockpitApp, keys: list[str]) -> None:
    """Keys as a terminal delivers a paste or fast typing: all queued before any is handled."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


def reason_field(app: CockpitApp) -> Input:
    dialog = app.screen
    assert isinstance(dialog, ActionDialog), f"no dialog on top: {dialog!r}"
    return dialog.query_one("#reason", Input)


async def test_three_key_rollback_from_launch(tmp_path: Path) -> None:
    """Started as `cockpit` starts (polling on), auto_rollback off for prod, the demo's
    payments canary failing: `B`, the reason, Enter roll it back, audited with the verdict."""
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=True)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await degrade(app, clock, pilot)
        assert app.banner is not None and "press B to roll back" in app.banner.plain
        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and canary.phase.active, "nothing rolled back on its own"
        assert canary.verdict is not None
        digest = canary.verdict.digest

        keys = ["B", *REASON, "enter"]
        await pilot.press(*keys)
        await app.workers.wait_for_complete()
        await pilot.pause()

        canary = app.hub.snapshot.cell("payments", "prod").canary
        assert canary is not None and canary.phase is CanaryPhase.ABORTED
        assert not isinstance(app.screen, ActionDialog)
    assert len(keys) - len(REASON) == 2, "B and Enter, plus the reason (the issue's bound: 3)"
    log = records(app)
    requested = [r for r in log if r.event_type == EventType.ACTION_REQUESTED]
    done = [r for r in log if r.event_type == EventType.ACTION_SUCCEEDED]
    assert [(r.action, r.reason) for r in requested] == [("rollback", REASON)]
    assert [(r.action, r.reason) for r in done] == [("rollback", REASON)]
    record = done[0]
    assert record.request_id == requested[0].request_id
    assert record.actor.user == "alice" and record.actor.host == "testhost"
    assert record.target is not None
    assert (record.target.service, record.target.environment) == ("payments", "prod")
    assert (record.target.from_version, record.target.to_version) == ("2.7.15", "2.7.12")
    verdict = record.evidence["verdict"]
    assert verdict["decision"] == "fail" and verdict["summary"].startswith("fail (score 0)")
    assert record.evidence["verdict_digest"] == digest and digest.startswith("sha256:")


async def test_keys_typed_while_the_dialog_opens_land_in_the_reason_field(tmp_path: Path) -> None:
    """`B` and the reason pressed in one go: the whole reason is in the reason field, and
    nothing reached the overview behind (its cursor stayed, no other action fired)."""
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    shown = Toasts()
    async with app.run_test(size=(120, 36), message_hook=shown.hook) as pilot:
        await degrade(app, clock, pilot)
        matrix = app.screen.query_one("#matrix", LiveTable)
        cursor = (matrix.current_key(), matrix.cursor_row, matrix.cursor_column)
        toasts = len(shown)
        # "a" approves, "s" syncs, "p" promotes, "b" rolls back on the overview.
        await pilot.press("B", *"bad canary: approve, sync, promote? no", "j", "k")
        assert reason_field(app).value == "bad canary: approve, sync, promote? nojk"
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert dialog.query_one("#ticket", Input).value == ""
        assert app.focused is reason_field(app)
        assert (matrix.current_key(), matrix.cursor_row, matrix.cursor_column) == cursor, (
            "the table behind did not move"
        )
        assert len(shown) == toasts, "no other action answered"
        assert not [r for r in records(app) if r.event_type != EventType.APP_START][1:]


async def test_a_burst_of_keys_reaches_the_fields_in_order_across_tab(tmp_path: Path) -> None:
    """All keys queued at once (a paste, a fast typist over SSH): the reason, Tab, the
    ticket, each in its field; Enter then runs it."""
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await degrade(app, clock, pilot)
        burst(app, ["B", *REASON, "tab", *"CHG-42"])
        for _ in range(100):  # until the dialog has taken the last key (bounded)
            if isinstance(app.screen, ActionDialog) and app.screen.query("#ticket"):
                break
            await pilot.pause()
        for _ in range(100):
            if app.screen.query_one("#ticket", Input).value == "CHG-42":
                break
            await pilot.pause()
        dialog = app.screen
        assert reason_field(app).value == REASON
        assert dialog.query_one("#ticket", Input).value == "CHG-42"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    done = [r for r in records(app) if r.event_type == EventType.ACTION_SUCCEEDED]
    assert [(r.action, r.reason, r.ticket) for r in done] == [("rollback", REASON, "CHG-42")]


async def test_the_dialog_opens_on_the_reason_and_enter_says_what_is_missing(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await degrade(app, clock, pilot)
        await pilot.press("B")
        await pilot.pause()
        assert app.focused is reason_field(app), "focus starts on the reason"
        await pilot.press(*"short", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog), "Enter with a short reason stays"
        why = dialog.query_one("#dialog-why").render()
        assert "Not yet: a reason of at least 10 characters is required" in str(why)
        assert dialog.query_one("#confirm-button", Button).disabled
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog), "Esc cancels"
    assert not [r for r in records(app) if r.event_type == EventType.ACTION_REQUESTED]


async def test_no_invisible_tab_stop_every_stop_is_a_labelled_field_or_button(
    tmp_path: Path,
) -> None:
    """Tab cycles through the fields and buttons only; the plan is not a stop (PgUp/PgDn
    scroll it); each input has a label beside it."""
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await degrade(app, clock, pilot)
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        assert [w.id for w in dialog.focus_chain] == ["reason", "ticket", "cancel"]
        seen = []
        for _ in range(4):
            await pilot.press("tab")
            seen.append(app.focused.id if app.focused else None)
        assert seen == ["ticket", "cancel", "reason", "ticket"]
        await pilot.press("shift+tab")
        assert app.focused is reason_field(app)
        labels = [str(f.query_one(".field-label").render()) for f in dialog.query(".field")]
        assert labels == ["Reason", "Ticket"]


async def test_a_target_that_moved_while_the_dialog_was_open_refuses_the_stale_plan(
    tmp_path: Path,
) -> None:
    """Someone else rolls cart back while our rollback dialog is open: the view behind
    updates, the dialog says what moved, and submitting is refused and audited."""
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        overview = app.screen
        assert isinstance(overview, FleetScreen)
        matrix = overview.query_one("#matrix", LiveTable)
        matrix.move_cursor(row=matrix.keys.index("cart"), column=3)
        await pilot.press("b")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        moved_banner = dialog.query_one("#dialog-moved")
        assert not moved_banner.display

        elsewhere = targets.rollback(app.hub.snapshot, "cart", "prod")
        assert isinstance(elsewhere, Action)
        await app.hub.connector("demo").execute(elsewhere)  # type: ignore[union-attr]
        await app.hub.refresh()
        await pilot.pause()
        assert app.screen is dialog
        assert overview.generation == app.hub.snapshot.generation, "the view behind updated"
        assert moved_banner.display
        shown = str(moved_banner.render())
        assert "cart/prod moved from 3.1.13 to 3.1.12 since this opened" in shown, shown

        await pilot.press(*"error budget burning", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog)
    log = records(app)
    assert not [r for r in log if r.event_type == EventType.ACTION_REQUESTED], "nothing ran"
    (refusal,) = [r for r in log if r.event_type == EventType.ACTION_REFUSED]
    assert refusal.actor.user == "alice" and refusal.reason == "error budget burning"
    assert refusal.extra["refusal"] == ["cart/prod moved from 3.1.13 to 3.1.12 since this opened"]


async def test_a_canary_that_ended_while_b_was_open_is_not_rolled_back_twice(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await degrade(app, clock, pilot)
        await pilot.press("B")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        abort = targets.canary_action(app.hub.snapshot, ActionKind.ABORT, "payments", "prod")
        assert isinstance(abort, Action)
        await app.hub.connector("demo").execute(abort)  # type: ignore[union-attr]
        await app.hub.refresh()
        await pilot.pause()
        shown = str(dialog.query_one("#dialog-moved").render())
        assert "the canary 2.7.15 on payments/prod ended since this opened (aborted)" in shown
        await pilot.press(*REASON, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    log = records(app)
    assert not [r for r in log if r.event_type == EventType.ACTION_REQUESTED]
    (refusal,) = [r for r in log if r.event_type == EventType.ACTION_REFUSED]
    assert "ended since this opened" in refusal.extra["refusal"][0]


async def test_a_views_action_key_and_the_reason_typed_behind_it_reach_the_dialog(
    tmp_path: Path,
) -> None:
    """Not only `B`: `b` on the overview, then the reason in one burst; none of its letters
    acts on the overview (`a`, `p`, `s`, `x` are actions there)."""
    clock = FixedClock(T0)
    app = cockpit(tmp_path, clock, poll=False)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        matrix.move_cursor(row=matrix.keys.index("cart"), column=3)
        reason = "spikes: approve? sync? promote? no, roll back"
        burst(app, ["b", *reason])
        for _ in range(100):  # until the dialog has taken the last key (bounded)
            if isinstance(app.screen, ActionDialog) and reason_field(app).value == reason:
                break
            await pilot.pause()
        assert reason_field(app).value == reason
        assert matrix.current_key() == "cart"
        assert app.screen.plan.action.service == "cart"  # type: ignore[attr-defined]
    assert not [r for r in records(app) if r.event_type.value.startswith("action.")]
