"""The frame every view shares: top bar, body, filter line, footer, and live updates.

The app pushes each new fleet snapshot down with `show()`. A view that saw the previous
generation applies only the changes; one that was hidden (or whose filter changed)
reconciles fully. Views never call connectors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from cockpit.actions import targets
from cockpit.fleet.snapshot import FleetSnapshot
from cockpit.keys import ACTION_KEYS, SCREEN_KEYS, KeySpec
from cockpit.model import ActionKind
from screens.host import CockpitHost, host_of
from screens.jump import ServiceJump
from screens.palette import ViewCommands, action_commands
from screens.table import LiveTable
from screens.widgets import KeyBar, TopBar, header_badges

if TYPE_CHECKING:
    from screens.filter import FilterLine


def bindings(specs: tuple[KeySpec, ...], scope: str | None = None) -> list[BindingType]:
    return [
        Binding(s.key, s.action, s.description, show=s.show, id=s.id)
        for s in specs
        if scope is None or s.scope == scope
    ]


ACTION_OF = {spec.action: ActionKind(spec.action.removesuffix("_full")) for spec in ACTION_KEYS}


class FleetScreen(Screen[None]):
    """A top-level view of the fleet snapshot."""

    VIEW: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""
    FILTERABLE: ClassVar[bool] = True
    ACTIONS_HERE: ClassVar[frozenset[ActionKind]] = frozenset()
    BINDINGS = bindings(SCREEN_KEYS) + bindings(ACTION_KEYS)
    # The palette jumps to a service from every view and offers the view's own commands.
    COMMANDS = {ServiceJump, ViewCommands}
    # Mounted (and its module loaded) by the first `/`: most sessions never filter.
    _filter_line: FilterLine | None = None

    def __init__(self) -> None:
        super().__init__()
        self.generation = -1
        self.filter_text = ""
        self._tally = [0, 0]  # rows looked at, rows matched: the filter line's "3 of 120"

    @property
    def cockpit(self) -> CockpitHost:
        return host_of(self.app)

    def _compositor_refresh(self) -> None:
        # Textual 8.2 renders a view whose first layout lands inside the app's start-up batch
        # (its `_init_mode` awaits a MODES screen's mount there), or inside a view switch's
        # `delay_update`, then drops the frame (`App._display` shows nothing mid-batch) and
        # renders again once the batch ends: ~4 ms of the first frame for nothing. The
        # refresh after the batch (a resize, or `delay_update`'s own) draws what is dirty.
        if self.app._batch_count:
            return
        super()._compositor_refresh()

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        yield Static(id="banner")
        with Vertical(id="body"):
            yield from self.compose_body()
        yield KeyBar(id="keybar")

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        snapshot = self.cockpit.snapshot
        # Coming back after a modal or another view: redraw fully only if anything moved.
        self.show(snapshot, force=snapshot.generation != self.generation)
        self._key_states = ()
        self._refresh_keys()

    # Live updates --------------------------------------------------------------
    def show(self, snapshot: FleetSnapshot, force: bool = False) -> None:
        """Render `snapshot`: incrementally when it directly follows the last one shown."""
        if not self.is_mounted or (snapshot.generation == self.generation and not force):
            return
        full = force or snapshot.changes.everything or snapshot.generation != self.generation + 1
        self.generation = snapshot.generation
        self.refresh_header(snapshot)
        # A filter counts what it lets through, so it needs every row looked at.
        self._tally = [0, 0]
        self.render_fleet(snapshot, full or bool(self.filter_text))
        if self._filter_line is not None:
            self._filter_line.show_count(self.filter_text, self._tally[1], self._tally[0])
        self._refresh_keys()

    _key_states: tuple[object, ...] = ()

    def _refresh_keys(self) -> None:
        """Re-draw the key bar when an action's availability changed."""
        states = tuple(self.check_action(spec.action, ()) for spec in ACTION_KEYS)
        if states != self._key_states:
            self._key_states = states
            self.refresh_bindings()
            self.call_later(self._draw_keys)

    def _draw_keys(self) -> None:
        shown = []
        seen = set()
        # Views with a handful of actions (the canary view's six) show them all; the overview
        # keeps its bar short. One key per action kind: a variant (P, promote 100%) is in the
        # help and the palette, so the bar still fits 120 columns.
        offered = len(self.ACTIONS_HERE) <= 6
        for active in self.active_bindings.values():
            binding = active.binding
            kind = ACTION_OF.get(binding.action)
            listed = binding.show or (offered and kind is not None and kind in self.ACTIONS_HERE)
            if not listed or (kind or binding.action) in seen:
                continue
            seen.add(kind or binding.action)
            shown.append((self.app.get_key_display(binding), binding.description, active.enabled))
        for bar in self.query(KeyBar):
            bar.show_keys(shown)

    def refresh_header(self, snapshot: FleetSnapshot) -> None:
        self.query_one(TopBar).show(
            snapshot, self.TITLE_TEXT, self.cockpit.now(), header_badges(self.cockpit)
        )
        banner = self.query_one("#banner", Static)
        text = self.cockpit.banner
        banner.display = text is not None
        if text is not None and text != banner.content:  # the tick must not resend it
            banner.update(text)

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        """Draw the body; `full` means reconcile everything, else apply snapshot.changes."""

    def matches(self, *fields: object) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        found = any(needle in str(f).lower() for f in fields)
        self._tally[0] += 1
        self._tally[1] += found
        return found

    def empty_text(self, nothing: str) -> Text:
        """What an empty list says: its own words, or that the filter matched nothing."""
        if not self.filter_text:
            return Text(nothing, style="dim")
        from screens.filter import no_match_text

        return no_match_text(self.filter_text)

    # Keys ------------------------------------------------------------------------
    async def action_filter(self) -> None:
        if not self.FILTERABLE:
            return
        line = self._filter_line
        if line is None:  # mounted on first use: most sessions never filter
            from screens.filter import FilterLine

            line = self._filter_line = FilterLine()
            # Awaited, so the keys typed right after `/` land in the filter, not the table.
            await self.mount(line, before=self.query_one(KeyBar))
        line.open()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._filter_line is not None and event.input is self._filter_line.bar:
            self.filter_text = event.value.strip()
            self.show(self.cockpit.snapshot, force=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self._filter_line is not None and event.input is self._filter_line.bar:
            self._filter_line.bar.action_close(clear=False)

    def action_back(self) -> None:
        if self.filter_text:
            if self._filter_line is not None:
                self._filter_line.close(clear=True)
            self.filter_text = ""
            self.show(self.cockpit.snapshot, force=True)
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_open(self) -> None:
        """Drill down from the row under the cursor."""

    # Mutating actions: built from the selection, run through the app's executor --------
    def build(self, kind: ActionKind) -> targets.Built:
        """The action `kind` would take on the current selection, or why it does not apply."""
        return f"{kind.value} is not available in this view"

    def why_disabled(self, kind: ActionKind) -> str | None:
        """Why `kind` is greyed out here (read-only, not applicable, no connector can)."""
        built = self.build(kind)
        if isinstance(built, str):
            return built
        return self.cockpit.why_not(built)

    def disabled_reasons(self) -> dict[str, str]:
        """Binding id -> why that action key does nothing here (for the help screen)."""
        reasons = {}
        for spec in ACTION_KEYS:
            kind = ACTION_OF[spec.action]
            if kind in self.ACTIONS_HERE and (why := self.why_disabled(kind)):
                reasons[spec.id] = why
        return reasons

    def palette_commands(self) -> Iterable[SystemCommand]:
        """This view's palette entries: the filter and every action, or why not here."""
        if self.FILTERABLE:
            yield SystemCommand(
                "Filter this view", "Type to narrow the rows (/)", self.action_filter
            )
        yield from action_commands(self, self.cockpit.settings.keys, ACTION_OF)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        kind = ACTION_OF.get(action)
        if kind is None:
            return True
        if kind not in self.ACTIONS_HERE or not hasattr(self, f"action_{action}"):
            return False
        return None if self.why_disabled(kind) else True

    def on_key(self, event: events.Key) -> None:
        # A greyed-out key still answers: it says why it does nothing.
        for binding in self.active_bindings.values():
            kind = ACTION_OF.get(binding.binding.action)
            if kind is not None and event.key == binding.binding.key and not binding.enabled:
                why = self.why_disabled(kind)
                if why:
                    self.notify(
                        f"{binding.binding.description}: {why}", severity="warning", timeout=6
                    )
                    event.stop()
                return

    def _run(self, kind: ActionKind) -> None:
        self.cockpit.request_action(self.build(kind))

    def action_approve(self) -> None:
        self._run(ActionKind.APPROVE)

    def action_reject(self) -> None:
        self._run(ActionKind.REJECT)

    def action_promote(self) -> None:
        self._run(ActionKind.PROMOTE)

    def action_rollback(self) -> None:
        self._run(ActionKind.ROLLBACK)

    def action_pause(self) -> None:
        self._run(ActionKind.PAUSE)

    def action_resume(self) -> None:
        self._run(ActionKind.RESUME)

    def action_abort(self) -> None:
        self._run(ActionKind.ABORT)

    def action_sync(self) -> None:
        self._run(ActionKind.SYNC)

    def action_rerun(self) -> None:
        self._run(ActionKind.RERUN)

    def action_restart(self) -> None:
        self._run(ActionKind.RESTART)

    def action_retry(self) -> None:
        self._run(ActionKind.RETRY)

    def action_silence(self) -> None:
        self._run(ActionKind.SILENCE)

    def on_live_table_highlighted(self) -> None:
        self._refresh_keys()

    def on_live_table_selected(self, event: LiveTable.Selected) -> None:
        event.stop()
        self.action_open()
