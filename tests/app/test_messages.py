"""Messages up, attributes down: what the app and its widgets post, seen through message_hook."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message

from cockpit.app import FleetUpdated
from screens.dialog import ActionDialog
from screens.widgets import LiveTable
from tests.app.helpers import Toasts, app_with, demo_app


class Posted(list[Message]):
    """Every message the app handles, in order (pass `hook` as run_test's message_hook).

    The hook sees a message when it is dispatched, once per node it bubbles through."""

    def hook(self, message: Message) -> None:
        self.append(message)

    def of(self, kind: type[Message]) -> list[Message]:
        """The distinct messages of `kind`, each once however far it bubbled."""
        seen: dict[int, Message] = {}
        for m in self:
            if isinstance(m, kind):
                seen.setdefault(id(m), m)
        return list(seen.values())


async def test_fleet_updates_queued_together_are_handled_once_with_the_newest() -> None:
    app = demo_app()
    posted = Posted()
    async with app.run_test(size=(120, 36), message_hook=posted.hook) as pilot:
        await pilot.pause()
        snapshot = app.hub.snapshot
        updates = [FleetUpdated(snapshot) for _ in range(3)]
        for update in updates:  # no await between: all three wait in the queue together
            app.post_message(update)
        await pilot.pause()
        handled = [m for m in posted.of(FleetUpdated) if any(m is u for u in updates)]
        assert len(handled) == 1 and handled[0] is updates[-1], "the older two are dropped"
        assert app.screen.generation == snapshot.generation  # type: ignore[attr-defined]


async def test_snapshots_the_hub_publishes_in_a_burst_wait_as_one_update() -> None:
    # A settled start publishes ~50 snapshots before the app is mounted: one message waits,
    # carrying the newest, instead of one per snapshot, each keeping its whole fleet alive.
    app = demo_app()
    posted = Posted()
    async with app.run_test(size=(120, 36), message_hook=posted.hook) as pilot:
        snapshots = [app.hub.snapshot, await app.hub.refresh(), await app.hub.refresh()]
        await pilot.pause()
        before = len(posted.of(FleetUpdated))
        for snapshot in snapshots:  # no await between: published while the app is busy
            app.hand_over(snapshot)
        await pilot.pause()
        updates = posted.of(FleetUpdated)[before:]
        assert len(updates) == 1
        assert updates[0].snapshot is snapshots[-1]  # type: ignore[attr-defined]
        app.hand_over(snapshots[0])  # handled: the next one is posted anew
        await pilot.pause()
        assert len(posted.of(FleetUpdated)) == before + 2


async def test_an_update_the_loop_refused_does_not_hold_back_the_next() -> None:
    app = demo_app()
    posted = Posted()
    async with app.run_test(size=(120, 36), message_hook=posted.hook) as pilot:
        newer = await app.hub.refresh()
        await pilot.pause()
        before = len(posted.of(FleetUpdated))
        app.disable_messages(FleetUpdated)  # refused, as once the app is closing
        app.hand_over(app.hub.snapshot)
        app.enable_messages(FleetUpdated)
        app.hand_over(newer)
        await pilot.pause()
        updates = posted.of(FleetUpdated)[before:]
        assert [u.snapshot for u in updates] == [newer]  # type: ignore[attr-defined]


async def test_enter_on_a_row_posts_selected_for_the_row_under_the_cursor() -> None:
    app = demo_app()
    posted = Posted()
    async with app.run_test(size=(120, 36), message_hook=posted.hook) as pilot:
        matrix = app.screen.query_one("#matrix", LiveTable)
        await pilot.press("down", "down")
        chosen = matrix.current_key()
        assert chosen is not None
        highlighted = posted.of(LiveTable.Highlighted)
        assert highlighted and highlighted[-1].key == chosen  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        selected = posted.of(LiveTable.Selected)
        assert [(m.control, m.key) for m in selected] == [(matrix, chosen)]  # type: ignore[attr-defined]
        assert app.screen is not matrix.screen, "the app opened the row's detail"


async def test_a_greyed_out_action_key_posts_a_notification_saying_why(tmp_path: Path) -> None:
    app = app_with(tmp_path, read_only=True)
    toasts = Toasts()
    async with app.run_test(size=(120, 36), message_hook=toasts.hook) as pilot:
        await pilot.press("4", "p")
        await pilot.pause()
        assert not isinstance(app.screen, ActionDialog)
        assert [n.message for n in toasts] == ["Promote: read-only mode (started with --read-only)"]


async def test_an_action_key_reaches_the_app_as_a_dialog_for_the_selection(
    tmp_path: Path,
) -> None:
    app = app_with(tmp_path)
    toasts = Toasts()
    async with app.run_test(size=(120, 36), message_hook=toasts.hook) as pilot:
        await pilot.press("4")  # canaries: checkout's prod canary is under the cursor
        await pilot.press("p")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionDialog), toasts.text()
        assert dialog.plan.title.startswith("Promote checkout ")
        assert not toasts, "an allowed action opens its dialog without a warning"
