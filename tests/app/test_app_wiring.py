"""The app is wiring: screens reach it through CockpitHost, own their palette entries, and
the fleet flows down as FleetUpdated messages (asserted with run_test's message_hook)."""

from __future__ import annotations

import ast
from pathlib import Path

from textual.command import CommandPalette
from textual.message import Message

from cockpit.app import CockpitApp, FleetUpdated
from screens.base import FleetScreen
from screens.host import CockpitHost
from screens.table import LiveTable
from tests.app.helpers import demo_app, palette_hits

SCREENS = Path(__file__).resolve().parents[2] / "screens"


def test_no_screen_imports_the_app_class_not_even_for_type_checking() -> None:
    importers = []
    for path in sorted(SCREENS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "cockpit.app":
                importers.append(path.name)
    assert importers == []


def test_the_app_is_a_cockpit_host() -> None:
    host: CockpitHost = demo_app()  # mypy checks the protocol; this checks it is all there
    for name in ("snapshot", "now", "request_action", "why_not", "open_cell", "window_state"):
        assert callable(getattr(host, name)) or name == "snapshot"


async def test_each_snapshot_reaches_the_view_as_one_fleet_updated_message() -> None:
    seen: list[Message] = []
    app = demo_app()
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        before = len([m for m in seen if isinstance(m, FleetUpdated)])
        snapshot = await app.hub.refresh()
        await pilot.pause()
        updates = [m for m in seen if isinstance(m, FleetUpdated)]
        assert len(updates) > before
        assert updates[-1].snapshot is snapshot
        screen = app.screen
        assert isinstance(screen, FleetScreen) and screen.generation == snapshot.generation


async def test_moving_the_cursor_posts_a_highlighted_message_naming_the_row() -> None:
    seen: list[Message] = []
    app = demo_app()
    async with app.run_test(size=(120, 36), message_hook=seen.append) as pilot:
        await pilot.press("down")
        await pilot.pause()
        moved = [m for m in seen if type(m) is LiveTable.Highlighted]
        assert moved, "no Highlighted message"
        last = moved[-1]
        assert last.control is last.table and last.key == last.table.current_key()


async def test_the_palette_lists_the_views_own_actions_through_its_commands_provider() -> None:
    app: CockpitApp = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")  # the canary view: promote, abort, pause...
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"promote")
        hits = await palette_hits(pilot, app)
        assert any(h.startswith("Action: Promote checkout in prod") for h in hits), hits
        assert not any(h.startswith("View:") for h in hits)


async def test_the_palette_jumps_to_a_service_from_the_incident_view_too() -> None:
    app: CockpitApp = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.switch_mode("incident")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"go to checkout")
        hits = await palette_hits(pilot, app)
        assert any(h.startswith("Go to checkout in") for h in hits), hits
