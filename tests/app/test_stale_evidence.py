"""Stale evidence is visible: the canary view gives the verdict's age, a dialog says so on top."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from cockpit.clock import FixedClock
from cockpit.errors import Unreachable
from cockpit.model import Observation
from screens.dialog import ActionDialog
from tests.app.helpers import T0, app_with


async def outage(app: Any, pilot: Any) -> None:
    """The demo source stops answering (as a server that refuses connections would)."""

    async def refused() -> Observation:
        raise Unreachable("connection refused")

    app.hub.connector("demo").poll = refused
    await app.hub.refresh()
    while getattr(app.screen, "generation", None) != app.hub.snapshot.generation:
        await pilot.pause()


def detail(app: Any) -> str:
    return str(app.screen.query_one("#canary-detail", Static).content)


async def test_canary_view_shows_the_verdict_age_and_unknown_while_its_source_fails(
    tmp_path: Path,
) -> None:
    clock = FixedClock(T0)
    app = app_with(tmp_path, clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        await pilot.pause()
        assert "verdict PASS" in detail(app) and "on data from 2s ago" in detail(app)
        clock.advance(180)
        await outage(app, pilot)
        text = detail(app)
        assert "verdict UNKNOWN" in text, text
        assert "on data from 3m ago" in text
        assert "demo failing" in text and "connection refused" in text


async def test_a_dialog_opened_on_stale_data_says_so_at_the_top(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    app = app_with(tmp_path, clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ActionDialog)
        assert not app.screen.query("#dialog-stale"), "fresh data: no banner"
        await pilot.press("escape")
        clock.advance(120)
        await outage(app, pilot)
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog)
        banner = str(dialog.query_one("#dialog-stale", Static).content)
        assert banner.startswith("STALE DATA")
        assert "demo failing (last success 2m ago)" in banner
