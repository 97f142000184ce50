"""The dialog's checkbox, readable on a NO_COLOR terminal (see screens/nocolor.py).

Its own module so that the first frame, which shows no dialog, does not load Checkbox.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox


class TickBox(Checkbox):
    """A Checkbox that reads `[x]`/`[ ]` when colour cannot tell ticked from not."""

    @property
    def _button(self) -> Content:
        if not self.app.no_color:
            return super()._button
        return Content("[x]" if self.value else "[ ]")
