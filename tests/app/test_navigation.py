"""Pilot tests: views by number key, filter, drill-down and back, help, remapped keys."""

from __future__ import annotations

from cockpit.app import CockpitApp
from screens.base import FleetScreen
from screens.canary import CanaryScreen
from screens.help import HelpScreen
from screens.pipelines import RunScreen
from screens.service import ServiceScreen
from screens.widgets import LiveTable
from tests.app.helpers import demo_app


def table(app: CockpitApp, selector: str) -> LiveTable:
    return app.screen.query_one(selector, LiveTable)


async def test_number_keys_switch_views() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.current_mode == "overview"
        assert len(table(app, "#matrix").keys) == 12
        for key, mode in (
            ("2", "pipelines"),
            ("3", "environments"),
            ("4", "canary"),
            ("5", "drift"),
            ("6", "approvals"),
            ("1", "overview"),
        ):
            await pilot.press(key)
            assert app.current_mode == mode
            assert isinstance(app.screen, FleetScreen)


async def test_filter_narrows_rows_and_escape_clears() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        before = len(table(app, "#runs").keys)
        await pilot.press("slash", *"search")
        keys = table(app, "#runs").keys
        assert 0 < len(keys) < before
        assert all(k.startswith("search#") for k in keys)
        await pilot.press("enter")  # keep the filter, back to the table
        assert table(app, "#runs").has_focus
        assert table(app, "#runs").keys == keys
        await pilot.press("escape")
        assert len(table(app, "#runs").keys) == before


async def test_enter_drills_down_and_escape_comes_back() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        first = table(app, "#runs").current_key()
        await pilot.press("enter")
        assert isinstance(app.screen, RunScreen) and app.screen.run_id == first
        await pilot.press("escape")
        assert app.current_mode == "pipelines" and not isinstance(app.screen, RunScreen)

        await pilot.press("1")
        matrix = table(app, "#matrix")
        matrix.move_cursor(row=matrix.keys.index("search"), column=2)
        await pilot.press("enter")
        assert isinstance(app.screen, ServiceScreen)
        assert (app.screen.service, app.screen.environment) == ("search", "staging")
        await pilot.press("escape")
        assert app.current_mode == "overview"


async def test_enter_on_a_canary_cell_opens_the_canary_view() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        matrix = table(app, "#matrix")
        matrix.move_cursor(row=matrix.keys.index("checkout"), column=3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "canary"
        assert isinstance(app.screen, CanaryScreen)
        assert table(app, "#canaries").current_key() == "checkout/prod"


async def test_help_lists_every_binding_with_its_id() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_remapped_key_from_config() -> None:
    app = demo_app(keys={"view.pipelines": "f2", "quit": "ctrl+q"})
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        assert app.current_mode == "overview", "the old key no longer switches"
        await pilot.press("f2")
        assert app.current_mode == "pipelines"
        await pilot.press("q")
        assert app.is_running, "q was remapped away from quit"


async def test_q_quits() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("q")
    assert not app.is_running


def palette_entries(app: CockpitApp) -> dict[str, str]:
    """Title -> help of what the palette lists over the view: the app's and the view's own."""
    screen = app.screen
    assert isinstance(screen, FleetScreen)
    commands = (*app.get_system_commands(app.screen), *screen.palette_commands())
    return {c.title: c.help for c in commands}


async def test_the_palette_offers_the_views_actions_and_says_why_not() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        titles = palette_entries(app)
        assert "Action: Promote checkout in prod" in titles
        assert "Action: Abort canary checkout in prod" in titles
        assert titles["Action: Resume (not here)"].startswith(
            "the canary of checkout is not paused"
        )
        assert "View: Audit" in titles and "Filter this view" in titles
        await pilot.press("5")
        titles = palette_entries(app)
        assert "Action: Sync inventory in staging" in titles
        assert not any("Promote" in t for t in titles)
