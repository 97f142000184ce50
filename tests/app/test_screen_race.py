"""Fleet updates and the 1 s tick never crash the app when no view is ready (issue 9).

Textual prunes every screen on shut-down while the app still handles messages (the hub
and the tick run until the app unmounts), and a mode switch puts a view on the stack a
moment before it is mounted. Either way an update has nothing to draw on: it waits.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from cockpit.app import CockpitApp, FleetUpdated
from screens.drift import DriftScreen
from tests.app.helpers import demo_app


async def handled(app: CockpitApp, message: Message) -> None:
    """Post `message` and wait until the app has handled it (raised or not).

    Textual drops callbacks while no screen is on the stack, so this listens to the
    app's message signal, published after every message it dispatches.
    """
    done = asyncio.Event()

    def seen(handled: Message) -> None:
        if handled is message:
            done.set()

    app.message_signal.subscribe(app, seen, immediate=True)
    app.post_message(message)
    await asyncio.wait_for(done.wait(), timeout=10)


async def test_fleet_updates_and_ticks_with_no_screen_on_the_stack_leave_the_app_running() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        # The start-up switch to the first view holds updates for 50 ms and then redraws
        # `app.screen` from a timer of Textual's own: let it fire before the stack goes,
        # or Textual itself raises (a full CI run hit exactly that).
        while app._batch_count:
            await pilot.pause()
        # What shut-down does first: every screen pruned, the app's messages still flowing.
        await app._close_all()
        assert not app.screen_stack
        app.banner = Text("a banner that must be redrawn")
        await handled(app, FleetUpdated(app.hub.snapshot))
        assert app.return_code is None, "the app exited on a fleet update"
        app._tick()
        # What an automatic rollback does once it ran: say so, refresh, redraw.
        app.notify("automatic rollback of payments in prod: succeeded")
        await app.hub.refresh()
        await handled(app, FleetUpdated(app.hub.snapshot))
        assert app.return_code is None


async def test_a_fleet_update_during_a_mode_switch_leaves_the_app_running() -> None:
    app = demo_app()
    async with app.run_test(size=(120, 36)) as pilot:
        app.banner = Text("a banner that must be redrawn")
        app.switch_mode("drift")  # not awaited: on the stack, not yet mounted
        app.on_fleet_updated(FleetUpdated(app.hub.snapshot))
        app._tick()
        await pilot.pause()
        assert app.return_code is None
        screen = app.screen
        assert isinstance(screen, DriftScreen) and screen.is_mounted
        # The view caught up once mounted: no failing canary, so no banner.
        assert app.banner is None
        assert not screen.query_one("#banner", Static).display
