"""The action dialog fails closed: break-glass asked where needed, a broken audit log runs nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import Button, Checkbox, Input

from cockpit import config, options
from cockpit.app import CockpitApp
from cockpit.audit import Actor, EventType, open_store
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import T0  # Thursday 03:00 UTC

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
    dialog.query_one("#confirm", Input).focus()
    await pilot.press(*"cart")
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


async def test_an_audit_log_that_cannot_be_written_runs_nothing_and_the_cockpit_stays(
    tmp_path: Path,
) -> None:
    open_store(str(tmp_path / "audit.sqlite3"), clock=FixedClock(T0)).close()
    with sqlite3.connect(tmp_path / "audit.sqlite3") as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")  # the store now refuses to write
    app = cockpit(tmp_path)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        before = app.hub.snapshot.cell("cart", "prod").deployment
        dialog = await roll_back_cart(pilot, app)
        button = dialog.query_one("#confirm-button", Button)
        button.focus()
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running and app.return_code is None
        messages = [n.message for n in app._notifications]
        assert any(
            m.startswith("nothing was run: the audit log is unavailable") for m in messages
        ), messages
        await app.hub.refresh()
        assert app.hub.snapshot.cell("cart", "prod").deployment.version == before.version  # type: ignore[union-attr]
        await pilot.press("1")  # still answering keys
        await pilot.pause()
        assert app.is_running
