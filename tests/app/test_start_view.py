"""Pilot tests: the view the cockpit opens on, the overview or a configured `start_view`."""

from __future__ import annotations

from dataclasses import replace

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from screens.overview import OverviewScreen
from screens.pipelines import PipelinesScreen
from screens.widgets import LiveTable
from tests.app.helpers import T0


def app_starting_on(view: str) -> CockpitApp:
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(settings, ui=replace(settings.ui, start_view=view))
    return CockpitApp(settings, clock=FixedClock(T0), poll=False)


async def test_the_cockpit_opens_on_the_overview_with_one_screen() -> None:
    app = app_starting_on("overview")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.current_mode == "overview"
        assert [type(s) for s in app.screen_stack] == [OverviewScreen]
        assert len(app.screen.query_one("#matrix", LiveTable).keys) == 12


async def test_a_configured_start_view_is_the_first_view() -> None:
    app = app_starting_on("pipelines")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.current_mode == "pipelines"
        assert isinstance(app.screen, PipelinesScreen)
        await pilot.press("1")
        assert app.current_mode == "overview"
        assert isinstance(app.screen, OverviewScreen)
