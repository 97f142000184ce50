"""ScrollBox: a scrolling panel (help, sources) that j/k move like the arrow keys."""

from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll


class ScrollBox(VerticalScroll):
    """A VerticalScroll with j/k bound beside up/down, as every table in the cockpit has."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]
