"""The hub and the one-second tick keep running while Textual shuts down and takes a view's
widgets down one by one; they must leave the view alone then instead of failing the app
(CI once saw the tick find the top bar without the banner: NoMatches at exit)."""

from __future__ import annotations

import pytest
from textual.app import App

from tests.app.helpers import demo_app


async def test_the_tick_leaves_a_view_alone_once_shutdown_has_begun(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        view = app.screen
        # What shutdown does to the view: the banner is gone, the top bar still there.
        await view.query_one("#banner").remove()
        monkeypatch.setattr(App, "is_running", property(lambda self: False))
        app._tick()  # the timer's callback, as Textual calls it during shutdown
        monkeypatch.undo()
