"""The `/` filter line: what was typed and how many rows it lets through, while active."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Input, Label

from cockpit.sanitize import clean


class FilterBar(Input):
    """Typing filters the view; Enter keeps the filter, Esc clears it."""

    DEFAULT_CSS = """
    FilterBar { width: auto; max-width: 60%; height: 1; border: none; padding: 0; }
    FilterBar:focus { border: none; }
    """

    BINDINGS = [Binding("escape", "close(True)", "Clear filter", show=False)]

    def action_close(self, clear: bool) -> None:
        if isinstance(self.parent, FilterLine):
            self.parent.close(clear)
        self.screen.focus_next()


class FilterLine(Horizontal):
    """`filter: pay · 3 of 120`; shown while typing and while a kept filter applies."""

    DEFAULT_CSS = """
    FilterLine { dock: bottom; height: 1; padding: 0 1; display: none; }
    FilterLine.-open { display: block; }
    FilterLine > Label { width: auto; }
    """

    def __init__(self) -> None:
        self.bar = FilterBar(placeholder="type to filter (Enter keeps it, Esc clears)")
        self.count = Label("", id="filter-count")
        super().__init__(Label("filter: ", id="filter-label"), self.bar, self.count)

    def open(self) -> None:
        self.add_class("-open")
        self.bar.focus()

    def close(self, clear: bool) -> None:
        if clear:
            self.bar.value = ""
        # The line stays while a filter is kept, so the view never looks unfiltered.
        self.set_class(bool(self.bar.value.strip()), "-open")

    def show_count(self, needle: str, matched: int, seen: int) -> None:
        self.count.update(count_text(needle, matched, seen))


def count_text(needle: str, matched: int, seen: int) -> Text:
    """` · 3 of 120`, or ` · no match`: an empty view is not mistaken for an empty fleet."""
    if not needle:
        return Text()
    if matched:
        return Text(f" · {matched} of {seen}", style="bold")
    out = Text(" · no match", style="yellow bold")
    out.append(f" in {seen} (Esc clears)", style="dim")
    return out


def no_match_text(needle: str) -> Text:
    """What a filtered list that came out empty says instead of its own "nothing here"."""
    out = Text("no match for ", style="yellow")
    out.append(f"“{clean(needle, limit=40)}”", style="yellow bold")
    out.append(" (Esc clears the filter)", style="dim")
    return out
