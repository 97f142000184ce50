"""LiveTable: a keyed, line-API table that redraws only the rows that changed.

Textual's DataTable re-renders every visible cell after any update (its cell cache is
invalidated globally), which costs tens of milliseconds per refresh on a large fleet.
Here each row is rendered once into a Strip and cached until its cells change, the header
stays put while rows scroll, and the cursor follows its row key across refreshes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from screens.columns import PAD, Column, fit_columns


class SortText(Text):
    """Kept for callers that mark the first cell; order is the order rows are given in."""


class LiveTable(ScrollView, can_focus=True):
    """Rows by key, in the order given; the cursor survives refreshes."""

    DEFAULT_CSS = """
    LiveTable { height: 1fr; background: $surface; }
    LiveTable > .livetable--header { text-style: bold; background: $panel; }
    LiveTable > .livetable--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    LiveTable:blur > .livetable--cursor { background: $block-cursor-blurred-background; text-style: none; }
    """
    COMPONENT_CLASSES = {"livetable--header", "livetable--cursor"}
    BINDINGS = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        # j/k as in less and vi: operators on SSH reach for them first.
        Binding("j", "move(1, 0)", "Down", show=False),
        Binding("k", "move(-1, 0)", "Up", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another row or column."""

        table: LiveTable
        """The table whose cursor moved (also `control`, for `@on(..., "#id")`)."""
        key: str | None
        """The row key under the cursor; None when the table is empty."""
        column: str | None
        """The column key under the cursor (cell tables); None in a row table."""

        @property
        def control(self) -> LiveTable:
            return self.table

    @dataclass
    class Selected(Highlighted):
        """Enter on a row: the view drills down into it."""

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        cursor_type: str = "row",
        optional: Sequence[str] = (),
        **kwargs: object,
    ) -> None:
        """`optional`: column keys that may drop when the table is too narrow, first first."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._columns: list[Column] = list(columns)
        self._optional = tuple(optional)
        self._shown: list[tuple[int, int]] = []  # (column index, drawn width)
        self.cursor_type = cursor_type
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._widths: list[int] = []
        self.cursor_row = 0
        self.cursor_column = 0 if cursor_type == "row" else 1
        self._last_announced: tuple[str | None, str | None] = (None, None)

    # Columns -----------------------------------------------------------------------
    def set_columns(self, columns: Sequence[Column], cursor_type: str | None = None) -> None:
        self._columns = list(columns)
        if cursor_type is not None:
            self.cursor_type = cursor_type
            self.cursor_column = (
                0 if cursor_type == "row" else min(max(self.cursor_column, 1), len(columns) - 1)
            )
        self._order, self._index, self._cells = [], {}, {}
        self._relayout()

    @property
    def column_keys(self) -> list[str]:
        return [c[0] for c in self._columns]

    @property
    def shown_labels(self) -> list[str]:
        """The labels of the columns drawn at the current width, left to right."""
        labels = [self._columns[i][1] for i, _ in self._shown]
        return [label.plain if isinstance(label, Text) else label for label in labels]

    def row_plain(self, key: str) -> str:
        """A row as drawn at the current width (cut cells end in an ellipsis)."""
        return self._row_text(self._cells[key], None, None).plain

    def _measure(self) -> list[int]:
        widths = []
        rows = self._cells.values()
        for i, (_, label, fixed) in enumerate(self._columns):
            if fixed is not None:
                widths.append(fixed)
                continue
            width = Text(label).cell_len if isinstance(label, str) else label.cell_len
            # Each distinct Text once: rows share them (10,000 cells, a few hundred looks).
            texts = {id(cells[i]): cells[i] for cells in rows if i < len(cells)}
            widths.append(max(width, max((t.cell_len for t in texts.values()), default=0)))
        return widths

    def _relayout(self, widths: list[int] | None = None) -> None:
        widths = self._measure() if widths is None else widths
        room = self.scrollable_content_region.width or 10_000  # not laid out yet: all fit
        keys = self.column_keys
        shown = fit_columns(
            widths,
            [fixed is None for _, _, fixed in self._columns],
            [keys.index(k) for k in self._optional if k in keys],
            room,
        )
        if widths != self._widths or shown != self._shown:
            self._widths, self._shown = widths, shown
            self._strips.clear()
        size = Size(sum(w + 2 * PAD for _, w in shown), len(self._order) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        self._clamp_cursor()
        self.refresh()

    # Data ------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        return list(self._order)

    def reconcile(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> None:
        """Show exactly `rows`, in this order; unchanged rows keep their rendering."""
        keep = self.current_key()
        order: list[str] = []
        cells: dict[str, tuple[Text, ...]] = {}
        for key, row in rows:
            new = tuple(row)
            old = self._cells.get(key)
            if old is not None and old == new:
                new = old
            else:
                self._strips.pop(key, None)
            order.append(key)
            cells[key] = new
        for key in self._cells.keys() - cells.keys():
            self._strips.pop(key, None)
        self._order, self._cells = order, cells
        self._index = {k: i for i, k in enumerate(order)}
        if keep is not None and keep in self._index:
            self.cursor_row = self._index[keep]
        self._relayout()
        self._announce()

    def update_rows(self, rows: Iterable[tuple[str, Sequence[Text]]]) -> bool:
        """Update rows already shown; False when a row is unknown (call reconcile)."""
        changed: list[str] = []
        widths = list(self._widths)
        for key, row in rows:
            if key not in self._cells:
                return False
            new = tuple(row)
            old = self._cells[key]
            if old != new:
                self._cells[key] = new
                self._strips.pop(key, None)
                changed.append(key)
                # Columns only grow here; a full reconcile measures them afresh. A cell
                # that is the very Text shown before fits its column already.
                for i, cell in enumerate(new):
                    if (
                        i < len(widths)
                        and (i >= len(old) or cell is not old[i])
                        and self._columns[i][2] is None
                        and cell.cell_len > widths[i]
                    ):
                        widths[i] = cell.cell_len
        if widths != self._widths:
            self._relayout(widths)
        else:
            # Same layout: repaint the changed lines only, so a one-cell change sends a
            # line to the terminal, not the whole table. Only lines on screen: a line
            # scrolled into view later is drawn then from its cells (its strip is gone), and
            # a poll of a large fleet changes hundreds of rows off screen (~25 us a call).
            top = self.scroll_offset.y
            bottom = top + self.size.height
            for key in changed:
                y = self._index[key] + 1
                if top <= y <= bottom:
                    self.refresh_line(y)
        return True

    def row(self, key: str) -> tuple[Text, ...]:
        """The cells shown for `key`, as given (tests and callers read them, not the strips)."""
        return self._cells[key]

    def cell_texts(self, key: str) -> list[str]:
        """The plain text of each cell of `key`, whole (`row_plain` gives it as drawn)."""
        return [cell.plain for cell in self._cells[key]]

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def current_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self._order):
            return self._order[self.cursor_row]
        return None

    def current_column(self) -> str | None:
        if not self._columns:
            return None
        return self._columns[min(self.cursor_column, len(self._columns) - 1)][0]

    # Cursor ----------------------------------------------------------------------
    def _clamp_cursor(self) -> None:
        self.cursor_row = max(0, min(self.cursor_row, len(self._order) - 1))
        lowest = 0 if self.cursor_type == "row" else min(1, len(self._columns) - 1)
        self.cursor_column = max(lowest, min(self.cursor_column, len(self._columns) - 1))

    def move_cursor(
        self,
        *,
        row: int | None = None,
        column: int | None = None,
        animate: bool = False,
        scroll: bool = True,
    ) -> None:
        if row is not None:
            self.cursor_row = row
        if column is not None:
            self.cursor_column = column
        self._clamp_cursor()
        if scroll:
            self._scroll_to_cursor()
        self.refresh()
        self._announce()

    def _scroll_to_cursor(self) -> None:
        visible = max(self.size.height - 1, 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def _announce(self) -> None:
        now = (self.current_key(), self.current_column())
        if now != self._last_announced:
            self._last_announced = now
            self.post_message(self.Highlighted(self, *now))

    def action_move(self, rows: int, columns: int) -> None:
        self.move_cursor(
            row=self.cursor_row + rows,
            column=self.cursor_column + columns if self.cursor_type == "cell" else None,
        )

    def action_page(self, direction: int) -> None:
        self.move_cursor(row=self.cursor_row + direction * max(self.size.height - 2, 1))

    def action_edge(self, direction: int) -> None:
        self.move_cursor(row=0 if direction < 0 else len(self._order) - 1)

    def action_select(self) -> None:
        if self.current_key() is not None:
            self.post_message(self.Selected(self, self.current_key(), self.current_column()))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            return
        row = int(self.scroll_y) + event.y - 1
        x = int(self.scroll_x) + event.x
        column = 0
        for i, w in self._shown:
            x -= w + 2 * PAD
            if x < 0:
                column = i
                break
        if row < len(self._order):
            self.move_cursor(
                row=row, column=column if self.cursor_type == "cell" else None, scroll=False
            )
            if event.chain >= 2:
                self.action_select()

    # Rendering -------------------------------------------------------------------
    def _row_text(self, cells: Sequence[Text], highlight: int | None, cursor: Style | None) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, width in self._shown:
            cell = cells[i] if i < len(cells) else Text()
            if cell.cell_len > width:
                cell = cell.copy()
                cell.truncate(width, overflow="ellipsis")
            start = len(line)
            line.append(" " * PAD)
            line.append_text(cell)
            line.append(" " * (width - cell.cell_len + PAD))
            if cursor is not None and (highlight is None or highlight == i):
                line.stylize(cursor, start, len(line))
        return line

    def _strip(self, key: str, base: Style) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            text = self._row_text(self._cells[key], None, None)
            strip = Strip(text.render(self.app.console), text.cell_len).apply_style(base)
            self._strips[key] = strip
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        scroll_x = int(self.scroll_x)
        if y == 0:
            header = self.get_component_rich_style("livetable--header")
            labels = [
                Text(label) if isinstance(label, str) else label for _, label, _ in self._columns
            ]
            text = self._row_text(labels, None, None)
            strip = Strip(text.render(self.app.console), text.cell_len).apply_style(base + header)
            return strip.crop_extend(scroll_x, scroll_x + width, base + header)
        index = int(self.scroll_y) + y - 1
        if index >= len(self._order):
            return Strip.blank(width, base)
        key = self._order[index]
        if index == self.cursor_row:
            cursor = self.get_component_rich_style("livetable--cursor")
            highlight = None if self.cursor_type == "row" else self.cursor_column
            text = self._row_text(self._cells[key], highlight, cursor)
            strip = Strip(text.render(self.app.console), text.cell_len).apply_style(base)
        else:
            strip = self._strip(key, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def on_resize(self) -> None:
        self._relayout()
        self._scroll_to_cursor()

    def watch_show_vertical_scrollbar(self) -> None:
        # The scrollbar takes columns from the room the table fits into.
        self._relayout()
