"""Widgets every view shares: the live table, the top bar, text helpers and the chart.

All text from connectors goes through `txt` (sanitised, wrapped in `Text`, never parsed
as markup). Glyphs carry meaning on their own, so NO_COLOR terminals lose nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from cockpit.clock import ago
from cockpit.model import CanaryPhase, GateStatus, Health, Status
from cockpit.sanitize import clean
from cockpit.snapshot import FleetSnapshot

STATUS_STYLE: dict[Status, tuple[str, str]] = {
    Status.QUEUED: ("…", "dim"),
    Status.RUNNING: ("↻", "cyan"),
    Status.WAITING: ("⏸", "yellow bold"),
    Status.SUCCEEDED: ("✓", "green"),
    Status.FAILED: ("✗", "red bold"),
    Status.CANCELLED: ("⊘", "dim"),
    Status.SKIPPED: ("-", "dim"),
    Status.UNKNOWN: ("?", "dim"),
}
HEALTH_STYLE: dict[Health, tuple[str, str]] = {
    Health.HEALTHY: ("✓", "green"),
    Health.PROGRESSING: ("↻", "cyan"),
    Health.DEGRADED: ("✗", "red bold"),
    Health.SUSPENDED: ("‖", "yellow"),
    Health.MISSING: ("∅", "red"),
    Health.UNKNOWN: ("?", "dim"),
}
PHASE_STYLE: dict[CanaryPhase, str] = {
    CanaryPhase.PROGRESSING: "cyan",
    CanaryPhase.PAUSED: "yellow bold",
    CanaryPhase.PROMOTED: "green",
    CanaryPhase.SUCCEEDED: "green",
    CanaryPhase.ABORTED: "red",
    CanaryPhase.FAILED: "red bold",
}
GATE_STYLE: dict[GateStatus, tuple[str, str]] = {
    GateStatus.PASS: ("✓ pass", "green"),
    GateStatus.FAIL: ("✗ FAIL", "red bold"),
    GateStatus.UNKNOWN: ("? unknown", "yellow"),
}


def txt(value: object, style: str = "", *, limit: int | None = None) -> Text:
    """Untrusted text, made inert and wrapped for display."""
    return Text(clean(value, limit=limit), style=style, no_wrap=True, overflow="ellipsis")


class SortText(Text):
    """A table cell that carries the row's sort position (DataTable sorts on cell values)."""

    sort_key: object = 0


def status_text(status: Status) -> Text:
    glyph, style = STATUS_STYLE[status]
    return Text(f"{glyph} {status.value}", style=style)


def health_text(health: Health) -> Text:
    glyph, style = HEALTH_STYLE[health]
    return Text(f"{glyph} {health.value}", style=style)


class LiveTable(DataTable[Text]):
    """A DataTable updated in place by row key: the cursor and scroll survive refreshes."""

    def __init__(self, columns: Sequence[tuple[str, str, int | None]], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._columns = columns
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=width)

    # Textual 8.2.8 measures new rows' widths on idle, and its cell render cache key has no
    # width: a paint between add_row and idle caches cells clipped to the header's width.
    # Bump the update count (part of that key) whenever the measured widths change.
    def _update_dimensions(self, new_rows: Iterable[object]) -> None:
        before = [c.content_width for c in self.columns.values()]
        super()._update_dimensions(new_rows)  # type: ignore[arg-type]
        self._widths_changed(before)

    def _update_column_widths(self, updated_cells: set[object]) -> None:
        before = [c.content_width for c in self.columns.values()]
        super()._update_column_widths(updated_cells)  # type: ignore[arg-type]
        self._widths_changed(before)

    def _widths_changed(self, before: list[int]) -> None:
        if before != [c.content_width for c in self.columns.values()]:
            self._update_count += 1
            self.refresh()

    @property
    def keys(self) -> list[str]:
        return list(self._order)

    def current_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        try:
            return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value)
        except Exception:
            return None

    def current_column(self) -> str | None:
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).column_key
        except Exception:
            return None
        return str(key.value)

    def reconcile(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Make the table show exactly `rows`, in order, touching only what differs."""
        rows = list(rows)
        wanted = [k for k, _ in rows]
        wanted_set = set(wanted)
        keep = self.current_key()
        removed = [k for k in self._order if k not in wanted_set]
        for key in removed:
            self.remove_row(key)
            del self._cells[key]
        added: list[str] = []
        for position, (key, cells) in enumerate(rows):
            if key in self._cells:
                shown = self._update(key, tuple(cells))
            else:
                shown = tuple(cells)
                self.add_row(*shown, key=key)
                self._cells[key] = shown
                added.append(key)
            if isinstance(shown[0], SortText):
                shown[0].sort_key = position
        current = [k for k in self._order if k in wanted_set] + added
        if current != wanted:
            self.sort(self._columns[0][0], key=_position)
        self._order = wanted
        if keep is not None and keep in self._cells:
            index = self.get_row_index(keep)
            if index != self.cursor_row:
                self.move_cursor(row=index, animate=False, scroll=False)

    def update_rows(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> bool:
        """Update rows already shown; False when a row is unknown (call reconcile)."""
        for key, cells in rows:
            if key not in self._cells:
                return False
            self._update(key, tuple(cells))
        return True

    def _update(self, key: str, cells: tuple[Text, ...]) -> tuple[Text, ...]:
        """Replace the cells of one row that differ; returns what the table now holds."""
        old = self._cells[key]
        if old == cells:
            return old
        shown = []
        for col, (a, b) in enumerate(zip(old, cells, strict=False)):
            if a == b:
                shown.append(a)
            else:
                self.update_cell(key, self._columns[col][0], b)
                shown.append(b)
        if isinstance(old[0], SortText) and shown[0] is not old[0]:
            shown[0].sort_key = old[0].sort_key  # type: ignore[attr-defined]
        result = tuple(shown)
        self._cells[key] = result
        return result


def _position(cell: object) -> object:
    return getattr(cell, "sort_key", 0)


class TopBar(Static):
    """Title, the current view, each connector's health and the injected clock's time."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def show(self, snapshot: FleetSnapshot, view: str, now: datetime, extra: Text | None = None) -> None:
        line = Text()
        line.append("Release Cockpit", style="bold")
        line.append(f" · {view}", style="bold")
        line.append("  ")
        for state in snapshot.sources.values():
            label = state.label(now)
            glyph, style = {
                "ok": ("✓", "green"),
                "error": ("✗", "red bold"),
                "stale": ("⚠", "yellow bold"),
                "connecting": ("…", "dim"),
            }[label]
            line.append(f"{glyph} ", style=style)
            line.append(clean(state.name, limit=20))
            if label == "stale":
                line.append(f" stale {ago(state.last_success, now)}", style=style)
            elif label == "error":
                line.append(" error", style=style)
            line.append("  ")
        if extra is not None:
            line.append_text(extra)
            line.append("  ")
        line.append(now.strftime("%H:%M:%S %Z"), style="dim")
        line.truncate(max(self.size.width - 2, 20), overflow="ellipsis")
        self.update(line)


SPARK = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], lo: float, hi: float, width: int, rows: int = 1) -> list[str]:
    """Values as `rows` lines of block characters on a shared [lo, hi] scale, newest right."""
    if width <= 0:
        return [""] * rows
    values = list(values)[-width:]
    span = (hi - lo) or 1.0
    levels = rows * 8
    lines = ["" for _ in range(rows)]
    for v in values:
        level = 0 if v != v else round((min(max(v, lo), hi) - lo) / span * levels)  # NaN -> 0
        for r in range(rows):
            fill = level - (rows - 1 - r) * 8
            lines[r] += SPARK[max(0, min(8, fill))]
    return [line.rjust(width) for line in lines]
