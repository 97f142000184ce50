"""The first frame is rendered once: no view is drawn mid-batch only for Textual to drop it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.app import App

from cockpit import config
from cockpit.app import CockpitApp
from cockpit.clock import FixedClock
from screens.base import FleetScreen
from tests.fakes import T0


def _frames(app: App[Any]) -> list[tuple[int, bool]]:
    """(the app's batch depth, whether there was a frame) for each frame handed to the
    terminal from now on (headless, Textual makes them all the same and writes none)."""
    frames: list[tuple[int, bool]] = []
    display = app._display

    def spy(screen: Any, renderable: Any) -> None:
        if isinstance(screen, FleetScreen):
            frames.append((app._batch_count, renderable is not None))
        display(screen, renderable)

    app._display = spy  # type: ignore[method-assign]
    return frames


async def test_the_overview_is_rendered_once_for_its_first_frame(tmp_path: Path) -> None:
    settings = config.load(None, seed=7, scale=12, env={})
    settings = replace(settings, audit=config.AuditConfig(str(tmp_path / "a.sqlite3")))
    app = CockpitApp(settings, clock=FixedClock(T0))  # as `cockpit` starts it: polling on
    frames = _frames(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.generation > 0  # the overview shows the demo's facts
        assert [depth for depth, made in frames if made and depth] == [], "a frame thrown away"
        assert frames and frames[0] == (0, True), "the first frame is drawn after the batch"
