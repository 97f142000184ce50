"""Keys typed faster than the screen follows: held for a dialog, or acted on as they arrive."""

from __future__ import annotations

from textual import events
from textual.app import App, ScreenStackError
from textual.widgets import Input

from cockpit.keys import ALL_KEYS
from screens.base import FleetScreen

# Actions that open the action dialog (a view's `p`, `b`..., the app's `B`).
DIALOG_ACTIONS = frozenset(k.action.removeprefix("app.") for k in ALL_KEYS if k.mutating)


class HeldKeysMixin(App[int]):
    """Holds the keys typed while a dialog opens and gives them to its first field."""

    _held: list[events.Key] | None = None  # keys waiting for a dialog's first field

    def hold_keys(self) -> None:
        """Keys from now on wait for the dialog being opened: it releases them to its field."""
        if self._held is None:
            self._held = []

    async def release_keys(self) -> None:
        """Deliver the held keys, in order, to what has focus now; later keys go there directly."""
        while self._held:  # keys arriving meanwhile join the queue, so the order holds
            await super().on_event(self._held.pop(0))
        self._held = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self._held is not None:
                self._held.append(event)
                return
            if await self._open_dialog_now(event):
                return
        await super().on_event(event)

    async def _open_dialog_now(self, event: events.Key) -> bool:
        """A key that opens the action dialog acts as it arrives, not after it bubbled up.

        Textual hands a key to the focused table first and runs the view's binding only
        when it comes back up; by then the reason typed right behind `B` has gone to the
        view, where `a`, `p` or `s` are actions of their own.
        """
        try:
            screen = self.screen
        except ScreenStackError:
            return False
        if not isinstance(screen, FleetScreen) or isinstance(screen.focused, Input):
            return False  # typing into the filter line is text
        active = screen.active_bindings.get(event.key)
        if active is None or not active.enabled or active.binding.action not in DIALOG_ACTIONS:
            return False  # a greyed-out key still says why, the usual way
        return await self.run_action(active.binding.action, active.node)
