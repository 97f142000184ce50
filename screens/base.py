"""The frame every view shares: top bar, body, filter line, footer, and live updates.

The app pushes each new fleet snapshot down with `show()`. A view that saw the previous
generation applies only the changes; one that was hidden (or whose filter changed)
reconciles fully. Views never call connectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from cockpit.keys import SCREEN_KEYS
from cockpit.snapshot import FleetSnapshot
from screens.widgets import TopBar

if TYPE_CHECKING:
    from cockpit.app import CockpitApp


def bindings(specs: tuple, scope: str | None = None) -> list[Binding]:  # type: ignore[type-arg]
    return [
        Binding(s.key, s.action, s.description, show=s.show, id=s.id)
        for s in specs
        if scope is None or s.scope == scope
    ]


class FilterBar(Input):
    """`/` opens it; typing filters the view; Enter keeps the filter, Esc clears it."""

    DEFAULT_CSS = """
    FilterBar { dock: bottom; height: 1; border: none; padding: 0 1; display: none; }
    FilterBar.-open { display: block; }
    """

    BINDINGS = [Binding("escape", "close(True)", "Clear filter", show=False)]

    def action_close(self, clear: bool) -> None:
        if clear:
            self.value = ""
        self.remove_class("-open")
        self.screen.focus_next()


class FleetScreen(Screen[None]):
    """A top-level view of the fleet snapshot."""

    VIEW: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""
    FILTERABLE: ClassVar[bool] = True
    BINDINGS = bindings(SCREEN_KEYS)

    def __init__(self) -> None:
        super().__init__()
        self.generation = -1
        self.filter_text = ""

    @property
    def cockpit(self) -> CockpitApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield TopBar(id="topbar")
        with Vertical(id="body"):
            yield from self.compose_body()
        yield Static(id="notice", classes="notice")
        yield FilterBar(placeholder="filter (Enter keeps it, Esc clears)", id="filter")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.show(self.cockpit.snapshot, force=True)

    # Live updates --------------------------------------------------------------
    def show(self, snapshot: FleetSnapshot, force: bool = False) -> None:
        """Render `snapshot`: incrementally when it directly follows the last one shown."""
        if not self.is_mounted:
            return
        full = force or snapshot.changes.everything or snapshot.generation != self.generation + 1
        self.generation = snapshot.generation
        self.refresh_header(snapshot)
        self.render_fleet(snapshot, full)

    def refresh_header(self, snapshot: FleetSnapshot) -> None:
        self.query_one(TopBar).show(
            snapshot, self.TITLE_TEXT, self.cockpit.now(), self.cockpit.header_extra()
        )

    def render_fleet(self, snapshot: FleetSnapshot, full: bool) -> None:
        """Draw the body; `full` means reconcile everything, else apply snapshot.changes."""

    def matches(self, *fields: object) -> bool:
        if not self.filter_text:
            return True
        needle = self.filter_text.lower()
        return any(needle in str(f).lower() for f in fields)

    def notice(self, text: str) -> None:
        from rich.text import Text

        self.query_one("#notice", Static).update(Text(text))

    # Keys ------------------------------------------------------------------------
    def action_filter(self) -> None:
        if not self.FILTERABLE:
            return
        bar = self.query_one(FilterBar)
        bar.add_class("-open")
        bar.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterBar):
            self.filter_text = event.value.strip()
            self.show(self.cockpit.snapshot, force=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterBar):
            event.input.action_close(clear=False)

    def action_back(self) -> None:
        if self.filter_text:
            bar = self.query_one(FilterBar)
            bar.value = ""
            self.filter_text = ""
            self.show(self.cockpit.snapshot, force=True)
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_open(self) -> None:
        """Drill down from the row under the cursor."""

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        self.action_open()
