"""Shared by the Pilot and snapshot tests: building apps (fixed clock, seeded demo, no
polling), driving the action dialog, reading back the audit log and what the screen shows."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.command import CommandList
from textual.geometry import Region
from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Button, Input

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.audit import Actor
from cockpit.clock import FixedClock
from cockpit.config import PolicyConfig
from cockpit.connect import options
from screens.dialog import ActionDialog
from tests.fakes import T0

__all__ = [
    "BANNER",
    "FORBIDDEN",
    "T0",
    "Toasts",
    "actor",
    "app_with",
    "assert_alive",
    "degrade",
    "demo_app",
    "fill_and_confirm",
    "palette_hits",
    "records",
    "visible",
]

# Terminal control, C1 and bidi characters: none may reach the screen from connector text.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The judge fails the demo's payments canary; the banner proposes the rollback, nothing acts.
BANNER = {"environments": {"prod": {"auto_rollback": False, "unknown_gates": "warn"}}}


def demo_app(
    *,
    seed: int = 7,
    scale: int = 12,
    keys: dict[str, str] | None = None,
    clock: FixedClock | None = None,
    **kw: object,
) -> CockpitApp:
    settings = config.load(None, seed=seed, scale=scale, env={})
    if keys:
        settings = replace(settings, keys=keys)
    app = CockpitApp(settings, clock=clock or FixedClock(T0), poll=False, **kw)  # type: ignore[arg-type]
    app.animation_level = "none"
    return app


def actor(user: str) -> Actor:
    return Actor(user=user, host="testhost", ssh_client="", pid=4242, version="test")


def app_with(
    tmp_path: Path, policy: dict | None = None, user: str = "alice", **kw: Any
) -> CockpitApp:
    settings = config.load(None, seed=7, scale=12, env={})
    pol = options.parse(
        PolicyConfig, policy or {"environments": {"prod": {"unknown_gates": "warn"}}}
    )
    settings = replace(
        settings, policy=pol, audit=config.AuditConfig(str(tmp_path / "audit.sqlite3"))
    )
    app = CockpitApp(
        settings, clock=kw.pop("clock", FixedClock(T0)), poll=False, actor=actor(user), **kw
    )
    app.animation_level = "none"
    return app


def records(app: CockpitApp) -> list:
    """Read back through a separate connection, as an auditor would."""
    from cockpit.audit import open_store

    store = open_store(app.settings.audit.path, clock=FixedClock(T0), create=False)
    try:
        return list(store.records())
    finally:
        store.close()


async def fill_and_confirm(pilot, app: CockpitApp, reason: str, confirm: str | None) -> None:  # type: ignore[no-untyped-def]
    dialog = app.screen
    assert isinstance(dialog, ActionDialog)
    dialog.query_one("#reason", Input).focus()
    await pilot.press(*reason)
    if dialog.query("#confirm"):  # policy asks for the name: `confirm` is what the test types
        assert confirm is not None, "this dialog asks for a typed confirmation"
        dialog.query_one("#confirm", Input).focus()
        await pilot.press(*confirm)
    button = dialog.query_one("#confirm-button", Button)
    assert not button.disabled
    button.focus()
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def degrade(app: Any, clock: FixedClock, pilot: Any, minutes: int = 5) -> None:
    """Let the demo's payments canary degrade until the judge fails it."""
    for _ in range(minutes * 2):
        clock.advance(30)
        await app.hub.refresh()
        # The app must have taken in this snapshot before time moves on again.
        while getattr(app.screen, "generation", None) != app.hub.snapshot.generation:
            await pilot.pause()
        await app.workers.wait_for_complete()


def visible(app: CockpitApp) -> str:
    """Every character the current screen draws, widget by widget."""
    out: list[str] = []
    for widget in app.screen.query(Widget):
        if widget.size.area and not widget.children:
            region = Region(0, 0, widget.size.width, widget.size.height)
            out.extend(seg.text for line in widget.render_lines(region) for seg in line)
        out.append("\n")
    return "".join(out)


class Toasts(list[Notification]):
    """Every notification the app posts (pass `hook` as run_test's message_hook)."""

    def hook(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.append(message.notification)

    def text(self) -> str:
        return "\n".join(f"{n.title}: {n.message}" for n in self)


async def palette_hits(pilot: Pilot[int], app: CockpitApp) -> list[str]:
    """The command palette's hits as plain text, once its search has answered."""
    hits: list[str] = []
    for _ in range(50):  # the search runs in a worker; a few frames at most
        await pilot.pause()
        hits = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        if hits and not hits[0].startswith("Searching"):
            break
    return hits


def assert_alive(app: CockpitApp) -> None:
    assert app.is_running and app.return_code is None, "the app exited"
