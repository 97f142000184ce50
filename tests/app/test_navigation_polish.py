"""Pilot tests for issue 10's navigation polish: j/k, the filter line, the audit record,
jumping to a service from the palette, honest overview cells, canary history, NO_COLOR."""

from __future__ import annotations

import pytest

from cockpit.app import CockpitApp
from screens.help import HelpScreen
from screens.scroll import ScrollBox
from screens.sources import SourcesScreen
from screens.widgets import LiveTable
from tests.app.helpers import demo_app


def table(app: CockpitApp, selector: str) -> LiveTable:
    return app.screen.query_one(selector, LiveTable)


@pytest.mark.parametrize(
    ("view", "selector"),
    [
        ("1", "#matrix"),
        ("2", "#runs"),
        ("3", "#deployments"),
        ("4", "#canaries"),
        ("5", "#reports"),
        ("6", "#approvals"),
        ("7", "#audit-records"),
    ],
)
async def test_j_and_k_move_the_cursor_like_down_and_up(view: str, selector: str) -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(view)
        await pilot.pause()
        rows = table(app, selector)
        assert len(rows.keys) >= 2, "the demo shows at least two rows in every view"
        rows.focus()
        rows.move_cursor(row=0)
        await pilot.press("j")
        assert rows.cursor_row == 1
        await pilot.press("k")
        assert rows.cursor_row == 0
        await pilot.press("down", "up")
        assert rows.cursor_row == 0


async def test_j_and_k_scroll_the_help_and_the_sources_panel() -> None:
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one(ScrollBox)
        assert box.has_focus and box.max_scroll_y > 0
        await pilot.press("j", "j")
        assert box.scroll_y == 2
        await pilot.press("k")
        assert box.scroll_y == 1
        await pilot.press("escape", "ctrl+s")
        assert isinstance(app.screen, SourcesScreen)
        assert app.screen.query_one(ScrollBox).has_focus


async def test_j_and_k_type_into_the_filter_and_do_not_move_the_cursor() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        runs = table(app, "#runs")
        row = runs.cursor_row
        await pilot.press("slash", "j", "k")
        assert app.screen.filter_text == "jk"  # type: ignore[attr-defined]
        assert runs.cursor_row == row
