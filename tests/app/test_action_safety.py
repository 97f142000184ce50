"""The action dialog fails closed: break-glass asked where needed, a broken audit log runs nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Button, Checkbox, Input, Static

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit import Actor, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from cockpit.model import Action, ActionResult
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import T0, Toasts  # Thursday 03:00 UTC

CLOSED_AT_NIGHT: dict[str, Any] = {
    "windows": [
        {
            "name": "business-hours",
            "schedule": "0 9 * * 1-5",
            "duration": "8h",
            "environments": ["prod"],
        }
    ],
    "environments": {"prod": {"two_person": ["rollback"], "unknown_gates": "warn"}},
}


def cockpit(tmp_path: Path, policy: dict[str, Any] | None = None) -> CockpitApp:
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(
        settings,
        policy=options.parse(PolicyConfig, policy or {"environments": {"prod": {}}}),
        audit=config.AuditConfig(str(tmp_path / "audit.sqlite3")),
    )
    who = Actor(user="alice", host="testhost", ssh_client="", pid=4242, version="test")
    app = CockpitApp(settings, clock=FixedClock(T0), poll=False, actor=who)
    app.animation_level = "none"
    return app


async def roll_back_cart(pilot: Any, app: CockpitApp) -> ActionDialog:
    matrix = app.screen.query_one("#matrix", LiveTable)
    matrix.move_cursor(row=matrix.keys.index("cart"), column=3)
    await pilot.press("b")
    await pilot.pause()
    dialog = app.screen
    assert isinstance(dialog, ActionDialog)
    dialog.query_one("#reason", Input).focus()
    await pilot.press(*"error budget burning")
    assert not dialog.query("#confirm"), "a rollback needs no typed name by default"
    return dialog


async def test_a_two_person_request_in_a_closed_window_asks_for_break_glass(
    tmp_path: Path,
) -> None:
    app = cockpit(tmp_path, CLOSED_AT_NIGHT)
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await roll_back_cart(pilot, app)
        button = dialog.query_one("#confirm-button", Button)
        assert str(button.label) == "Request approval"
        assert button.disabled, "not without the break-glass tick"
        dialog.query_one("#glass", Checkbox).value = True
        await pilot.pause()
        assert not button.disabled
        button.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    store = open_store(str(tmp_path / "audit.sqlite3"), clock=FixedClock(T0), create=False)
    kinds = [r.event_type for r in store.records()]
    store.close()
    assert EventType.BREAKGLASS_USED in kinds and EventType.APPROVAL_PENDING in kinds


async def test_an_audit_log_that_cannot_be_written_shows_the_error_in_the_dialog_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_store(str(tmp_path / "audit.sqlite3"), clock=FixedClock(T0)).close()
    with sqlite3.connect(tmp_path / "audit.sqlite3") as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")  # the store now refuses to write
    app = cockpit(tmp_path)
    shown_toasts = Toasts()
    async with app.run_test(size=(120, 36), message_hook=shown_toasts.hook) as pilot:
        executed: list[Action] = []
        connector = app.hub.connector("demo")

        async def execute(action: Action) -> ActionResult:
            executed.append(action)
            return ActionResult(True, "ran")

        monkeypatch.setattr(connector, "execute", execute)
        before = app.hub.snapshot.cell("cart", "prod").deployment
        dialog = await roll_back_cart(pilot, app)
        button = dialog.query_one("#confirm-button", Button)
        button.focus()
        await pilot.press("enter")
        # The action's own worker waits on the dialog, which stays open: wait for the dialog's
        # (started by the key press, gone from app.workers once done).
        while any(w.node is dialog for w in app.workers):
            await pilot.pause()
        assert app.is_running and app.return_code is None
        assert app.screen is dialog, "the dialog stays where the operator acted"
        shown = dialog.query_one("#dialog-why", Static).content
        assert isinstance(shown, Text), "shown literally, never parsed as markup"
        assert shown.plain.startswith("nothing was run: the audit log is unavailable ("), shown
        toasts = [n.message for n in shown_toasts]
        assert not [m for m in toasts if m.startswith("nothing was run")], "not behind its back"
        assert executed == []
        await app.hub.refresh()
        assert app.hub.snapshot.cell("cart", "prod").deployment.version == before.version  # type: ignore[union-attr]
        await pilot.press("escape")  # Esc still closes it
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog)
        await pilot.press("1")  # still answering keys
        await pilot.pause()
        assert app.is_running
    assert executed == []
